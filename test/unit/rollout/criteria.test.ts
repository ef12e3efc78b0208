import { describe, expect, it } from 'vitest';
import { evaluateEntry, evaluateTriggers } from '../../../src/rollout/criteria.js';
import { phaseNamed, rollbackTarget } from '../../../src/rollout/plan.js';
import { evidence, hoursAfter, run, stateIn, T0, testPlan } from './fixtures.js';

const plan = testPlan();

describe('entry criteria', () => {
  it('are all met for ramp-25 after an hour in canary with clean runs, low lag and few errors', () => {
    const verdict = evaluateEntry(phaseNamed(plan, 'ramp-25'), stateIn(plan, 'canary'), evidence(hoursAfter(T0, 1.5)));
    expect(verdict.met).toBe(true);
    expect(verdict.criteria.map((criterion) => [criterion.name, criterion.met])).toEqual([
      ['reconcile', true],
      ['lag', true],
      ['error-rate', true],
      ['soak', true],
    ]);
    expect(verdict.criteria[0]!.runIds).toEqual(['12', '11', '10']);
  });

  const at = hoursAfter(T0, 0.5);
  it.each([
    ['a drifted run among the last 3', { reconcileRuns: [run(12, 'clean', T0), run(11, 'drift', T0), run(10, 'clean', T0)] }, 'reconcile', '2 of 3 clean (runs 12, 11, 10; drift in 11: 3 rows)'],
    ['a run left incomplete by a snapshot in progress among the last 3', { reconcileRuns: [run(12, 'clean', T0), run(11, 'incomplete', T0), run(10, 'clean', T0)] }, 'reconcile', '2 of 3 clean (runs 12, 11, 10; incomplete (capture still snapshotting): 11)'],
    ['an errored run among the last 3', { reconcileRuns: [run(12, 'error', T0), run(11, 'clean', T0), run(10, 'clean', T0)] }, 'reconcile', '2 of 3 clean (runs 12, 11, 10)'],
    ['fewer runs than required', { reconcileRuns: [run(12, 'clean', T0)] }, 'reconcile', '1 of 1 clean (run 12)'],
    ['no run at all', { reconcileRuns: [] }, 'reconcile', 'no finished run'],
    ['only reverse runs', { reconcileRuns: [run(12, 'clean', T0, 'reverse'), run(11, 'clean', T0, 'reverse'), run(10, 'clean', T0, 'reverse')] }, 'reconcile', 'no finished run'],
    ['lag above the bound', { lag: { seconds: 31, appliedPosition: null, sourceLsn: null } }, 'lag', '31s'],
    ['lag unknown', { lag: { seconds: null, appliedPosition: null, sourceLsn: null } }, 'lag', 'unknown (translate has not reported a position)'],
    ['error rate above the bound', { traffic: { windowMs: 300_000, decisionsNew: 100, errorsNew: 2 } }, 'error-rate', '2% (2 errors / 100 decisions)'],
    ['errors without any decision on new', { traffic: { windowMs: 300_000, decisionsNew: 0, errorsNew: 1 } }, 'error-rate', '∞ (1 errors / 0 decisions)'],
  ])('are unmet with %s', (_name, extra, criterion, actual) => {
    const verdict = evaluateEntry(phaseNamed(plan, 'ramp-25'), stateIn(plan, 'canary'), { ...evidence(at), ...extra });
    expect(verdict.met).toBe(false);
    const result = verdict.criteria.find((item) => item.name === criterion)!;
    expect(result.met).toBe(false);
    expect(result.actual).toBe(actual);
  });

  it('count soak from the start of the current phase and say when it will be met', () => {
    const verdict = evaluateEntry(phaseNamed(plan, 'ramp-25'), stateIn(plan, 'canary'), evidence(hoursAfter(T0, 0.5)));
    const soak = verdict.criteria.find((item) => item.name === 'soak')!;
    expect(soak).toMatchObject({ met: false, required: '1h in canary', actual: `30m so far (from ${hoursAfter(T0, 1)})` });
    expect(verdict.earliest).toBe(hoursAfter(T0, 1));
  });

  it('count no traffic on new as no error rate yet, not as a failure', () => {
    const verdict = evaluateEntry(phaseNamed(plan, 'ramp-25'), stateIn(plan, 'canary'), { ...evidence(hoursAfter(T0, 2)), traffic: { windowMs: 300_000, decisionsNew: 0, errorsNew: 0 } });
    expect(verdict.criteria.find((item) => item.name === 'error-rate')).toMatchObject({ met: true, value: null });
  });

  it('count approvals by distinct allowed approvers of that phase only', () => {
    const strict = testPlan({ phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 10, approvals: { count: 2, approvers: ['alice', 'bob', 'carol'] } }] });
    const approvals = [
      { phase: 'b', by: 'alice', at: T0 },
      { phase: 'b', by: 'alice', at: T0 },
      { phase: 'b', by: 'mallory', at: T0 },
    ];
    const once = evaluateEntry(phaseNamed(strict, 'b'), stateIn(strict, 'a', T0, { approvals }), evidence(T0));
    expect(once.criteria).toEqual([{ name: 'approvals', required: '2 approvals from alice, bob, carol', actual: '1 (alice)', met: false, value: 1 }]);
    const twice = evaluateEntry(phaseNamed(strict, 'b'), stateIn(strict, 'a', T0, { approvals: [...approvals, { phase: 'b', by: 'bob', at: T0 }] }), evidence(T0));
    expect(twice.met).toBe(true);
  });

  it('after cutover look at reverse reconcile runs', () => {
    const verdict = evaluateEntry(phaseNamed(plan, 'contract'), stateIn(plan, 'cutover'), { ...evidence(hoursAfter(T0, 24 * 8)), reconcileRuns: [1, 2, 3, 4, 5].map((id) => run(id, 'clean', T0, 'reverse')) });
    expect(verdict.criteria.find((item) => item.name === 'reconcile')).toMatchObject({ met: true, required: 'last 5 reverse reconcile runs clean' });
  });
});

