import { NODE_ID, type Handler } from '../context.js';
import { ErrorCode, type MetadataResponseTopic } from '../protocol/index.js';
import { topicNameProblem, type Topic } from '../topics.js';

/** The one broker and the requested topics (all of them when the request lists none), auto-creating if allowed. */
export const metadata: Handler<3> = (request, { broker, header }) => {
  const { topics } = broker;
  const wantsAll = request.topics === null || (header.apiVersion === 0 && request.topics.length === 0);
  const described: MetadataResponseTopic[] = wantsAll
    ? topics.all().map(describeTopic)
    : request.topics!.map(({ name }) => {
        const topic = topics.get(name) ?? (request.allowAutoTopicCreation && topics.autoCreate(name) ? topics.get(name) : undefined);
        if (topic) return describeTopic(topic);
        const errorCode = topicNameProblem(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        return { errorCode, name, isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 };
      });
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: broker.advertised.host, port: broker.advertised.port, rack: null }],
    clusterId: topics.clusterId,
    controllerId: NODE_ID,
    topics: described,
    clusterAuthorizedOperations: -2147483648,
  };
};

function describeTopic(topic: Topic): MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    isInternal: false,
    partitions: topic.partitions.map((partition) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: partition.index,
      leaderId: NODE_ID,
      leaderEpoch: 0,
      replicaNodes: [NODE_ID],
      isrNodes: [NODE_ID],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: -2147483648,
  };
}
