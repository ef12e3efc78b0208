/**
 * approve: one person's (or API key's) approval of the next phase (or a named later one). Approvals
 * count towards that phase's `approvals.count`; a promotion or rollback consumes them.
 */
import { TandemError } from '../../errors.js';
import { nextPhase, phaseNamed, type Phase } from '../plan.js';
import { previousOf, restore, type Transition, type TransitionInput } from './transition.js';

export interface ApproveArgs {
  readonly by: string;
  readonly phase?: string;
  readonly reason?: string;
}

function approvedPhase(input: TransitionInput, args: ApproveArgs): Phase {
  const { plan, state } = input;
  const current = phaseNamed(plan, state.phase);
  const target = args.phase === undefined ? nextPhase(plan, state.phase) : phaseNamed(plan, args.phase);
  if (!target) throw new TandemError(`migration ${plan.migration} is in its last phase (${current.name}); there is nothing to approve`, { fix: 'the rollout is complete' });
  if (target.index <= current.index) throw new TandemError(`phase ${target.name} of migration ${plan.migration} is not ahead of the current phase ${current.name}`, { fix: 'approve a later phase' });
  return target;
}

export const approve: Transition<ApproveArgs> = {
  action: 'approve',
  validate(input, args) {
    const { plan, state } = input;
    if (!args.by?.trim()) throw new TandemError(`approving migration ${plan.migration} needs a name`, { fix: 'add --by NAME' });
    const target = approvedPhase(input, args);
    if (target.approvals.count === 0) throw new TandemError(`phase ${target.name} of migration ${plan.migration} needs no approval`, { fix: `promote when its criteria are met: tandem rollout promote` });
    const allowed = target.approvals.approvers;
    if (allowed.length > 0 && !allowed.includes(args.by)) {
      throw new TandemError(`${args.by} may not approve phase ${target.name} of migration ${plan.migration}`, { fix: `approvers of ${target.name}: ${allowed.join(', ')} (rollout.phases[${target.index}].approvals.approvers)` });
    }
    if (state.approvals.some((approval) => approval.phase === target.name && approval.by === args.by)) {
      throw new TandemError(`${args.by} already approved phase ${target.name} of migration ${plan.migration}`, { fix: `another approver is needed (${target.approvals.count} in all)` });
    }
  },
  apply(input, args) {
    const { state, now } = input;
    const target = approvedPhase(input, args);
    return {
      state: { ...state, approvals: [...state.approvals, { phase: target.name, by: args.by.trim(), at: now }], version: state.version + 1 },
      record: {
        action: 'approve',
        from: state.phase,
        to: target.name,
        reason: args.reason?.trim() || null,
        forced: false,
        criteria: [],
        triggers: [],
        reverseSync: { before: state.gates.reverseSync, after: state.gates.reverseSync },
        previous: previousOf(state),
      },
    };
  },
  undo: restore,
};
