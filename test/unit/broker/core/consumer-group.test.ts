import { describe, expect, it } from 'vitest';
import {
  checkCommit,
  expire,
  heartbeat,
  join,
  leave,
  MAX_SESSION_TIMEOUT_MS,
  MIN_SESSION_TIMEOUT_MS,
  newConsumerGroup,
  sync,
  type ConsumerGroup,
  type JoinRequest,
  type Notice,
} from '../../../../src/embedded/broker/group/consumer-group.js';
import { ErrorCode } from '../../../../src/embedded/broker/protocol/error-code.js';

const SESSION = 10_000;
const REBALANCE = 30_000;

function request(memberId: string, overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    memberId,
    groupInstanceId: null,
    clientId: 'app',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    protocolType: 'consumer',
    protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from('m') }],
    requireKnownMemberId: true,
    ...overrides,
  };
}

/** Joins a brand-new member through the MEMBER_ID_REQUIRED round trip; returns its id and the notices. */
function joinNew(group: ConsumerGroup, now: number): { memberId: string; notices: Notice[] } {
  const first = join(group, request(''), now);
  expect(first.answer?.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  const memberId = first.answer!.memberId;
  const second = join(group, request(memberId), now);
  expect(second.waitAs).toBe(memberId);
  return { memberId, notices: second.notices };
}

function joinsFor(notices: Notice[]) {
  return new Map(notices.flatMap((n) => ('join' in n ? [[n.memberId, n.join] as const] : [])));
}

function syncsFor(notices: Notice[]) {
  return new Map(notices.flatMap((n) => ('sync' in n ? [[n.memberId, n.sync] as const] : [])));
}

/** Runs a full rebalance for a group of one member: join, then the leader's sync. */
function stableGroupOf(now: number): { group: ConsumerGroup; leader: string } {
  const group = newConsumerGroup('g');
  const { memberId, notices } = joinNew(group, now);
  expect(joinsFor(notices).get(memberId)?.generationId).toBe(1);
  const done = sync(group, { memberId, generationId: 1, assignments: [{ memberId, assignment: Buffer.from('all') }] }, now);
  expect(syncsFor(done.notices).get(memberId)?.assignment.toString()).toBe('all');
  expect(group.state).toBe('Stable');
  return { group, leader: memberId };
}

describe('consumer group state machine', () => {
  it('asks a new member (JoinGroup v4+) to rejoin with the member id it hands out', () => {
    const group = newConsumerGroup('g');
    const outcome = join(group, request(''), 0);
    expect(outcome.answer).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED });
    expect(outcome.answer!.memberId).toMatch(/^app-/);
    expect(group.state).toBe('Empty');
    expect(group.pendingMembers.has(outcome.answer!.memberId)).toBe(true);
  });

  it('accepts a new member directly on JoinGroup before v4', () => {
    const group = newConsumerGroup('g');
    const outcome = join(group, request('', { requireKnownMemberId: false }), 0);
    expect(outcome.waitAs).toBeDefined();
    const answer = joinsFor(outcome.notices).get(outcome.waitAs!);
    expect(answer).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader: outcome.waitAs });
  });

  it('makes the first member leader and sends it every member\'s metadata', () => {
    const group = newConsumerGroup('g');
    const { memberId, notices } = joinNew(group, 0);
    const answer = joinsFor(notices).get(memberId)!;
    expect(answer.leader).toBe(memberId);
    expect(answer.protocolName).toBe('RoundRobinAssigner');
    expect(answer.members.map((m) => m.memberId)).toEqual([memberId]);
    expect(group.state).toBe('CompletingRebalance');
  });

  it('rebalances when a second member joins, waiting for the first to rejoin', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: second, notices } = joinNew(group, 100);
    expect(notices).toEqual([]);
    expect(group.state).toBe('PreparingRebalance');
    expect(heartbeat(group, leader, 1, 200)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);

    const rejoin = join(group, request(leader), 300);
    const answers = joinsFor(rejoin.notices);
    expect(answers.get(leader)!.members.map((m) => m.memberId).sort()).toEqual([leader, second].sort());
    expect(answers.get(second)!.members).toEqual([]);
    expect(answers.get(second)!.generationId).toBe(2);
    expect(group.state).toBe('CompletingRebalance');
  });

  it('parks followers\' SyncGroup until the leader sends the assignment', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: follower } = joinNew(group, 0);
    join(group, request(leader), 0);

    const parked = sync(group, { memberId: follower, generationId: 2, assignments: [] }, 0);
    expect(parked).toEqual({ waitAs: follower, notices: [] });
    const assignments = [
      { memberId: leader, assignment: Buffer.from('p0') },
      { memberId: follower, assignment: Buffer.from('p1') },
    ];
    const done = sync(group, { memberId: leader, generationId: 2, assignments }, 0);
    const syncs = syncsFor(done.notices);
    expect(syncs.get(follower)!.assignment.toString()).toBe('p1');
    expect(syncs.get(leader)!.assignment.toString()).toBe('p0');
    expect(group.state).toBe('Stable');
  });

  it('rejects heartbeats and commits from an old generation', () => {
    const { group, leader } = stableGroupOf(0);
    expect(heartbeat(group, leader, 0, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(checkCommit(group, leader, 0, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(checkCommit(group, leader, 1, 1)).toBe(ErrorCode.NONE);
    expect(heartbeat(group, 'stranger', 1, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('accepts commits of the current generation while a rebalance is being prepared', () => {
    const { group, leader } = stableGroupOf(0);
    joinNew(group, 0);
    expect(group.state).toBe('PreparingRebalance');
    expect(checkCommit(group, leader, 1, 0)).toBe(ErrorCode.NONE);
  });

  it('rebalances the remaining members when one leaves', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: follower } = joinNew(group, 0);
    join(group, request(leader), 0);
    sync(group, { memberId: leader, generationId: 2, assignments: [] }, 0);

    const left = leave(group, [leader], 10);
    expect(left.errorCodes).toEqual([ErrorCode.NONE]);
    expect(group.state).toBe('PreparingRebalance');
    const rejoin = join(group, request(follower), 20);
    const answer = joinsFor(rejoin.notices).get(follower)!;
    expect(answer).toMatchObject({ generationId: 3, leader: follower });
  });

  it('becomes Empty when the last member leaves', () => {
    const { group, leader } = stableGroupOf(0);
    leave(group, [leader], 10);
    expect(group.state).toBe('Empty');
    expect(group.members.size).toBe(0);
    expect(checkCommit(group, '', -1, 10)).toBe(ErrorCode.NONE);
  });

  it('removes a member that misses its session timeout and rebalances the rest', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: follower } = joinNew(group, 0);
    join(group, request(leader), 0);
    sync(group, { memberId: leader, generationId: 2, assignments: [] }, 0);
    sync(group, { memberId: follower, generationId: 2, assignments: [] }, 0);

    heartbeat(group, follower, 2, SESSION - 1);
    expect(expire(group, SESSION - 1)).toEqual([]);
    expect(expire(group, SESSION + 1)).toEqual([]);
    expect([...group.members.keys()]).toEqual([follower]);
    expect(group.state).toBe('PreparingRebalance');
  });

  it('removes members that do not rejoin before the rebalance timeout', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: newcomer } = joinNew(group, 0);
    heartbeat(group, leader, 1, 5_000); // alive, but never rejoins
    for (let t = 6_000; t < REBALANCE; t += 4_000) heartbeat(group, leader, 1, t);
    const notices = expire(group, REBALANCE);
    expect([...group.members.keys()]).toEqual([newcomer]);
    expect(joinsFor(notices).get(newcomer)).toMatchObject({ generationId: 2, leader: newcomer });
  });

  it('answers a parked JoinGroup with UNKNOWN_MEMBER_ID when its member is removed', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: newcomer } = joinNew(group, 0);
    const left = leave(group, [newcomer], 1);
    expect(joinsFor(left.notices).get(newcomer)?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoin = join(group, request(leader), 2);
    expect(joinsFor(rejoin.notices).get(leader)?.generationId).toBe(2);
  });

  it('tells parked followers to rejoin when a rebalance starts before the leader syncs', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: follower } = joinNew(group, 0);
    join(group, request(leader), 0);
    sync(group, { memberId: follower, generationId: 2, assignments: [] }, 0);
    const { notices } = joinNew(group, 1);
    expect(syncsFor(notices).get(follower)?.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(group.state).toBe('PreparingRebalance');
  });

  it('answers a follower rejoining unchanged with the current generation', () => {
    const { group, leader } = stableGroupOf(0);
    const { memberId: follower } = joinNew(group, 0);
    join(group, request(leader), 0);
    sync(group, { memberId: leader, generationId: 2, assignments: [] }, 0);
    const again = join(group, request(follower), 1);
    expect(again.answer).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2, leader });
    expect(group.state).toBe('Stable');
  });

  it('refuses a member whose protocols share nothing with the group', () => {
    const { group } = stableGroupOf(0);
    const outcome = join(group, request('', { protocols: [{ name: 'Other', metadata: Buffer.alloc(0) }] }), 0);
    expect(outcome.answer?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('forgets handed-out member ids that never come back', () => {
    const group = newConsumerGroup('g');
    const { answer } = join(group, request(''), 0);
    expire(group, SESSION + 1);
    expect(group.pendingMembers.size).toBe(0);
    expect(join(group, request(answer!.memberId), SESSION + 2).answer?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it("refuses a session timeout outside Kafka's default bounds (6 s to 30 min) with INVALID_SESSION_TIMEOUT", () => {
    const group = newConsumerGroup('bounded');
    for (const sessionTimeoutMs of [MIN_SESSION_TIMEOUT_MS - 1, MAX_SESSION_TIMEOUT_MS + 1, 0]) {
      expect(join(group, request('', { sessionTimeoutMs }), 0).answer?.errorCode, `session ${sessionTimeoutMs} ms`).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    for (const sessionTimeoutMs of [MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS]) {
      expect(join(group, request('', { sessionTimeoutMs }), 0).answer?.errorCode, `session ${sessionTimeoutMs} ms`).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    }
  });
});
