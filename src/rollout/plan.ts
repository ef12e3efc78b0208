/**
 * The rollout plan: the ordered phases of one migration with their gate values, entry criteria and
 * approvals, plus the rollback triggers. Built once from the validated connector and frozen; pure.
 */
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { parseDuration } from '../config/duration.js';

export type WriteTarget = 'legacy' | 'new';

/** The gate values of a phase: what services are told. */
export interface Gates {
  /** Percentage of stickiness keys whose reads go to the new schema (0–100). */
  readonly readNew: number;
  /** Named services whose every read goes to new (a canary by service), whatever readNew says. */
  readonly readNewServices: readonly string[];
  readonly write: WriteTarget;
  /** Whether new → legacy sync runs (only while writes go to new). */
  readonly reverseSync: boolean;
}

export interface EntryCriteria {
  readonly reconcileCleanRuns: number;
  readonly maxLagSeconds: number | null;
  readonly maxErrorRate: number | null;
  /** Time in the previous phase before this one may start. */
  readonly minSoakMs: number;
}

export interface Phase {
  readonly name: string;
  readonly description: string;
  readonly index: number;
  readonly gates: Gates;
  readonly criteria: EntryCriteria;
  readonly approvals: { readonly count: number; readonly approvers: readonly string[] };
}

export interface RollbackTriggers {
  readonly onDrift: boolean;
  readonly maxLagSeconds: number;
  readonly maxErrorRate: number;
  readonly to: string | null;
}

export interface RolloutPlan {
  /** The connector name: rollout state is kept per migration. */
  readonly migration: string;
  /** Unleash groupId of the bucketing hash. */
  readonly groupId: string;
  readonly stickiness: string;
  readonly phases: readonly Phase[];
  readonly rollback: RollbackTriggers;
  readonly watch: { readonly intervalMs: number; readonly autoPromote: boolean; readonly errorWindowMs: number };
  /** New tables with a reverse mapping (new → legacy), needed before writes may move to new. */
  readonly reverseTables: readonly string[];
}

type PhaseInput = NonNullable<Connector['rollout']['phases']>[number];

/** The default plan: every step on evidence, the irreversible ones behind approvals. */
export const DEFAULT_PHASES: readonly PhaseInput[] = [
  { name: 'shadow', description: 'pipeline running, everyone on legacy', readNew: 0, write: 'legacy', criteria: { reconcileCleanRuns: 0 }, approvals: { count: 0, approvers: [] } },
  { name: 'verify', description: 'reconcile proves the new tables equal the mapped legacy ones', readNew: 0, write: 'legacy', criteria: { reconcileCleanRuns: 1, maxLagSeconds: 60 }, approvals: { count: 0, approvers: [] } },
  { name: 'canary', description: '5% of reads on new', readNew: 5, write: 'legacy', criteria: { reconcileCleanRuns: 3, maxLagSeconds: 30, minSoak: '1h' }, approvals: { count: 1, approvers: [] } },
  { name: 'ramp-25', description: '25% of reads on new', readNew: 25, write: 'legacy', criteria: { reconcileCleanRuns: 3, maxLagSeconds: 30, maxErrorRate: 0.01, minSoak: '1h' }, approvals: { count: 0, approvers: [] } },
  { name: 'ramp-50', description: '50% of reads on new', readNew: 50, write: 'legacy', criteria: { reconcileCleanRuns: 3, maxLagSeconds: 30, maxErrorRate: 0.01, minSoak: '2h' }, approvals: { count: 0, approvers: [] } },
  { name: 'ramp-100', description: 'all reads on new', readNew: 100, write: 'legacy', criteria: { reconcileCleanRuns: 3, maxLagSeconds: 30, maxErrorRate: 0.01, minSoak: '4h' }, approvals: { count: 0, approvers: [] } },
  { name: 'cutover', description: 'writes to new, reverse sync keeps legacy in step', readNew: 100, write: 'new', criteria: { reconcileCleanRuns: 5, maxLagSeconds: 30, maxErrorRate: 0.01, minSoak: '24h' }, approvals: { count: 2, approvers: [] } },
  { name: 'contract', description: 'legacy retired: reverse sync off', readNew: 100, write: 'new', reverseSync: false, criteria: { reconcileCleanRuns: 5, maxErrorRate: 0.01, minSoak: '7d' }, approvals: { count: 1, approvers: [] } },
];

