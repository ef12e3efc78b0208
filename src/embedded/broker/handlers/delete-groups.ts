import type { Handler } from '../context.js';

/** Deletes empty groups and their committed offsets. */
export const deleteGroups: Handler<42> = (request, { broker }) => ({
  throttleTimeMs: 0,
  results: request.groupsNames.map((groupId) => ({ groupId, errorCode: broker.coordinator.delete(groupId) })),
});
