import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Moves partitions' log start offset forward (offset -1 = the high watermark), dropping whole segments below it. */
export const deleteRecords: Handler<21> = (request, { broker }) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map(({ partitionIndex, offset }) => {
      const partition = broker.topics.partition(topic.name, partitionIndex);
      if (!partition) return { partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      const { log } = partition;
      const target = offset === -1n ? log.logEndOffset : Number(offset);
      if (target < 0 || target > log.logEndOffset) {
        return { partitionIndex, lowWatermark: BigInt(log.logStartOffset), errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
      }
      broker.topics.deleteRecordsBefore(partition, target);
      return { partitionIndex, lowWatermark: BigInt(log.logStartOffset), errorCode: ErrorCode.NONE };
    }),
  })),
});
