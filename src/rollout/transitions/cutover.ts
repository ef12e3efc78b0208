/**
 * cutover: the promotion that moves writes to new. Beyond promote's checks it needs reverse
 * mappings (new → legacy) in the connector, because from here on reverse sync keeps legacy in step
 * so that a rollback loses none of the writes made on new. The record says reverse sync goes on;
 * the controller starts it after the commit through the ReverseSync interface.
 */
import { TandemError } from '../../errors.js';
import { applyPromotion, promoteTarget, validatePromotion, type PromoteArgs } from './promote.js';
import { restore, type Transition, type TransitionInput } from './transition.js';

/** Whether promoting with these args is a cutover (writes move from legacy to new). */
export function isCutover(input: Pick<TransitionInput, 'plan' | 'state'>, args: PromoteArgs): boolean {
  return input.state.gates.write === 'legacy' && promoteTarget(input, args).gates.write === 'new';
}

export const cutover: Transition<PromoteArgs> = {
  action: 'cutover',
  validate(input, args) {
    const target = promoteTarget(input, args);
    if (!isCutover(input, args)) throw new TandemError(`${target.name} does not move the writes of migration ${input.plan.migration} to new; it is not a cutover`, { fix: 'promote to it instead' });
    if (target.gates.reverseSync && input.plan.reverseTables.length === 0) {
      throw new TandemError(`cutover of migration ${input.plan.migration} to ${target.name} needs reverse mappings (new → legacy), and rollout.reverse declares none`, {
        fix: "declare rollout.reverse in the connector: per new table, the legacy table and its columns as SQL over the new row, e.g. reverse: { 'app.customers': { to: 'legacy.customers', columns: { name: \"first_name || ' ' || last_name\" } } }",
      });
    }
    validatePromotion(input, args, target);
  },
  apply(input, args) {
    return applyPromotion(input, args, promoteTarget(input, args), 'cutover');
  },
  undo: restore,
};
