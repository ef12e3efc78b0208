import type { BrokerContext, Handler } from '../context.js';
import { ErrorCode, type OffsetFetchResponsePartition } from '../protocol/index.js';

type WantedTopics = { name: string; partitionIndexes: number[] }[] | null;

/** A group's committed offsets (-1 where none); `topics = null` asks for all of them. v8 batches groups. */
export const offsetFetch: Handler<9> = (request, { broker, header }) => {
  if (header.apiVersion >= 8) {
    return {
      throttleTimeMs: 0,
      groupIds: request.groups.map((group) => ({
        groupId: group.groupId,
        topics: committedOffsets(broker, group.groupId, group.topics),
        errorCode: ErrorCode.NONE,
      })),
    };
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics: committedOffsets(broker, request.groupId, request.topics) };
};

function committedOffsets(broker: BrokerContext, groupId: string, topics: WantedTopics): { name: string; partitions: OffsetFetchResponsePartition[] }[] {
  const { coordinator } = broker;
  if (topics === null) {
    const byTopic = new Map<string, OffsetFetchResponsePartition[]>();
    for (const entry of coordinator.allCommitted(groupId)) {
      if (!byTopic.has(entry.topic)) byTopic.set(entry.topic, []);
      byTopic.get(entry.topic)!.push(found(entry.partition, entry.offset, entry.leaderEpoch, entry.metadata));
    }
    return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
  }
  return topics.map(({ name, partitionIndexes }) => ({
    name,
    partitions: partitionIndexes.map((partition) => {
      const committed = coordinator.committed(groupId, name, partition);
      return committed ? found(partition, committed.offset, committed.leaderEpoch, committed.metadata) : found(partition, -1, -1, '');
    }),
  }));
}

function found(partitionIndex: number, offset: number, leaderEpoch: number, metadata: string | null): OffsetFetchResponsePartition {
  return { partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: leaderEpoch, metadata, errorCode: ErrorCode.NONE };
}
