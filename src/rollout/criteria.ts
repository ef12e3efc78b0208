/**
 * Entry criteria and rollback triggers evaluated over evidence: plain data in, plain verdicts out.
 * The evidence adapter (evidence.ts) gathers the data from PostgreSQL; nothing here does I/O.
 */
import { formatDuration } from '../config/duration.js';
import { everyoneOnLegacy, type Phase, type RolloutPlan } from './plan.js';
import type { RolloutState } from './state.js';

/** One recorded reconcile run (reconcile's `tandem.reconcile_run`). */
export interface ReconcileRun {
  readonly id: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** incomplete: capture was still snapshotting a source table, so some tables were not compared (not evidence of clean). */
  readonly status: 'clean' | 'drift' | 'incomplete' | 'error' | 'running';
  readonly direction: 'forward' | 'reverse';
  readonly driftRows: number;
}

/** How far translate is behind the source. */
export interface LagEvidence {
  /** Seconds from a source commit to its apply on the target; null when unknown. */
  readonly seconds: number | null;
  /** Translate's applied source position (LSN). */
  readonly appliedPosition: string | null;
  /** The source's current WAL position when the evidence was gathered. */
  readonly sourceLsn: string | null;
}

/** What services reported over the error window (SDK reportError and decisions). */
export interface TrafficEvidence {
  readonly windowMs: number;
  readonly decisionsNew: number;
  readonly errorsNew: number;
}

export interface Evidence {
  readonly at: string;
  /** Finished runs, newest first. */
  readonly reconcileRuns: readonly ReconcileRun[];
  readonly lag: LagEvidence;
  readonly traffic: TrafficEvidence;
}

export type CriterionName = 'reconcile' | 'lag' | 'error-rate' | 'soak' | 'approvals';

export interface CriterionResult {
  readonly name: CriterionName;
  /** What must hold, in words: `last 3 reconcile runs clean`. */
  readonly required: string;
  /** What was seen: `3 of 3 clean (runs 12, 11, 10)`. */
  readonly actual: string;
  readonly met: boolean;
  /** The number behind `actual`, for charts and JSON (null when unknown). */
  readonly value: number | null;
  readonly runIds?: readonly string[];
}

export interface EntryVerdict {
  readonly phase: string;
  readonly met: boolean;
  readonly criteria: readonly CriterionResult[];
  /** When soak alone is still unmet: the time it will be met. */
  readonly earliest: string | null;
}

/** The reconcile direction that matters now: reverse once writes go to new. */
export function reconcileDirection(state: RolloutState): 'forward' | 'reverse' {
  return state.gates.write === 'new' ? 'reverse' : 'forward';
}

export function errorRate(traffic: TrafficEvidence): number | null {
  if (traffic.decisionsNew === 0) return traffic.errorsNew === 0 ? null : Number.POSITIVE_INFINITY;
  return traffic.errorsNew / traffic.decisionsNew;
}

