/**
 * The consumer group state machine of a group coordinator, after Apache Kafka's GroupCoordinator:
 *
 *   Empty ──join──▶ PreparingRebalance ──all members joined / rebalance timeout──▶ CompletingRebalance
 *     ▲                    ▲                                                           │ leader's SyncGroup
 *     └── last member gone ┴──────── member joins, leaves or misses its session ◀── Stable ◀┘
 *
 * No I/O and no clock (callers pass `now`); new member ids are random UUIDs, as Kafka's are. Each operation updates the group it is
 * given and returns the answer for the caller, or `waitAs` when the caller's answer comes later, plus
 * `notices`: answers owed to members whose JoinGroup/SyncGroup requests are parked.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../protocol/index.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

/** What a member states about itself when it joins. */
export interface MemberSettings {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: MemberProtocol[];
}

export interface Member extends MemberSettings {
  assignment: Buffer;
  /** A JoinGroup of this member is parked until the rebalance completes. */
  awaitingJoin: boolean;
  /** A SyncGroup of this member is parked until the leader sends the assignment. */
  awaitingSync: boolean;
  /** The member is removed when it is not heard from by then (unless its request is parked). */
  sessionDeadline: number;
}

export interface ConsumerGroup {
  groupId: string;
  state: GroupState;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  /** In join order: the first member becomes leader when the old leader is gone. */
  members: Map<string, Member>;
  /** Member ids handed out with MEMBER_ID_REQUIRED, until they join with them (or expire). */
  pendingMembers: Map<string, number>;
  /** PreparingRebalance ends by this time even if some members have not rejoined. */
  rebalanceDeadline: number;
}

export interface JoinAnswer {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** Filled for the leader only: every member with its metadata for the chosen protocol. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncAnswer {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export type Notice = { memberId: string; join: JoinAnswer } | { memberId: string; sync: SyncAnswer };

export interface Outcome<A> {
  /** The caller's answer now; absent when the caller waits for a notice addressed to `waitAs`. */
  answer?: A;
  waitAs?: string;
  notices: Notice[];
}

export interface JoinRequest extends MemberSettings {
  protocolType: string;
  /** JoinGroup v4+: a new member first gets its id with MEMBER_ID_REQUIRED, then joins with it. */
  requireKnownMemberId: boolean;
}

export interface SyncRequest {
  memberId: string;
  generationId: number;
  assignments: { memberId: string; assignment: Buffer }[];
}

const EMPTY = Buffer.alloc(0);

export function newConsumerGroup(groupId: string): ConsumerGroup {
  return {
    groupId,
    state: 'Empty',
    generationId: 0,
    protocolType: null,
    protocolName: null,
    leaderId: null,
    members: new Map(),
    pendingMembers: new Map(),
    rebalanceDeadline: 0,
  };
}

/** Apache Kafka's defaults for group.min.session.timeout.ms and group.max.session.timeout.ms. */
export const MIN_SESSION_TIMEOUT_MS = 6_000;
export const MAX_SESSION_TIMEOUT_MS = 1_800_000;

export function join(group: ConsumerGroup, request: JoinRequest, now: number): Outcome<JoinAnswer> {
  if (group.state === 'Dead') return { answer: joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, request.memberId), notices: [] };
  // Like Kafka: a session shorter or longer than the broker's bounds is refused before anything else.
  if (request.sessionTimeoutMs < MIN_SESSION_TIMEOUT_MS || request.sessionTimeoutMs > MAX_SESSION_TIMEOUT_MS || request.rebalanceTimeoutMs <= 0) {
    return { answer: joinError(ErrorCode.INVALID_SESSION_TIMEOUT, request.memberId), notices: [] };
  }
  if (!acceptsProtocols(group, request)) {
    return { answer: joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, request.memberId), notices: [] };
  }

  if (request.memberId === '') {
    const memberId = `${request.clientId || 'member'}-${randomUUID()}`;
    if (request.requireKnownMemberId) {
      group.pendingMembers.set(memberId, now + request.sessionTimeoutMs);
      return { answer: joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId), notices: [] };
    }
    return addMemberAndRebalance(group, memberId, request, now);
  }
  if (group.pendingMembers.delete(request.memberId)) {
    return addMemberAndRebalance(group, request.memberId, request, now);
  }

  const member = group.members.get(request.memberId);
  if (!member) return { answer: joinError(ErrorCode.UNKNOWN_MEMBER_ID, request.memberId), notices: [] };
  const protocolsChanged = !sameProtocols(member.protocols, request.protocols);
  updateMember(member, request, now);
  switch (group.state) {
    case 'PreparingRebalance':
      member.awaitingJoin = true;
      return { waitAs: member.memberId, notices: completeJoinIfReady(group, now) };
    case 'CompletingRebalance':
    case 'Stable':
      // A rejoin that changes nothing is answered with the current generation, as Kafka does;
      // the leader rejoining (e.g. because subscriptions changed) always starts a rebalance.
      if (!protocolsChanged && (group.state === 'CompletingRebalance' || member.memberId !== group.leaderId)) {
        return { answer: joinAnswerFor(group, member.memberId), notices: [] };
      }
      member.awaitingJoin = true;
      return { waitAs: member.memberId, notices: [...prepareRebalance(group, now), ...completeJoinIfReady(group, now)] };
    default:
      return { answer: joinError(ErrorCode.UNKNOWN_MEMBER_ID, request.memberId), notices: [] };
  }
}

