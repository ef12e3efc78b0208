import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Joins (or rejoins) a consumer group; the answer waits until the rebalance completes. */
export const joinGroup: Handler<11> = async (request, { broker, header, session }) => {
  const nullableName = header.apiVersion >= 7;
  if (request.groupId === '') {
    return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID, generationId: -1, protocolName: nullableName ? null : '', leader: '', memberId: '', members: [] };
  }
  const answer = await broker.coordinator.join(request.groupId, {
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    clientId: header.clientId ?? '',
    clientHost: session.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs,
    // v0 has no rebalance timeout: Kafka then uses the session timeout.
    rebalanceTimeoutMs: request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
    protocolType: request.protocolType,
    protocols: request.protocols,
    requireKnownMemberId: header.apiVersion >= 4,
  });
  return {
    throttleTimeMs: 0,
    errorCode: answer.errorCode,
    generationId: answer.generationId,
    protocolType: answer.protocolType,
    protocolName: answer.protocolName ?? (nullableName ? null : ''),
    leader: answer.leader,
    skipAssignment: false,
    memberId: answer.memberId,
    members: answer.members,
  };
};
