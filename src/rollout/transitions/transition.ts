/**
 * A rollout state change, after pgroll's operations: `validate` decides before any side effect,
 * `apply` computes the next state and the audit record, `undo` turns the next state back into the
 * previous one from that record. All three are pure; store.ts commits the result and controller.ts
 * runs side effects (reverse sync) after the commit, undoing the change when they fail.
 */
import type { CriterionResult, Evidence, TriggerResult } from '../criteria.js';
import type { RolloutPlan } from '../plan.js';
import type { Actor, Approval, RolloutState } from '../state.js';

export type TransitionAction = 'promote' | 'cutover' | 'rollback' | 'approve';

export interface TransitionInput {
  readonly plan: RolloutPlan;
  readonly state: RolloutState;
  readonly evidence: Evidence;
  readonly actor: Actor;
  /** ISO time of the change. */
  readonly now: string;
}

/** What the audit log keeps of a change, and what undo needs. */
export interface TransitionRecord {
  readonly action: TransitionAction;
  readonly from: string;
  readonly to: string;
  readonly reason: string | null;
  readonly forced: boolean;
  /** The entry criteria of the phase entered (or approved), as evaluated. */
  readonly criteria: readonly CriterionResult[];
  /** The rollback triggers as evaluated (rollbacks). */
  readonly triggers: readonly TriggerResult[];
  readonly reverseSync: { readonly before: boolean; readonly after: boolean };
  /** The fields the change replaced. */
  readonly previous: Pick<RolloutState, 'phase' | 'enteredAt' | 'gates' | 'approvals' | 'version'>;
}

export interface Transition<Args> {
  readonly action: TransitionAction;
  /** Throws a TandemError naming every reason the change may not happen. */
  validate(input: TransitionInput, args: Args): void;
  apply(input: TransitionInput, args: Args): { state: RolloutState; record: TransitionRecord };
  undo(state: RolloutState, record: TransitionRecord): RolloutState;
}

export function previousOf(state: RolloutState): TransitionRecord['previous'] {
  return { phase: state.phase, enteredAt: state.enteredAt, gates: state.gates, approvals: state.approvals, version: state.version };
}

/** Undo of a phase change: the replaced fields come back. */
export function restore(state: RolloutState, record: TransitionRecord): RolloutState {
  return { ...state, ...record.previous };
}

export function approvalsAfter(approvals: readonly Approval[], plan: RolloutPlan, phaseIndex: number): Approval[] {
  return approvals.filter((approval) => (plan.phases.find((phase) => phase.name === approval.phase)?.index ?? -1) > phaseIndex);
}