export function sync(group: ConsumerGroup | undefined, request: SyncRequest, now: number): Outcome<SyncAnswer> {
  const member = group?.members.get(request.memberId);
  if (!group || !member) return { answer: syncError(ErrorCode.UNKNOWN_MEMBER_ID), notices: [] };
  if (request.generationId !== group.generationId) return { answer: syncError(ErrorCode.ILLEGAL_GENERATION), notices: [] };
  member.sessionDeadline = now + member.sessionTimeoutMs;
  switch (group.state) {
    case 'PreparingRebalance':
      return { answer: syncError(ErrorCode.REBALANCE_IN_PROGRESS), notices: [] };
    case 'Stable':
      return { answer: syncAnswer(group, member.assignment), notices: [] };
    case 'CompletingRebalance': {
      member.awaitingSync = true;
      if (member.memberId !== group.leaderId) return { waitAs: member.memberId, notices: [] };
      const assigned = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
      const notices: Notice[] = [];
      for (const m of group.members.values()) {
        m.assignment = assigned.get(m.memberId) ?? EMPTY;
        if (m.awaitingSync) {
          m.awaitingSync = false;
          notices.push({ memberId: m.memberId, sync: syncAnswer(group, m.assignment) });
        }
      }
      group.state = 'Stable';
      return { waitAs: member.memberId, notices };
    }
    default:
      return { answer: syncError(ErrorCode.UNKNOWN_MEMBER_ID), notices: [] };
  }
}

export function heartbeat(group: ConsumerGroup | undefined, memberId: string, generationId: number, now: number): number {
  const member = group?.members.get(memberId);
  if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  member.sessionDeadline = now + member.sessionTimeoutMs;
  return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
}

/** Removes members that leave on purpose; answers one error code per member id. */
export function leave(group: ConsumerGroup | undefined, memberIds: string[], now: number): { errorCodes: number[]; notices: Notice[] } {
  const notices: Notice[] = [];
  const errorCodes = memberIds.map((memberId) => {
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.pendingMembers.delete(memberId)) {
      notices.push(...completeJoinIfReady(group, now));
      return ErrorCode.NONE;
    }
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    notices.push(...removeMembers(group, [memberId], now));
    return ErrorCode.NONE;
  });
  return { errorCodes, notices };
}

/**
 * Applies the passage of time: members past their session timeout are removed, pending member ids
 * expire, and a rebalance whose timeout passed completes without the members that did not rejoin.
 */
export function expire(group: ConsumerGroup, now: number): Notice[] {
  const notices: Notice[] = [];
  for (const [memberId, deadline] of group.pendingMembers) {
    if (deadline <= now) group.pendingMembers.delete(memberId);
  }
  const dead = [...group.members.values()]
    .filter((m) => !m.awaitingJoin && !m.awaitingSync && m.sessionDeadline <= now)
    .map((m) => m.memberId);
  if (dead.length > 0) notices.push(...removeMembers(group, dead, now));
  if (group.state === 'PreparingRebalance' && group.rebalanceDeadline <= now) {
    const laggards = [...group.members.values()].filter((m) => !m.awaitingJoin).map((m) => m.memberId);
    for (const memberId of laggards) group.members.delete(memberId);
    group.pendingMembers.clear();
    notices.push(...completeJoin(group, now));
  }
  if (group.state === 'PreparingRebalance') notices.push(...completeJoinIfReady(group, now));
  return notices;
}

/**
 * Whether an OffsetCommit from this member/generation is accepted. A commit counts as a heartbeat.
 * Generation -1 with no member id is a "simple" commit (admin tools), allowed while the group is empty.
 */
export function checkCommit(group: ConsumerGroup | undefined, memberId: string, generationId: number, now: number): number {
  if (generationId < 0 && memberId === '') {
    return !group || group.state === 'Empty' ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
  }
  const member = group?.members.get(memberId);
  if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
  member.sessionDeadline = now + member.sessionTimeoutMs;
  return ErrorCode.NONE;
}

/** The metadata a member sent for the group's chosen protocol (what DescribeGroups shows). */
export function memberMetadata(group: ConsumerGroup, member: Member): Buffer {
  return member.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY;
}

function addMemberAndRebalance(group: ConsumerGroup, memberId: string, request: JoinRequest, now: number): Outcome<JoinAnswer> {
  const member: Member = {
    memberId,
    groupInstanceId: request.groupInstanceId,
    clientId: request.clientId,
    clientHost: request.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    protocols: request.protocols,
    assignment: EMPTY,
    awaitingJoin: true,
    awaitingSync: false,
    sessionDeadline: now + request.sessionTimeoutMs,
  };
  group.members.set(memberId, member);
  group.protocolType = request.protocolType;
  const notices = group.state === 'PreparingRebalance' ? [] : prepareRebalance(group, now);
  return { waitAs: memberId, notices: [...notices, ...completeJoinIfReady(group, now)] };
}

