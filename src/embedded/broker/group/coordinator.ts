/**
 * The group coordinator: runs the pure consumer group state machine (consumer-group.ts) against the
 * clock, parks JoinGroup/SyncGroup requests until their answer is due, and keeps committed offsets.
 */
import { ErrorCode } from '../protocol/index.js';
import type { Durability } from '../storage/durability.js';
import type { OffsetCommitEntry, OffsetStore } from '../storage/offset-store.js';
import * as machine from './consumer-group.js';
import type { ConsumerGroup, JoinAnswer, JoinRequest, Notice, Outcome, SyncAnswer, SyncRequest } from './consumer-group.js';

const EXPIRY_CHECK_MS = 200;

type Parked<A> = Map<string, (answer: A) => void>;

export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly parkedJoins: Parked<JoinAnswer> = new Map();
  private readonly parkedSyncs: Parked<SyncAnswer> = new Map();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly offsets: OffsetStore,
    private readonly durability: Durability,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.expireAll(), EXPIRY_CHECK_MS).unref();
  }

  join(groupId: string, request: JoinRequest): Promise<JoinAnswer> {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = machine.newConsumerGroup(groupId)));
    return this.settle(groupId, machine.join(group, request, this.now()), this.parkedJoins, staleJoin);
  }

  sync(groupId: string, request: SyncRequest): Promise<SyncAnswer> {
    return this.settle(groupId, machine.sync(this.groups.get(groupId), request, this.now()), this.parkedSyncs, staleSync);
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    return machine.heartbeat(this.groups.get(groupId), memberId, generationId, this.now());
  }

  leave(groupId: string, memberIds: string[]): number[] {
    const { errorCodes, notices } = machine.leave(this.groups.get(groupId), memberIds, this.now());
    this.deliver(groupId, notices);
    return errorCodes;
  }

  /** Validates the committer, stores the offsets; resolves with the error code once they are durable. */
  async commit(groupId: string, memberId: string, generationId: number, entries: OffsetCommitEntry[]): Promise<number> {
    const errorCode = machine.checkCommit(this.groups.get(groupId), memberId, generationId, this.now());
    if (errorCode !== ErrorCode.NONE) return errorCode;
    this.offsets.commit(groupId, entries);
    if (this.durability.syncBeforeAck) await this.durability.flush();
    return ErrorCode.NONE;
  }

  committed(groupId: string, topic: string, partition: number) {
    return this.offsets.fetch(groupId, topic, partition);
  }

  allCommitted(groupId: string): OffsetCommitEntry[] {
    return this.offsets.entries(groupId);
  }

  /** The live group, or undefined for a group known only by its committed offsets (or not at all). */
  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  /** Every group with members or committed offsets, with its state. */
  list(): { groupId: string; protocolType: string; state: string }[] {
    const listed = new Map<string, { groupId: string; protocolType: string; state: string }>();
    for (const groupId of this.offsets.groupIds()) listed.set(groupId, { groupId, protocolType: 'consumer', state: 'Empty' });
    for (const group of this.groups.values()) {
      listed.set(group.groupId, { groupId: group.groupId, protocolType: group.protocolType ?? 'consumer', state: group.state });
    }
    return [...listed.values()];
  }

  delete(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group && group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    if (!group && !this.offsets.hasGroup(groupId)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group) group.state = 'Dead';
    this.groups.delete(groupId);
    this.offsets.deleteGroup(groupId);
    return ErrorCode.NONE;
  }

  /** Drops committed offsets of a deleted topic. */
  forgetTopic(topic: string): void {
    this.offsets.deleteTopic(topic);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private expireAll(): void {
    const now = this.now();
    for (const group of this.groups.values()) this.deliver(group.groupId, machine.expire(group, now));
  }

  /** Answers the caller now, or parks it; then delivers the answers owed to parked members. */
  private settle<A>(groupId: string, outcome: Outcome<A>, parked: Parked<A>, stale: (memberId: string) => A): Promise<A> {
    const answer =
      outcome.answer !== undefined
        ? Promise.resolve(outcome.answer)
        : new Promise<A>((resolve) => {
            const key = parkingKey(groupId, outcome.waitAs!);
            const earlier = parked.get(key);
            parked.set(key, resolve);
            // A member that asks again (e.g. after reconnecting) replaces its older parked request.
            earlier?.(stale(outcome.waitAs!));
          });
    this.deliver(groupId, outcome.notices);
    return answer;
  }

  private deliver(groupId: string, notices: Notice[]): void {
    for (const notice of notices) {
      const key = parkingKey(groupId, notice.memberId);
      if ('join' in notice) take(this.parkedJoins, key)?.(notice.join);
      else take(this.parkedSyncs, key)?.(notice.sync);
    }
  }
}

function parkingKey(groupId: string, memberId: string): string {
  return `${groupId}\u0000${memberId}`;
}

function take<A>(parked: Parked<A>, key: string): ((answer: A) => void) | undefined {
  const resolve = parked.get(key);
  parked.delete(key);
  return resolve;
}

function staleJoin(memberId: string): JoinAnswer {
  return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] };
}

function staleSync(): SyncAnswer {
  return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}
