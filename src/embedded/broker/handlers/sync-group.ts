import type { Handler } from '../context.js';

/** Delivers each member its assignment once the leader has sent them. */
export const syncGroup: Handler<14> = async (request, { broker }) => {
  const answer = await broker.coordinator.sync(request.groupId, {
    memberId: request.memberId,
    generationId: request.generationId,
    assignments: request.assignments,
  });
  return { throttleTimeMs: 0, errorCode: answer.errorCode, assignment: answer.assignment };
};