function updateMember(member: Member, request: JoinRequest, now: number): void {
  member.protocols = request.protocols;
  member.sessionTimeoutMs = request.sessionTimeoutMs;
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
  member.clientId = request.clientId;
  member.clientHost = request.clientHost;
  member.sessionDeadline = now + request.sessionTimeoutMs;
}

/** Moves the group to PreparingRebalance; parked SyncGroups learn the generation is over. */
function prepareRebalance(group: ConsumerGroup, now: number): Notice[] {
  const notices: Notice[] = [];
  if (group.state === 'CompletingRebalance') {
    for (const m of group.members.values()) {
      if (m.awaitingSync) {
        m.awaitingSync = false;
        notices.push({ memberId: m.memberId, sync: syncError(ErrorCode.REBALANCE_IN_PROGRESS) });
      }
    }
  }
  for (const m of group.members.values()) m.assignment = EMPTY;
  group.state = 'PreparingRebalance';
  const longest = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
  group.rebalanceDeadline = now + longest;
  return notices;
}

function completeJoinIfReady(group: ConsumerGroup, now: number): Notice[] {
  if (group.state !== 'PreparingRebalance' || group.pendingMembers.size > 0) return [];
  for (const m of group.members.values()) if (!m.awaitingJoin) return [];
  return completeJoin(group, now);
}

/** Starts the next generation with the members that joined, and answers their JoinGroups. */
function completeJoin(group: ConsumerGroup, now: number): Notice[] {
  group.generationId += 1;
  if (group.members.size === 0) {
    group.state = 'Empty';
    group.protocolName = null;
    group.leaderId = null;
    group.protocolType = null;
    return [];
  }
  group.protocolName = chooseProtocol(group);
  if (group.leaderId === null || !group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
  group.state = 'CompletingRebalance';
  const notices: Notice[] = [];
  for (const m of group.members.values()) {
    m.awaitingJoin = false;
    m.sessionDeadline = now + m.sessionTimeoutMs;
    notices.push({ memberId: m.memberId, join: joinAnswerFor(group, m.memberId) });
  }
  return notices;
}

function removeMembers(group: ConsumerGroup, memberIds: string[], now: number): Notice[] {
  const notices: Notice[] = [];
  for (const memberId of memberIds) {
    const member = group.members.get(memberId);
    if (!member) continue;
    group.members.delete(memberId);
    if (member.awaitingJoin) notices.push({ memberId, join: joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId) });
    if (member.awaitingSync) notices.push({ memberId, sync: syncError(ErrorCode.UNKNOWN_MEMBER_ID) });
  }
  if (group.state === 'Stable' || group.state === 'CompletingRebalance') notices.push(...prepareRebalance(group, now));
  notices.push(...completeJoinIfReady(group, now));
  return notices;
}

function acceptsProtocols(group: ConsumerGroup, request: JoinRequest): boolean {
  if (request.protocolType === '' || request.protocols.length === 0) return false;
  const others = [...group.members.keys()].filter((id) => id !== request.memberId);
  if (others.length === 0) return true;
  if (group.protocolType !== request.protocolType) return false;
  const offered = new Set(request.protocols.map((p) => p.name));
  return candidateProtocols(group, request.memberId).some((name) => offered.has(name));
}

/** Protocols every member (optionally except one that is rejoining) supports. */
function candidateProtocols(group: ConsumerGroup, exceptMemberId?: string): string[] {
  let candidates: string[] | null = null;
  for (const m of group.members.values()) {
    if (m.memberId === exceptMemberId) continue;
    const names = m.protocols.map((p) => p.name);
    candidates = candidates === null ? names : candidates.filter((n) => names.includes(n));
  }
  return candidates ?? [];
}

/** Each member votes for its most preferred protocol that everyone supports; most votes wins. */
function chooseProtocol(group: ConsumerGroup): string {
  const candidates = candidateProtocols(group);
  const votes = new Map<string, number>();
  for (const m of group.members.values()) {
    const choice = m.protocols.find((p) => candidates.includes(p.name))?.name;
    if (choice) votes.set(choice, (votes.get(choice) ?? 0) + 1);
  }
  let best = candidates[0] ?? '';
  for (const [name, count] of votes) if (count > (votes.get(best) ?? 0)) best = name;
  return best;
}

function sameProtocols(a: MemberProtocol[], b: MemberProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata));
}

function joinAnswerFor(group: ConsumerGroup, memberId: string): JoinAnswer {
  const isLeader = memberId === group.leaderId;
  return {
    errorCode: ErrorCode.NONE,
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leader: group.leaderId ?? '',
    memberId,
    members: isLeader
      ? [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: memberMetadata(group, m) }))
      : [],
  };
}

function joinError(errorCode: number, memberId: string): JoinAnswer {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] };
}

function syncAnswer(group: ConsumerGroup, assignment: Buffer): SyncAnswer {
  return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment };
}

function syncError(errorCode: number): SyncAnswer {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}
