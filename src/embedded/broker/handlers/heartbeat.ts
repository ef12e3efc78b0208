import type { Handler } from '../context.js';

/** Keeps a member alive and tells it when the group is rebalancing. */
export const heartbeat: Handler<12> = (request, { broker }) => ({
  throttleTimeMs: 0,
  errorCode: broker.coordinator.heartbeat(request.groupId, request.memberId, request.generationId),
});
