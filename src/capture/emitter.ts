import type { CaptureMetrics } from '../observability/metrics.js';
import type { TrackedTransaction } from './ack-tracker.js';
import type { TableCodec } from './codecs.js';
import type { ChangeEvent } from './events.js';
import type { EventSender } from './sender.js';

/**
 * Encodes a change and hands its messages (the event, and a tombstone after a delete) to the
 * sender, counted against its transaction so the slot only moves past it once Kafka acknowledged
 * them all. Returns a promise while the sender is full: the caller awaits it, which pauses reading.
 */
export function emitChange(sender: EventSender, metrics: CaptureMetrics, codec: TableCodec, change: ChangeEvent, transaction: TrackedTransaction): Promise<void> | undefined {
  let wait: Promise<void> | undefined;
  let metricCounted = false;
  const acknowledged = {
    acknowledge(count: number) {
      transaction.acknowledge(count);
      if (!metricCounted) {
        metricCounted = true;
        metrics.events.inc({ table: codec.table, op: change.op });
      }
    },
  };
  const describe = () => `${codec.table} key ${codec.describeKey(change)}`;
  for (const message of codec.encode(change)) {
    transaction.sent();
    wait = sender.enqueue({ ...message, acknowledged, describe }) ?? wait;
  }
  return wait;
}
