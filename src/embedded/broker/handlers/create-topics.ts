import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Creates topics on this single node: replication factor 1 (or -1 = default), any partition count. */
export const createTopics: Handler<19> = (request, { broker }) => {
  const seen = new Set<string>();
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => {
      const { name } = topic;
      if (seen.has(name)) return { name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Topic '${name}' appears twice in the request.` };
      seen.add(name);
      if (topic.replicationFactor !== 1 && topic.replicationFactor !== -1 && topic.assignments.length === 0) {
        return { name, errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'Replication factor must be 1: the embedded broker has one node.' };
      }
      const partitions = topic.assignments.length > 0 ? topic.assignments.length : topic.numPartitions === -1 ? broker.options.defaultPartitions : topic.numPartitions;
      const configs = Object.fromEntries(topic.configs.filter((c) => c.value !== null).map((c) => [c.name, c.value as string]));
      return { name, ...broker.topics.create(name, partitions, configs, request.validateOnly) };
    }),
  };
};
