/**
 * promote: enter the next phase (or `--to` a later one) when every entry criterion holds; with
 * `force` and a reason, despite unmet criteria (audited). A phase that moves writes to new is a
 * cutover (cutover.ts), which adds its own checks.
 */
import { TandemError } from '../../errors.js';
import { evaluateEntry, type EntryVerdict } from '../criteria.js';
import { nextPhase, phaseNamed, type Phase } from '../plan.js';
import { approvalsAfter, previousOf, restore, type Transition, type TransitionInput } from './transition.js';

export interface PromoteArgs {
  readonly to?: string;
  readonly force?: boolean;
  readonly reason?: string;
}

export function promoteTarget(input: Pick<TransitionInput, 'plan' | 'state'>, args: PromoteArgs): Phase {
  const { plan, state } = input;
  const current = phaseNamed(plan, state.phase);
  if (args.to === undefined) {
    const next = nextPhase(plan, state.phase);
    if (!next) throw new TandemError(`migration ${plan.migration} is in its last phase (${current.name}); there is nothing to promote to`, { fix: 'the rollout is complete; see tandem rollout history' });
    return next;
  }
  const target = phaseNamed(plan, args.to);
  if (target.index <= current.index) {
    throw new TandemError(`cannot promote migration ${plan.migration} to ${target.name}: it is ${target.index === current.index ? 'the current phase' : `before the current phase ${current.name}`}`, {
      fix: target.index < current.index ? `use tandem rollout rollback --to ${target.name} --reason "..."` : 'name a later phase with --to',
    });
  }
  return target;
}

/** The unmet criteria as lines for the refusal message. */
export function describeUnmet(verdict: EntryVerdict): string {
  return verdict.criteria
    .filter((criterion) => !criterion.met)
    .map((criterion) => `  ✗ ${criterion.name}: ${criterion.required}; now ${criterion.actual}`)
    .join('\n');
}

export function validatePromotion(input: TransitionInput, args: PromoteArgs, target: Phase): void {
  const { plan, state, evidence } = input;
  if (args.force && !args.reason?.trim()) {
    throw new TandemError(`--force on migration ${plan.migration} needs a reason`, { fix: 'add --reason "why the criteria may be skipped" (it is kept in the audit log)' });
  }
  const current = phaseNamed(plan, state.phase);
  if (target.index > current.index + 1 && !args.force) {
    throw new TandemError(`promoting migration ${plan.migration} from ${current.name} to ${target.name} skips ${plan.phases.slice(current.index + 1, target.index).map((phase) => phase.name).join(', ')}`, {
      fix: `promote one phase at a time, or add --force --reason "..." to skip (audited)`,
    });
  }
  const verdict = evaluateEntry(target, state, evidence);
  if (!verdict.met && !args.force) {
    const unmet = verdict.criteria.filter((criterion) => !criterion.met).length;
    throw new TandemError(`cannot promote migration ${plan.migration} from ${current.name} to ${target.name}: ${unmet} criteri${unmet === 1 ? 'on' : 'a'} unmet\n${describeUnmet(verdict)}`, {
      fix: verdict.earliest ? `wait until ${verdict.earliest}, or add --force --reason "..." (audited)` : 'meet the criteria above, or add --force --reason "..." (audited)',
    });
  }
}

export function applyPromotion(input: TransitionInput, args: PromoteArgs, target: Phase, action: 'promote' | 'cutover') {
  const { plan, state, evidence, now } = input;
  const verdict = evaluateEntry(target, state, evidence);
  return {
    state: { ...state, phase: target.name, enteredAt: now, gates: target.gates, approvals: approvalsAfter(state.approvals, plan, target.index), version: state.version + 1 },
    record: {
      action,
      from: state.phase,
      to: target.name,
      reason: args.reason?.trim() || null,
      forced: Boolean(args.force) && !verdict.met,
      criteria: verdict.criteria,
      triggers: [],
      reverseSync: { before: state.gates.reverseSync, after: target.gates.reverseSync },
      previous: previousOf(state),
    },
  };
}

export const promote: Transition<PromoteArgs> = {
  action: 'promote',
  validate(input, args) {
    const target = promoteTarget(input, args);
    if (target.gates.write === 'new' && input.state.gates.write === 'legacy') {
      throw new TandemError(`${target.name} moves the writes of migration ${input.plan.migration} to new: that is a cutover`, { fix: 'run it as a cutover (tandem rollout promote does this on its own)' });
    }
    validatePromotion(input, args, target);
  },
  apply(input, args) {
    return applyPromotion(input, args, promoteTarget(input, args), 'promote');
  },
  undo: restore,
};
