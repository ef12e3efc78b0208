import { BatchAttributes, ErrorCode, RecordBatchError, validateBatches } from './protocol/index.js';
import { ProducerStateTable } from './producer-state.js';
import type { PartitionLog } from './storage/partition-log.js';

export interface ProduceResult {
  errorCode: number;
  /** Offset of the first batch (its original offset when the batch was a retried duplicate). */
  baseOffset: number;
  errorMessage: string | null;
}

/** Called with the number of bytes appended; how waiting fetches learn about new data. */
export type AppendListener = (bytes: number) => void;

/**
 * One partition of a topic: its log, the idempotent producer state, and the fetches waiting for
 * new data. The only writer of the log, so checks and append happen in one synchronous step.
 */
export class Partition {
  private readonly producers = new ProducerStateTable();
  private readonly listeners = new Set<AppendListener>();

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
  ) {
    log.recentBatches(({ header }) => {
      if (header.producerId >= 0n) {
        this.producers.record(Number(header.producerId), header.producerEpoch, header.baseSequence, header.recordCount, Number(header.baseOffset));
      }
    });
  }

  /** Validates and appends the `records` of a Produce request for this partition. */
  produce(records: Buffer | null, maxMessageBytes: number): ProduceResult {
    let batches;
    try {
      batches = validateBatches(records ?? Buffer.alloc(0));
    } catch (error) {
      if (error instanceof RecordBatchError) return failure(error.errorCode, error.message);
      throw error;
    }
    if (batches.length === 0) return failure(ErrorCode.CORRUPT_MESSAGE, 'the request has no record batch');
    for (const { batch, header } of batches) {
      if (batch.length > maxMessageBytes) {
        return failure(ErrorCode.MESSAGE_TOO_LARGE, `record batch of ${batch.length} bytes exceeds the limit of ${maxMessageBytes}`);
      }
      if (header.attributes & (BatchAttributes.TRANSACTIONAL | BatchAttributes.CONTROL)) {
        return failure(ErrorCode.INVALID_RECORD, 'transactional record batches are not supported by the embedded broker');
      }
    }

    let firstOffset = -1;
    let appendedBytes = 0;
    for (const { batch, header } of batches) {
      const producerId = Number(header.producerId);
      let baseOffset: number;
      if (producerId >= 0) {
        const check = this.producers.check(producerId, header.producerEpoch, header.baseSequence, header.recordCount);
        if (check.kind === 'reject') {
          return failure(check.errorCode, `producer ${producerId} epoch ${header.producerEpoch} sent sequence ${header.baseSequence} out of order`);
        }
        if (check.kind === 'duplicate') baseOffset = check.baseOffset;
        else {
          baseOffset = this.log.append(batch, header.lastOffsetDelta);
          this.producers.record(producerId, header.producerEpoch, header.baseSequence, header.recordCount, baseOffset);
          appendedBytes += batch.length;
        }
      } else {
        baseOffset = this.log.append(batch, header.lastOffsetDelta);
        appendedBytes += batch.length;
      }
      if (firstOffset < 0) firstOffset = baseOffset;
    }
    if (appendedBytes > 0) for (const listener of this.listeners) listener(appendedBytes);
    return { errorCode: ErrorCode.NONE, baseOffset: firstOffset, errorMessage: null };
  }

  /** Registers a listener for appends; returns the function that removes it. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Producer ids seen in the log, so new ids never collide with them after a restart. */
  maxProducerId(): number {
    return this.producers.maxProducerId();
  }
}

function failure(errorCode: number, errorMessage: string): ProduceResult {
  return { errorCode, baseOffset: -1, errorMessage };
}
