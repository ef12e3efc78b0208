import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';
import type { PartitionLog } from '../storage/partition-log.js';

const LATEST = -1n;
const EARLIEST = -2n;

/** Offsets by time: -1 = the log end, -2 = the log start, otherwise the first batch at or after the timestamp. */
export const listOffsets: Handler<2> = (request, { broker, header }) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map(({ partitionIndex, timestamp }) => {
      const partition = broker.topics.partition(topic.name, partitionIndex);
      if (!partition) {
        return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1 };
      }
      const found = lookup(partition.log, timestamp);
      return {
        partitionIndex,
        errorCode: ErrorCode.NONE,
        oldStyleOffsets: header.apiVersion === 0 && found.offset >= 0n ? [found.offset] : [],
        timestamp: found.timestamp,
        offset: found.offset,
        leaderEpoch: 0,
      };
    }),
  })),
});

function lookup(log: PartitionLog, timestamp: bigint): { offset: bigint; timestamp: bigint } {
  if (timestamp === LATEST) return { offset: BigInt(log.logEndOffset), timestamp: -1n };
  if (timestamp === EARLIEST) return { offset: BigInt(log.logStartOffset), timestamp: -1n };
  // Batch granularity: the batch's base offset, whose records the consumer may skip by timestamp.
  let found = { offset: -1n, timestamp: -1n };
  log.forEachBatch(log.logStartOffset, ({ header }) => {
    if (header.maxTimestamp < timestamp) return true;
    const offset = header.baseOffset > BigInt(log.logStartOffset) ? header.baseOffset : BigInt(log.logStartOffset);
    found = { offset, timestamp: header.maxTimestamp };
    return false;
  });
  return found;
}
