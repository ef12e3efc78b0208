import { TandemError } from '../errors.js';
import type { TrackedTransaction } from './ack-tracker.js';
import type { TableCodec } from './codecs.js';
import type { ChangeEvent } from './events.js';
import type { EventSender } from './sender.js';

/** Largest event accepted; a larger one stops capture before it is acknowledged, naming the row. */
export const MAX_EVENT_BYTES = 1024 * 1024;

/**
 * Encodes a change and hands its messages (the event, and a tombstone after a delete, so that
 * compaction can drop the key) to the sender, counted against its transaction: the slot only moves
 * past the transaction once Kafka acknowledged them all. Returns a promise while the sender is
 * full: the caller awaits it, which pauses reading from the WAL.
 */
export function emitChange(sender: EventSender, codec: TableCodec, change: ChangeEvent, transaction: TrackedTransaction): Promise<void> | undefined {
  const { key, value } = codec.encode(change);
  const size = value.length + (key?.length ?? 0);
  if (size > MAX_EVENT_BYTES) {
    throw new TandemError(`change event for ${codec.table} key ${codec.describeKey(change)} is ${size} bytes, over the ${MAX_EVENT_BYTES}-byte limit; capture stopped before acknowledging it`, {
      fix: "exclude the oversized column from the publication (a column list) or shrink the value; Kafka's default max.message.bytes is 1 MiB",
    });
  }
  transaction.sent();
  let wait = sender.enqueue({ topic: codec.topic, key, value, transaction, table: codec.table, op: change.op });
  if (change.op === 'd' && key) {
    transaction.sent();
    wait = sender.enqueue({ topic: codec.topic, key, value: null, transaction, table: codec.table, op: null }) ?? wait;
  }
  return wait;
}
