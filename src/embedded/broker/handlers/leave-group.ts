import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Removes members (one in v0-2, a list in v3+) and rebalances the rest. */
export const leaveGroup: Handler<13> = (request, { broker, header }) => {
  if (header.apiVersion < 3) {
    const [errorCode] = broker.coordinator.leave(request.groupId, [request.memberId]);
    return { throttleTimeMs: 0, errorCode, members: [] };
  }
  const errorCodes = broker.coordinator.leave(request.groupId, request.members.map((m) => m.memberId));
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    members: request.members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: errorCodes[i] })),
  };
};