describe('rollback triggers', () => {
  const at = hoursAfter(T0, 2);
  it('guard nothing while every gate is on legacy', () => {
    expect(evaluateTriggers(plan, stateIn(plan, 'verify'), { ...evidence(at), lag: { seconds: 9999, appliedPosition: null, sourceLsn: null } })).toEqual([]);
  });

  it('guard a phase whose only readers on new are named services, and roll it back to the last phase with nobody on new', () => {
    const byService = testPlan({ phases: [{ name: 'shadow', readNew: 0 }, { name: 'pilot', readNew: 0, readNewServices: ['billing', 'billing'] }, { name: 'canary', readNew: 5 }] });
    expect(phaseNamed(byService, 'pilot').gates.readNewServices).toEqual(['billing']);
    const lagging = evaluateTriggers(byService, stateIn(byService, 'pilot'), { ...evidence(at), lag: { seconds: 9999, appliedPosition: null, sourceLsn: null } });
    expect(lagging.find((trigger) => trigger.name === 'lag')).toMatchObject({ fired: true });
    expect(rollbackTarget(byService, 'canary')?.name).toBe('shadow');
  });

  it('fire on drift found by a run started in the current phase, not before it', () => {
    const before = evaluateTriggers(plan, stateIn(plan, 'canary', T0), { ...evidence(at), reconcileRuns: [run(5, 'drift', hoursAfter(T0, -1))] });
    expect(before.find((trigger) => trigger.name === 'drift')!.fired).toBe(false);
    const after = evaluateTriggers(plan, stateIn(plan, 'canary', T0), { ...evidence(at), reconcileRuns: [run(6, 'drift', hoursAfter(T0, 1), 'forward', 4)] });
    expect(after.find((trigger) => trigger.name === 'drift')).toMatchObject({ fired: true, actual: 'run 6: 4 rows', runIds: ['6'], value: 4 });
  });

  it.each([
    ['lag', { lag: { seconds: 301, appliedPosition: null, sourceLsn: null } }, true],
    ['lag', { lag: { seconds: 300, appliedPosition: null, sourceLsn: null } }, false],
    ['lag', { lag: { seconds: null, appliedPosition: null, sourceLsn: null } }, false],
    ['error-rate', { traffic: { windowMs: 1, decisionsNew: 100, errorsNew: 6 } }, true],
    ['error-rate', { traffic: { windowMs: 1, decisionsNew: 100, errorsNew: 5 } }, false],
    ['error-rate', { traffic: { windowMs: 1, decisionsNew: 0, errorsNew: 0 } }, false],
  ] as const)('%s trigger with %j fires: %s', (name, extra, fired) => {
    const results = evaluateTriggers(plan, stateIn(plan, 'ramp-50'), { ...evidence(at), ...extra });
    expect(results.find((trigger) => trigger.name === name)!.fired).toBe(fired);
  });
});
