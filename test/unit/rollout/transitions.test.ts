import { describe, expect, it } from 'vitest';
import { describeError, TandemError } from '../../../src/errors.js';
import { evaluateTriggers } from '../../../src/rollout/criteria.js';
import { approve } from '../../../src/rollout/transitions/approve.js';
import { cutover } from '../../../src/rollout/transitions/cutover.js';
import { promote } from '../../../src/rollout/transitions/promote.js';
import { rollback } from '../../../src/rollout/transitions/rollback.js';
import type { Transition, TransitionInput } from '../../../src/rollout/transitions/transition.js';
import { evidence, hoursAfter, input, run, stateIn, T0, testPlan } from './fixtures.js';

const plan = testPlan();
const withReverse = testPlan({ reverse: { 'app.customers': { to: 'legacy.customers', columns: { name: "first_name || ' ' || last_name" } } } });
const later = hoursAfter(T0, 30);
const approved = (phase: string, ...names: string[]) => names.map((by) => ({ phase, by, at: T0 }));

interface Case {
  name: string;
  transition: Transition<never>;
  input: TransitionInput;
  args: object;
  /** Expected after apply (subset), or the error message pattern. */
  expect: { phase?: string; gates?: object; approvals?: number; action?: string; forced?: boolean; reverseSync?: boolean } | RegExp;
}

const cases: Case[] = [
  { name: 'promote shadow → verify with its criteria met', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'shadow'), later), args: {}, expect: { phase: 'verify', gates: { readNew: 0, write: 'legacy' }, action: 'promote' } },
  { name: 'promote verify → canary once approved', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'verify', T0, { approvals: approved('canary', 'bob') }), later), args: {}, expect: { phase: 'canary', gates: { readNew: 5 }, approvals: 0 } },
  { name: 'promote verify → canary without approval', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'verify'), later), args: {}, expect: /cannot promote migration shop from verify to canary: 1 criterion unmet\n  ✗ approvals: 1 approval; now none/ },
  { name: 'promote canary → ramp-25 too early lists soak and when', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'canary'), hoursAfter(T0, 0.25)), args: {}, expect: /✗ soak: 1h in canary; now 15m so far/ },
  { name: 'promote --force without a reason', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'canary'), hoursAfter(T0, 0.25)), args: { force: true }, expect: /--force on migration shop needs a reason/ },
  { name: 'promote --force --reason overrides, recorded as forced', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'canary'), hoursAfter(T0, 0.25)), args: { force: true, reason: 'incident drill' }, expect: { phase: 'ramp-25', forced: true } },
  { name: 'promote --to skipping phases', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'canary'), later), args: { to: 'ramp-100' }, expect: /skips ramp-25, ramp-50/ },
  { name: 'promote --to an earlier phase', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'canary'), later), args: { to: 'verify' }, expect: /use tandem rollout rollback --to verify/ },
  { name: 'promote past the last phase', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'contract'), later), args: {}, expect: /is in its last phase \(contract\)/ },
  { name: 'promote into cutover is refused as a plain promote', transition: promote as Transition<never>, input: input(plan, stateIn(plan, 'ramp-100'), later), args: {}, expect: /that is a cutover/ },
  { name: 'cutover without reverse mappings', transition: cutover as Transition<never>, input: input(plan, stateIn(plan, 'ramp-100', T0, { approvals: approved('cutover', 'a', 'b') }), later), args: {}, expect: /needs reverse mappings/ },
  { name: 'cutover with reverse mappings and two approvals', transition: cutover as Transition<never>, input: input(withReverse, stateIn(withReverse, 'ramp-100', T0, { approvals: approved('cutover', 'a', 'b') }), later), args: {}, expect: { phase: 'cutover', gates: { readNew: 100, write: 'new', reverseSync: true }, action: 'cutover', reverseSync: true } },
  { name: 'cutover with one of two approvals', transition: cutover as Transition<never>, input: input(withReverse, stateIn(withReverse, 'ramp-100', T0, { approvals: approved('cutover', 'a') }), later), args: {}, expect: /✗ approvals: 2 approvals; now 1 \(a\)/ },
  { name: 'rollback one phase with a reason', transition: rollback as Transition<never>, input: input(plan, stateIn(plan, 'ramp-50', T0, { approvals: approved('ramp-100', 'x') }), later), args: { reason: 'p99 up' }, expect: { phase: 'ramp-25', approvals: 0, action: 'rollback' } },
  { name: 'rollback without a reason', transition: rollback as Transition<never>, input: input(plan, stateIn(plan, 'ramp-50'), later), args: { reason: ' ' }, expect: /needs a reason/ },
  { name: 'rollback --to a later phase', transition: rollback as Transition<never>, input: input(plan, stateIn(plan, 'canary'), later), args: { to: 'ramp-50', reason: 'x' }, expect: /use tandem rollout promote --to ramp-50/ },
  { name: 'rollback from the first phase', transition: rollback as Transition<never>, input: input(plan, stateIn(plan, 'shadow'), later), args: { reason: 'x' }, expect: /is in its first phase/ },
  { name: 'rollback from cutover moves writes back to legacy', transition: rollback as Transition<never>, input: input(withReverse, stateIn(withReverse, 'cutover'), later), args: { reason: 'errors', to: 'ramp-100' }, expect: { phase: 'ramp-100', gates: { write: 'legacy', reverseSync: false }, reverseSync: false } },
  { name: 'rollback out of contract', transition: rollback as Transition<never>, input: input(plan, stateIn(plan, 'contract'), later), args: { reason: 'x' }, expect: /retired legacy/ },
  { name: 'approve the next phase', transition: approve as Transition<never>, input: input(plan, stateIn(plan, 'verify'), later), args: { by: 'carol' }, expect: { phase: 'verify', approvals: 1, action: 'approve' } },
  { name: 'approve twice by the same person', transition: approve as Transition<never>, input: input(plan, stateIn(plan, 'verify', T0, { approvals: approved('canary', 'carol') }), later), args: { by: 'carol' }, expect: /carol already approved phase canary/ },
  { name: 'approve a phase that needs none', transition: approve as Transition<never>, input: input(plan, stateIn(plan, 'canary'), later), args: { by: 'carol' }, expect: /phase ramp-25 of migration shop needs no approval/ },
  { name: 'approve by someone not listed', transition: approve as Transition<never>, input: input(testPlan({ phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 5, approvals: { count: 1, approvers: ['dba'] } }] }), stateIn(testPlan({ phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 5, approvals: { count: 1, approvers: ['dba'] } }] }), 'a'), later), args: { by: 'eve' }, expect: /eve may not approve phase b/ },
];

