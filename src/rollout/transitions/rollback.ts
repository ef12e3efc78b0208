/**
 * rollback: back to an earlier phase, always with a reason (a person's, or the triggers that fired
 * in watch). Refused out of a phase that retired legacy (writes on new without reverse sync):
 * legacy lacks the writes made since, so going back would lose them.
 */
import { TandemError } from '../../errors.js';
import type { TriggerResult } from '../criteria.js';
import { isIrreversible, phaseNamed, rollbackTarget, type Phase } from '../plan.js';
import { previousOf, restore, type Transition, type TransitionInput } from './transition.js';

export interface RollbackArgs {
  readonly to?: string;
  readonly reason: string;
  /** The triggers that fired (automatic rollback by watch). */
  readonly triggers?: readonly TriggerResult[];
}

function rollbackTo(input: TransitionInput, args: RollbackArgs): Phase {
  const { plan, state } = input;
  const current = phaseNamed(plan, state.phase);
  if (args.to === undefined) {
    // A person steps back one phase; the watch daemon goes to the safe phase.
    const target = args.triggers ? rollbackTarget(plan, state.phase) : (plan.phases[current.index - 1] ?? null);
    if (!target) throw new TandemError(`migration ${plan.migration} is in its first phase (${current.name}); there is nothing to roll back to`, { fix: 'nothing to do: every reader and writer is on legacy' });
    return target;
  }
  const target = phaseNamed(plan, args.to);
  if (target.index >= current.index) {
    throw new TandemError(`cannot roll migration ${plan.migration} back to ${target.name}: it is ${target.index === current.index ? 'the current phase' : `after the current phase ${current.name}`}`, {
      fix: target.index > current.index ? `use tandem rollout promote --to ${target.name}` : 'name an earlier phase with --to',
    });
  }
  return target;
}

export const rollback: Transition<RollbackArgs> = {
  action: 'rollback',
  validate(input, args) {
    const { plan, state } = input;
    if (!args.reason?.trim()) throw new TandemError(`rollback of migration ${plan.migration} needs a reason`, { fix: 'add --reason "what went wrong" (it is kept in the audit log)' });
    const current = phaseNamed(plan, state.phase);
    if (isIrreversible(current)) {
      throw new TandemError(`migration ${plan.migration} is in ${current.name}, which retired legacy (writes on new, reverse sync off); rolling back would lose the writes made since`, {
        fix: 'fix forward on the new schema; to go back, first restore legacy from the new tables',
      });
    }
    rollbackTo(input, args);
  },
  apply(input, args) {
    const { state, now } = input;
    const target = rollbackTo(input, args);
    return {
      state: { ...state, phase: target.name, enteredAt: now, gates: target.gates, approvals: [], version: state.version + 1 },
      record: {
        action: 'rollback',
        from: state.phase,
        to: target.name,
        reason: args.reason.trim(),
        forced: false,
        criteria: [],
        triggers: args.triggers ?? [],
        reverseSync: { before: state.gates.reverseSync, after: target.gates.reverseSync },
        previous: previousOf(state),
      },
    };
  },
  undo: restore,
};
