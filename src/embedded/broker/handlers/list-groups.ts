import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Every group with members or committed offsets (filtered by state in v4+). */
export const listGroups: Handler<16> = (request, { broker }) => {
  const states = new Set(request.states.map((s) => s.toLowerCase()));
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    groups: broker.coordinator
      .list()
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })),
  };
};
