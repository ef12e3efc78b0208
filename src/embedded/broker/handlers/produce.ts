import type { Handler } from '../context.js';
import { ErrorCode, type ProduceResponse } from '../protocol/index.js';

/**
 * Appends each partition's record batches as received (offsets assigned, compression untouched).
 * acks=0 gets no response; acks=-1 under `--fsync always` is answered once the batches are on disk.
 */
export const produce: Handler<0> = (request, { broker }) => {
  const { topics, options, durability } = broker;
  let appended = false;
  const response: ProduceResponse = {
    throttleTimeMs: 0,
    responses: request.topicData.map((topicData) => {
      const topic = topics.get(topicData.name);
      const maxMessageBytes = Number(topic?.configs['max.message.bytes'] ?? options.maxMessageBytes);
      return {
        name: topicData.name,
        partitionResponses: topicData.partitionData.map(({ index, records }) => {
          const partition = topic?.partitions[index];
          const refusal = partition ? refuse(request.acks, request.transactionalId) : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          if (refusal !== ErrorCode.NONE || !partition) {
            return { index, errorCode: refusal, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null };
          }
          const result = partition.produce(records, maxMessageBytes);
          if (result.errorCode === ErrorCode.NONE) appended = true;
          else broker.logger.debug({ topic: topicData.name, partition: index, reason: result.errorMessage }, 'produce refused');
          return {
            index,
            errorCode: result.errorCode,
            baseOffset: BigInt(result.baseOffset),
            logAppendTimeMs: -1n,
            logStartOffset: BigInt(partition.log.logStartOffset),
            recordErrors: [],
            errorMessage: result.errorMessage,
          };
        }),
      };
    }),
  };
  if (request.acks === 0) return null;
  if (request.acks === -1 && appended && durability.syncBeforeAck) return durability.flush().then(() => response);
  return response;
};

function refuse(acks: number, transactionalId: string | null): number {
  if (acks !== 0 && acks !== 1 && acks !== -1) return ErrorCode.INVALID_REQUIRED_ACKS;
  if (transactionalId !== null) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  return ErrorCode.NONE;
}
