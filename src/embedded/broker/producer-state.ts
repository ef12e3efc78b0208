/**
 * Idempotent producer bookkeeping for one partition, after Kafka's ProducerStateManager: per producer
 * id the current epoch and the last few batches' sequence ranges, so a retried batch is recognised
 * (and answered with its original offset) and a gap in sequences is refused. Pure data; the
 * partition rebuilds it from the batch headers of its log on recovery.
 */
import { ErrorCode } from './protocol/index.js';

/** Kafka keeps the last 5 batches per producer: the most a client may have in flight. */
const BATCHES_KEPT = 5;

export interface BatchSequence {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchSequence[];
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'reject'; errorCode: number };

export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  /** Decides what to do with a batch of `recordCount` records starting at `firstSequence`. */
  check(producerId: number, epoch: number, firstSequence: number, recordCount: number): SequenceCheck {
    const entry = this.producers.get(producerId);
    if (!entry) return { kind: 'append' }; // first batch we see of this producer: accept its numbering
    if (epoch < entry.epoch) return { kind: 'reject', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
    if (epoch > entry.epoch) {
      return firstSequence === 0 ? { kind: 'append' } : { kind: 'reject', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    const lastSequence = addSequence(firstSequence, recordCount - 1);
    const known = entry.batches.find((b) => b.firstSequence === firstSequence && b.lastSequence === lastSequence);
    if (known) return { kind: 'duplicate', baseOffset: known.baseOffset };
    const previous = entry.batches[entry.batches.length - 1];
    if (firstSequence !== addSequence(previous.lastSequence, 1)) {
      return { kind: 'reject', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    return { kind: 'append' };
  }

  /** Remembers an appended (or recovered) batch. */
  record(producerId: number, epoch: number, firstSequence: number, recordCount: number, baseOffset: number): void {
    let entry = this.producers.get(producerId);
    if (!entry || epoch > entry.epoch) this.producers.set(producerId, (entry = { epoch, batches: [] }));
    entry.batches.push({ firstSequence, lastSequence: addSequence(firstSequence, recordCount - 1), baseOffset });
    if (entry.batches.length > BATCHES_KEPT) entry.batches.shift();
  }

  /** Largest producer id seen (so ids handed out after a restart never collide with logged ones). */
  maxProducerId(): number {
    return Math.max(-1, ...this.producers.keys());
  }
}

/** Sequence numbers wrap from 2^31-1 to 0. */
function addSequence(sequence: number, increment: number): number {
  return (sequence + increment) % 2 ** 31;
}
