import { parseConnector } from '../../../src/config/load.js';
import type { Evidence, ReconcileRun } from '../../../src/rollout/criteria.js';
import { buildPlan, type RolloutPlan } from '../../../src/rollout/plan.js';
import { initialState, type Actor, type RolloutState } from '../../../src/rollout/state.js';
import type { TransitionInput } from '../../../src/rollout/transitions/transition.js';

export function connectorInput(rollout: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'shop',
    source: { url: 'postgres://localhost/legacy', schema: 'legacy', tables: ['customers'] },
    kafka: { brokers: ['localhost:9092'] },
    registry: { url: 'http://localhost:8081' },
    target: { url: 'postgres://localhost/app', schema: 'app' },
    rollout,
  };
}

export function testPlan(rollout: Record<string, unknown> = {}): RolloutPlan {
  return buildPlan(parseConnector(connectorInput(rollout)));
}

export const T0 = '2026-01-01T00:00:00.000Z';
export const hoursAfter = (iso: string, hours: number) => new Date(Date.parse(iso) + hours * 3_600_000).toISOString();

export function stateIn(plan: RolloutPlan, phase: string, enteredAt = T0, extra: Partial<RolloutState> = {}): RolloutState {
  const found = plan.phases.find((candidate) => candidate.name === phase)!;
  return { ...initialState(plan, enteredAt), phase, gates: found.gates, version: 7, ...extra };
}

export function run(id: number, status: ReconcileRun['status'], startedAt: string, direction: ReconcileRun['direction'] = 'forward', driftRows = status === 'drift' ? 3 : 0): ReconcileRun {
  return { id: String(id), startedAt, finishedAt: hoursAfter(startedAt, 0.1), status, direction, driftRows };
}

export function evidence(at: string, extra: Partial<Evidence> = {}): Evidence {
  return {
    at,
    reconcileRuns: [run(12, 'clean', hoursAfter(at, -1)), run(11, 'clean', hoursAfter(at, -2)), run(10, 'clean', hoursAfter(at, -3)), run(9, 'clean', hoursAfter(at, -4)), run(8, 'clean', hoursAfter(at, -5))],
    lag: { seconds: 2, appliedPosition: '0/16B3F48', sourceLsn: '0/16B4000' },
    traffic: { windowMs: 300_000, decisionsNew: 1000, errorsNew: 1 },
    ...extra,
  };
}

export const alice: Actor = { kind: 'cli', name: 'alice', osUser: 'alice' };

export function input(plan: RolloutPlan, state: RolloutState, at: string, extra: Partial<TransitionInput> = {}): TransitionInput {
  return { plan, state, evidence: evidence(at), actor: alice, now: at, ...extra };
}
