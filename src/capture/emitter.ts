import { TandemError } from '../errors.js';
import type { TrackedTransaction } from './ack-tracker.js';
import type { TableCodec } from './codecs.js';
import type { ChangeEvent } from './events.js';
import type { AcknowledgementTarget, MessageSender, OutgoingMessage } from './sender.js';

/** Largest event accepted; a larger one stops capture before it is acknowledged, naming the row. */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** Where a table's messages go: the topic, its partition count, whether events carry a key. */
export type MessageRoute = Pick<TableCodec, 'table' | 'topic' | 'partitions' | 'hasKey'>;

/**
 * The Kafka messages of one encoded change event, each counted against `ack`:
 * - keyed: one message, partitioned by key; a delete is followed by a tombstone of its key, so
 *   that compaction can drop the key;
 * - a table without key: one message on partition 0, so the topic keeps all its events in order;
 * - a truncate: the same event on every partition, so that on each partition it comes after every
 *   earlier event and before every later one, and a consumer of any partition sees it in place.
 * Only the first message counts as an event in metrics (op null on tombstones and truncate copies).
 */
export function messagesOf(route: MessageRoute, op: ChangeEvent['op'], key: Buffer | null, value: Buffer, ack: AcknowledgementTarget | null): OutgoingMessage[] {
  const { topic, table } = route;
  if (op === 't') return Array.from({ length: route.partitions }, (_, partition) => ({ topic, partition, key: null, value, ack, table, op: partition === 0 ? op : null }));
  if (!route.hasKey) return [{ topic, partition: 0, key: null, value, ack, table, op }];
  const event: OutgoingMessage = { topic, key, value, ack, table, op };
  return op === 'd' ? [event, { topic, key, value: null, ack, table, op: null }] : [event];
}

/**
 * Encodes a change and hands its messages to the sender, each counted against `ack` (the source
 * transaction, or null when the caller waits with flush()): the slot only moves past a transaction
 * once Kafka acknowledged all its messages. Returns a promise while the sender is full: the caller
 * awaits it, which pauses reading from the WAL.
 */
export function emitChange(sender: MessageSender, codec: TableCodec, change: ChangeEvent, ack: TrackedTransaction | null): Promise<void> | undefined {
  const { key, value } = codec.encode(change);
  const size = value.length + (key?.length ?? 0);
  if (size > MAX_EVENT_BYTES) {
    throw new TandemError(`change event for ${codec.table} key ${codec.describeKey(change)} is ${size} bytes, over the ${MAX_EVENT_BYTES}-byte limit; capture stopped before acknowledging it`, {
      fix: "exclude the oversized column from the publication (a column list) or shrink the value; Kafka's default max.message.bytes is 1 MiB",
    });
  }
  let wait: Promise<void> | undefined;
  for (const message of messagesOf(codec, change.op, key, value, ack)) {
    ack?.sent();
    wait = sender.enqueue(message) ?? wait;
  }
  return wait;
}