/** Every entry criterion of `target` with its current value. */
export function evaluateEntry(target: Phase, state: RolloutState, evidence: Evidence): EntryVerdict {
  const results: CriterionResult[] = [];
  const { criteria } = target;
  const now = Date.parse(evidence.at);

  if (criteria.reconcileCleanRuns > 0) {
    const direction = reconcileDirection(state);
    const recent = evidence.reconcileRuns.filter((run) => run.direction === direction && run.finishedAt !== null).slice(0, criteria.reconcileCleanRuns);
    const clean = recent.filter((run) => run.status === 'clean').length;
    const met = recent.length === criteria.reconcileCleanRuns && clean === recent.length;
    const ids = recent.map((run) => run.id);
    results.push({
      name: 'reconcile',
      required: `last ${criteria.reconcileCleanRuns} ${direction} reconcile run${criteria.reconcileCleanRuns === 1 ? '' : 's'} clean`,
      actual: recent.length === 0 ? 'no finished run' : `${clean} of ${recent.length} clean (run${ids.length === 1 ? '' : 's'} ${ids.join(', ')}${recent.some((run) => run.status === 'drift') ? `; drift in ${recent.filter((run) => run.status === 'drift').map((run) => `${run.id}: ${run.driftRows} rows`).join(', ')}` : ''}${recent.some((run) => run.status === 'incomplete') ? `; incomplete (capture still snapshotting): ${recent.filter((run) => run.status === 'incomplete').map((run) => run.id).join(', ')}` : ''})`,
      met,
      value: clean,
      runIds: ids,
    });
  }

  if (criteria.maxLagSeconds !== null) {
    const seconds = evidence.lag.seconds;
    results.push({
      name: 'lag',
      required: `end-to-end lag ≤ ${criteria.maxLagSeconds}s`,
      actual: seconds === null ? 'unknown (translate has not reported a position)' : `${round(seconds)}s`,
      met: seconds !== null && seconds <= criteria.maxLagSeconds,
      value: seconds,
    });
  }

  if (criteria.maxErrorRate !== null) {
    const rate = errorRate(evidence.traffic);
    const window = formatDuration(evidence.traffic.windowMs);
    results.push({
      name: 'error-rate',
      required: `error rate on new ≤ ${percent(criteria.maxErrorRate)} over ${window}`,
      actual: rate === null ? 'no reads on new reported yet (0 errors)' : `${percent(rate)} (${evidence.traffic.errorsNew} errors / ${evidence.traffic.decisionsNew} decisions)`,
      met: rate === null || rate <= criteria.maxErrorRate,
      value: rate,
    });
  }

  let earliest: string | null = null;
  if (criteria.minSoakMs > 0) {
    const soaked = now - Date.parse(state.enteredAt);
    const met = soaked >= criteria.minSoakMs;
    if (!met) earliest = new Date(Date.parse(state.enteredAt) + criteria.minSoakMs).toISOString();
    results.push({
      name: 'soak',
      required: `${formatDuration(criteria.minSoakMs)} in ${state.phase}`,
      actual: `${formatDuration(Math.max(0, soaked))} so far${met ? '' : ` (from ${earliest})`}`,
      met,
      value: Math.max(0, soaked) / 1000,
    });
  }

  if (target.approvals.count > 0) {
    const approvers = approvalsFor(target, state);
    results.push({
      name: 'approvals',
      required: `${target.approvals.count} approval${target.approvals.count === 1 ? '' : 's'}${target.approvals.approvers.length > 0 ? ` from ${target.approvals.approvers.join(', ')}` : ''}`,
      actual: approvers.length === 0 ? 'none' : `${approvers.length} (${approvers.join(', ')})`,
      met: approvers.length >= target.approvals.count,
      value: approvers.length,
    });
  }

  const met = results.every((result) => result.met);
  return { phase: target.name, met, criteria: results, earliest: met ? null : earliest };
}

/** The distinct people (or keys) whose approval of `target` counts. */
export function approvalsFor(target: Phase, state: RolloutState): string[] {
  const allowed = target.approvals.approvers;
  const names = state.approvals.filter((approval) => approval.phase === target.name && (allowed.length === 0 || allowed.includes(approval.by))).map((approval) => approval.by);
  return [...new Set(names)];
}

export interface TriggerResult {
  readonly name: 'drift' | 'lag' | 'error-rate';
  readonly bound: string;
  readonly actual: string;
  readonly fired: boolean;
  readonly value: number | null;
  readonly runIds?: readonly string[];
}

/**
 * The rollback triggers of the current phase. They guard only phases that expose the new schema
 * (some reads or the writes on new): before that there is nothing to roll back.
 */
export function evaluateTriggers(plan: RolloutPlan, state: RolloutState, evidence: Evidence): TriggerResult[] {
  if (everyoneOnLegacy(state.gates)) return [];
  const { rollback } = plan;
  const results: TriggerResult[] = [];
  if (rollback.onDrift) {
    const direction = reconcileDirection(state);
    const entered = Date.parse(state.enteredAt);
    const drifted = evidence.reconcileRuns.filter((run) => run.direction === direction && run.status === 'drift' && Date.parse(run.startedAt) >= entered);
    results.push({
      name: 'drift',
      bound: `no ${direction} reconcile run started in ${state.phase} finds drift`,
      actual: drifted.length === 0 ? 'none' : drifted.map((run) => `run ${run.id}: ${run.driftRows} rows`).join(', '),
      fired: drifted.length > 0,
      value: drifted.reduce((sum, run) => sum + run.driftRows, 0),
      runIds: drifted.map((run) => run.id),
    });
  }
  const seconds = evidence.lag.seconds;
  results.push({
    name: 'lag',
    bound: `lag ≤ ${rollback.maxLagSeconds}s`,
    actual: seconds === null ? 'unknown' : `${round(seconds)}s`,
    fired: seconds !== null && seconds > rollback.maxLagSeconds,
    value: seconds,
  });
  const rate = errorRate(evidence.traffic);
  results.push({
    name: 'error-rate',
    bound: `error rate on new ≤ ${percent(rollback.maxErrorRate)}`,
    actual: rate === null ? 'no reads on new reported' : `${percent(rate)} (${evidence.traffic.errorsNew}/${evidence.traffic.decisionsNew})`,
    fired: rate !== null && rate > rollback.maxErrorRate,
    value: rate,
  });
  return results;
}

function round(value: number): string {
  return value < 10 ? value.toFixed(1) : String(Math.round(value));
}

function percent(rate: number): string {
  if (!Number.isFinite(rate)) return '∞';
  return `${Number((rate * 100).toFixed(2))}%`;
}
