import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';
import type { OffsetCommitEntry } from '../storage/offset-store.js';

/** Stores a group's consumed positions (durably before answering under `--fsync always`). */
export const offsetCommit: Handler<8> = async (request, { broker }) => {
  const entries: OffsetCommitEntry[] = [];
  for (const topic of request.topics) {
    for (const p of topic.partitions) {
      if (!broker.topics.partition(topic.name, p.partitionIndex)) continue;
      entries.push({
        topic: topic.name,
        partition: p.partitionIndex,
        offset: Number(p.committedOffset),
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata,
      });
    }
  }
  const errorCode = await broker.coordinator.commit(request.groupId, request.memberId, request.generationId, entries);
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex }) => ({
        partitionIndex,
        errorCode: broker.topics.partition(topic.name, partitionIndex) ? errorCode : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      })),
    })),
  };
};