describe('rollout transitions', () => {
  it.each(cases)('$name', ({ transition, input: given, args, expect: expected }) => {
    if (expected instanceof RegExp) {
      // The message and its fix, as the CLI prints them.
      const error = (() => {
        try {
          transition.validate(given, args as never);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(TandemError);
      expect((error as TandemError).fix).toBeTruthy();
      expect(describeError(error)).toMatch(expected);
      return;
    }
    transition.validate(given, args as never);
    const { state, record } = transition.apply(given, args as never);
    // after apply
    if (expected.phase) expect(state.phase).toBe(expected.phase);
    if (expected.gates) expect(state.gates).toMatchObject(expected.gates);
    if (expected.approvals !== undefined) expect(state.approvals).toHaveLength(expected.approvals);
    if (expected.action) expect(record.action).toBe(expected.action);
    if (expected.forced !== undefined) expect(record.forced).toBe(expected.forced);
    if (expected.reverseSync !== undefined) expect(record.reverseSync).toEqual({ before: given.state.gates.reverseSync, after: expected.reverseSync });
    expect(state.version).toBe(given.state.version + 1);
    expect(record.from).toBe(given.state.phase);
    if (record.action !== 'approve') expect(state.enteredAt).toBe(given.now);
    // after undo
    expect(transition.undo(state, record)).toEqual(given.state);
  });

  it('an automatic rollback goes to the last phase with every gate on legacy and records the triggers', () => {
    const state = stateIn(plan, 'ramp-50', T0);
    const at = hoursAfter(T0, 1);
    const given = { ...input(plan, state, at), evidence: { ...evidence(at), reconcileRuns: [run(40, 'drift', hoursAfter(T0, 0.5))] } };
    const triggers = evaluateTriggers(plan, state, given.evidence).filter((trigger) => trigger.fired);
    rollback.validate(given, { reason: 'drift', triggers });
    const { state: after, record } = rollback.apply(given, { reason: 'drift', triggers });
    expect(after.phase).toBe('verify');
    expect(after.gates).toEqual({ readNew: 0, readNewServices: [], write: 'legacy', reverseSync: false });
    expect(record.triggers.map((trigger) => trigger.name)).toEqual(['drift']);
    expect(rollback.undo(after, record)).toEqual(state);
  });

  it('rollback.to in the connector is where automatic rollbacks go', () => {
    const custom = testPlan({ rollback: { to: 'shadow' } });
    const given = input(custom, stateIn(custom, 'ramp-50'), later);
    expect(rollback.apply(given, { reason: 'lag', triggers: [] }).state.phase).toBe('shadow');
  });
});
