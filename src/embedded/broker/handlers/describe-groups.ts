import type { Handler } from '../context.js';
import { memberMetadata } from '../group/consumer-group.js';
import { ErrorCode } from '../protocol/index.js';

/** State, protocol and members (with metadata and assignment bytes) of each group; unknown groups are "Dead". */
export const describeGroups: Handler<15> = (request, { broker }) => ({
  throttleTimeMs: 0,
  groups: request.groups.map((groupId) => {
    const group = broker.coordinator.group(groupId);
    if (!group) {
      const known = broker.coordinator.list().some((g) => g.groupId === groupId);
      return { errorCode: ErrorCode.NONE, groupId, groupState: known ? 'Empty' : 'Dead', protocolType: known ? 'consumer' : '', protocolData: '', members: [], authorizedOperations: -2147483648 };
    }
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: group.protocolName ?? '',
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        memberMetadata: memberMetadata(group, member),
        memberAssignment: member.assignment,
      })),
      authorizedOperations: -2147483648,
    };
  }),
});
