/**
 * The rollout's one entry point for changes (CLI, console API, watch): load the state, gather the
 * evidence, validate, apply, commit at the expected version, then run the side effect (reverse
 * sync) and undo the change, audited, when the side effect fails.
 */
import os from 'node:os';
import type pg from 'pg';
import { TandemError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { evaluateEntry, evaluateTriggers, type EntryVerdict, type Evidence, type TriggerResult } from './criteria.js';
import type { EvidenceSource } from './evidence.js';
import { nextPhase, phaseNamed, type Phase, type RolloutPlan } from './plan.js';
import type { ReverseSync } from './reverse-sync.js';
import { auditEvidence, commitChange, ensureState, loadState, type CommittedChange } from './store.js';
import { initialState, type Actor, type RolloutState } from './state.js';
import { approve, type ApproveArgs } from './transitions/approve.js';
import { cutover, isCutover } from './transitions/cutover.js';
import { promote, type PromoteArgs } from './transitions/promote.js';
import { rollback, type RollbackArgs } from './transitions/rollback.js';
import type { Transition, TransitionInput, TransitionRecord } from './transitions/transition.js';

export interface RolloutStatus {
  readonly plan: RolloutPlan;
  readonly state: RolloutState;
  readonly current: Phase;
  readonly next: Phase | null;
  /** The next phase's entry criteria with their current values. */
  readonly verdict: EntryVerdict | null;
  readonly triggers: readonly TriggerResult[];
  readonly evidence: Evidence;
}

export interface PreparedChange {
  readonly input: TransitionInput;
  readonly state: RolloutState;
  readonly record: TransitionRecord;
  /** Commits at the version the change was computed from; rejects with StaleRolloutState otherwise. */
  commit(): Promise<CommittedChange>;
}

export interface RolloutControllerOptions {
  plan: RolloutPlan;
  /** A connection to the target database (its `tandem` schema is migrated by the caller). */
  client: pg.ClientBase;
  evidence: EvidenceSource;
  logger: Logger;
  /** Runs reverse sync in this process right after a cutover commits (the watch daemon has one). */
  reverseSync?: ReverseSync;
  clock?: () => Date;
}

export function cliActor(by?: string): Actor {
  const osUser = (() => {
    try {
      return os.userInfo().username;
    } catch {
      return process.env.USER ?? null;
    }
  })();
  return { kind: 'cli', name: by?.trim() || osUser || 'unknown', osUser };
}

export class RolloutController {
  readonly plan: RolloutPlan;
  private readonly client: pg.ClientBase;
  private readonly clock: () => Date;

  constructor(private readonly options: RolloutControllerOptions) {
    this.plan = options.plan;
    this.client = options.client;
    this.clock = options.clock ?? (() => new Date());
  }

  /** The stored state (created in the first phase on first use), checked against the plan. */
  async state(): Promise<RolloutState> {
    const stored = (await loadState(this.client, this.plan.migration)) ?? (await ensureState(this.client, initialState(this.plan, this.clock().toISOString())));
    if (!this.plan.phases.some((phase) => phase.name === stored.phase)) {
      throw new TandemError(`migration ${this.plan.migration} is in phase "${stored.phase}", which the connector's rollout.phases no longer has`, {
        fix: `put phase ${stored.phase} back into rollout.phases, or roll back with a connector that has it`,
      });
    }
    return stored;
  }

  async status(): Promise<RolloutStatus> {
    const state = await this.state();
    const evidence = await this.options.evidence.gather(this.clock());
    const current = phaseNamed(this.plan, state.phase);
    const next = nextPhase(this.plan, state.phase);
    return { plan: this.plan, state, current, next, verdict: next ? evaluateEntry(next, state, evidence) : null, triggers: evaluateTriggers(this.plan, state, evidence), evidence };
  }

  async prepare<Args>(transition: Transition<Args>, args: Args, actor: Actor): Promise<PreparedChange> {
    const state = await this.state();
    const now = this.clock();
    const evidence = await this.options.evidence.gather(now);
    const input: TransitionInput = { plan: this.plan, state, evidence, actor, now: now.toISOString() };
    transition.validate(input, args);
    const applied = transition.apply(input, args);
    return {
      input,
      state: applied.state,
      record: applied.record,
      commit: async () => {
        const committed = await commitChange(this.client, { expectedVersion: state.version, state: applied.state, record: applied.record, actor, evidence: auditEvidence(applied.record, evidence) });
        this.options.logger.info(
          { migration: this.plan.migration, action: applied.record.action, from: applied.record.from, to: applied.record.to, actor: actor.name, version: applied.state.version, forced: applied.record.forced },
          `${applied.record.action} ${this.plan.migration}: ${applied.record.from} → ${applied.record.to} by ${actor.name}${applied.record.reason ? ` (${applied.record.reason})` : ''}`,
        );
        await this.sideEffects(transition, applied.state, applied.record, actor, evidence);
        return committed;
      },
    };
  }

  private async change<Args>(transition: Transition<Args>, args: Args, actor: Actor): Promise<CommittedChange & { record: TransitionRecord }> {
    const prepared = await this.prepare(transition, args, actor);
    const committed = await prepared.commit();
    return { ...committed, record: prepared.record };
  }

  /** Reverse sync on or off with the change; when it cannot start, the change is undone (audited). */
  private async sideEffects<Args>(transition: Transition<Args>, state: RolloutState, record: TransitionRecord, actor: Actor, evidence: Evidence): Promise<void> {
    const sync = this.options.reverseSync;
    if (!sync || record.reverseSync.before === record.reverseSync.after) return;
    try {
      if (record.reverseSync.after) await sync.start(state);
      else await sync.stop();
    } catch (error) {
      const undone = transition.undo(state, record);
      const reason = `reverse sync did not ${record.reverseSync.after ? 'start' : 'stop'}: ${(error as Error).message}`;
      await commitChange(this.client, {
        expectedVersion: state.version,
        state: { ...undone, version: state.version + 1 },
        record: { ...record, from: record.to, to: record.from, reason },
        actor,
        action: 'undo',
        evidence: auditEvidence(record, evidence, { undoes: record.action }),
      });
      throw new TandemError(`${record.action} of migration ${this.plan.migration} to ${record.to} was undone: ${reason}`, { fix: 'fix the reverse pipeline (see the log), then promote again', cause: error });
    }
  }

  async promote(args: PromoteArgs, actor: Actor) {
    const state = await this.state();
    return this.change(isCutover({ plan: this.plan, state }, args) ? cutover : promote, args, actor);
  }

  async rollback(args: RollbackArgs, actor: Actor) {
    return this.change(rollback, args, actor);
  }

  async approve(args: ApproveArgs, actor: Actor) {
    return this.change(approve, args, actor);
  }

  /**
   * One watch step: roll back when a trigger fired; else, with autoPromote, promote when every
   * criterion of the next phase holds and it needs no approval.
   */
  async watchStep(actor: Actor, autoPromote: boolean): Promise<{ action: 'rollback' | 'promote' | 'none'; status: RolloutStatus; record?: TransitionRecord }> {
    const status = await this.status();
    const fired = status.triggers.filter((trigger) => trigger.fired);
    if (fired.length > 0) {
      const reason = `rollback triggers fired: ${fired.map((trigger) => `${trigger.name} (${trigger.actual}; bound ${trigger.bound})`).join('; ')}`;
      const result = await this.change(rollback, { reason, triggers: fired }, actor);
      return { action: 'rollback', status, record: result.record };
    }
    if (autoPromote && status.next && status.verdict?.met && status.next.approvals.count === 0) {
      const result = await this.promote({ reason: 'all criteria met (watch --auto-promote)' }, actor);
      return { action: 'promote', status, record: result.record };
    }
    return { action: 'none', status };
  }
}