export function buildPlan(connector: Connector): RolloutPlan {
  const rollout = connector.rollout;
  const phases = (rollout.phases ?? DEFAULT_PHASES).map((phase, index) => toPhase(phase, index));
  const plan: RolloutPlan = {
    migration: connector.name,
    groupId: rollout.groupId ?? connector.name,
    stickiness: rollout.stickiness,
    phases,
    rollback: {
      onDrift: rollout.rollback.onDrift,
      maxLagSeconds: rollout.rollback.maxLagSeconds,
      maxErrorRate: rollout.rollback.maxErrorRate,
      to: rollout.rollback.to ?? null,
    },
    watch: { intervalMs: parseDuration(rollout.watch.interval), autoPromote: rollout.watch.autoPromote, errorWindowMs: parseDuration(rollout.watch.errorWindow) },
    reverseTables: Object.keys(rollout.reverse),
  };
  if (plan.rollback.to !== null) phaseNamed(plan, plan.rollback.to);
  return deepFreeze(plan);
}

function toPhase(input: PhaseInput, index: number): Phase {
  const write = input.write ?? 'legacy';
  return {
    name: input.name,
    description: input.description ?? '',
    index,
    gates: { readNew: input.readNew, readNewServices: [...new Set(input.readNewServices ?? [])], write, reverseSync: write === 'new' ? (input.reverseSync ?? true) : false },
    criteria: {
      reconcileCleanRuns: input.criteria?.reconcileCleanRuns ?? 0,
      maxLagSeconds: input.criteria?.maxLagSeconds ?? null,
      maxErrorRate: input.criteria?.maxErrorRate ?? null,
      minSoakMs: input.criteria?.minSoak === undefined ? 0 : parseDuration(input.criteria.minSoak),
    },
    approvals: { count: input.approvals?.count ?? 0, approvers: input.approvals?.approvers ?? [] },
  };
}

export function phaseNamed(plan: RolloutPlan, name: string): Phase {
  const phase = plan.phases.find((candidate) => candidate.name === name);
  if (!phase) {
    throw new TandemError(`migration ${plan.migration} has no phase "${name}"`, { fix: `use one of: ${plan.phases.map((item) => item.name).join(', ')}` });
  }
  return phase;
}

export function nextPhase(plan: RolloutPlan, current: string): Phase | null {
  return plan.phases[phaseNamed(plan, current).index + 1] ?? null;
}

/**
 * Where an automatic rollback from `current` goes: rollback.to if it is earlier, else the last phase
 * before it with every gate on legacy (so nobody reads or writes new), else the first phase.
 */
export function rollbackTarget(plan: RolloutPlan, current: string): Phase | null {
  const phase = phaseNamed(plan, current);
  if (phase.index === 0) return null;
  if (plan.rollback.to !== null) {
    const configured = phaseNamed(plan, plan.rollback.to);
    if (configured.index < phase.index) return configured;
  }
  for (let index = phase.index - 1; index >= 0; index -= 1) {
    const candidate = plan.phases[index]!;
    if (everyoneOnLegacy(candidate.gates)) return candidate;
  }
  return plan.phases[0]!;
}

/** `5% of reads on new`, plus `and every read of billing, search` when services are named. */
export function describeReadNew(gates: Pick<Gates, 'readNew' | 'readNewServices'>): string {
  return `${gates.readNew}% of reads on new${gates.readNewServices.length > 0 ? `, and every read of ${gates.readNewServices.join(', ')}` : ''}`;
}

/** No reader (by percentage or by name) and no writer uses the new schema. */
export function everyoneOnLegacy(gates: Gates): boolean {
  return gates.readNew === 0 && gates.readNewServices.length === 0 && gates.write === 'legacy';
}

/** A phase whose legacy side no longer receives writes (write new, reverse sync off) cannot be left backwards. */
export function isIrreversible(phase: Phase): boolean {
  return phase.gates.write === 'new' && !phase.gates.reverseSync;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
