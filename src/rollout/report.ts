/** Text renderings of status, plan and history for the CLI. Pure. */
import { renderTable } from '../cli/format.js';
import type { RolloutStatus } from './controller.js';
import { formatDuration } from '../config/duration.js';
import type { Gates, Phase, RolloutPlan } from './plan.js';
import type { RolloutState } from './state.js';
import type { AuditEntry } from './store.js';

export function describeGates(gates: Gates): string {
  return `reads ${gates.readNew}% new${gates.readNewServices.length > 0 ? ` and all of ${gates.readNewServices.join(', ')}` : ''}, writes ${gates.write}${gates.reverseSync ? ', reverse sync on' : ''}`;
}

export function renderStatus(status: RolloutStatus): string {
  const { state, current, next, verdict, triggers, evidence } = status;
  const lines = [
    `migration ${state.migration}: phase ${current.name} (${current.index + 1} of ${status.plan.phases.length}) since ${state.enteredAt}, version ${state.version}`,
    `gates: ${describeGates(state.gates)} (stickiness ${status.plan.stickiness}, group id ${state.groupId})`,
    `evidence at ${evidence.at}: lag ${evidence.lag.seconds === null ? 'unknown' : `${evidence.lag.seconds.toFixed(1)}s`}, applied ${evidence.lag.appliedPosition ?? 'unknown'}, source ${evidence.lag.sourceLsn ?? 'unknown'}; ${evidence.reconcileRuns.length === 0 ? 'no reconcile run' : `last reconcile run ${evidence.reconcileRuns[0]!.id} ${evidence.reconcileRuns[0]!.status}`}`,
  ];
  if (state.approvals.length > 0) lines.push(`approvals: ${state.approvals.map((approval) => `${approval.phase} by ${approval.by}`).join(', ')}`);
  if (next && verdict) {
    lines.push('', `next: ${next.name} (${describeGates(next.gates)}): ${verdict.met ? 'ready, every criterion met' : 'not ready'}`);
    if (verdict.criteria.length === 0) lines.push('  (no criteria)');
    for (const criterion of verdict.criteria) lines.push(`  ${criterion.met ? '✓' : '✗'} ${criterion.name}: ${criterion.required}; now ${criterion.actual}`);
  } else {
    lines.push('', 'last phase: the rollout is complete');
  }
  if (triggers.length > 0) {
    lines.push('', 'rollback triggers:');
    for (const trigger of triggers) lines.push(`  ${trigger.fired ? '✗ FIRED' : '✓'} ${trigger.name}: ${trigger.bound}; now ${trigger.actual}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface PlannedPhase {
  phase: Phase;
  status: 'done' | 'current' | 'ahead';
  /** The earliest time it can start given the soak times (current: when it started). */
  earliest: string | null;
}

/** Phases with their earliest start: each ahead phase after the previous one's earliest start plus its soak. */
export function planTimeline(plan: RolloutPlan, state: RolloutState, now: Date): PlannedPhase[] {
  const currentIndex = plan.phases.findIndex((phase) => phase.name === state.phase);
  let previousStart = Date.parse(state.enteredAt);
  return plan.phases.map((phase) => {
    if (phase.index < currentIndex) return { phase, status: 'done', earliest: null };
    if (phase.index === currentIndex) return { phase, status: 'current', earliest: state.enteredAt };
    const start = Math.max(now.getTime(), previousStart + phase.criteria.minSoakMs);
    previousStart = start;
    return { phase, status: 'ahead', earliest: new Date(start).toISOString() };
  });
}

export function renderPlan(plan: RolloutPlan, state: RolloutState, now: Date): string {
  const rows = planTimeline(plan, state, now).map(({ phase, status, earliest }) => [
    status === 'current' ? `▶ ${phase.name}` : `  ${phase.name}`,
    `${phase.gates.readNew}%${phase.gates.readNewServices.length > 0 ? ` + ${phase.gates.readNewServices.join(', ')}` : ''}`,
    phase.gates.write,
    phase.gates.reverseSync ? 'on' : 'off',
    [
      phase.criteria.reconcileCleanRuns > 0 ? `${phase.criteria.reconcileCleanRuns} clean runs` : '',
      phase.criteria.maxLagSeconds !== null ? `lag ≤ ${phase.criteria.maxLagSeconds}s` : '',
      phase.criteria.maxErrorRate !== null ? `errors ≤ ${phase.criteria.maxErrorRate * 100}%` : '',
    ]
      .filter(Boolean)
      .join(', ') || '-',
    phase.criteria.minSoakMs > 0 ? formatDuration(phase.criteria.minSoakMs) : '-',
    phase.approvals.count > 0 ? `${phase.approvals.count}${phase.approvals.approvers.length ? ` (${phase.approvals.approvers.join(', ')})` : ''}` : '-',
    status === 'done' ? 'done' : status === 'current' ? `since ${earliest}` : `${earliest}`,
  ]);
  const triggers = `rollback triggers: ${plan.rollback.onDrift ? 'drift after the phase began, ' : ''}lag > ${plan.rollback.maxLagSeconds}s, error rate > ${plan.rollback.maxErrorRate * 100}%`;
  return `${renderTable(['phase', 'reads new', 'writes', 'reverse', 'criteria', 'soak', 'approvals', 'earliest start'], rows)}\n\n${triggers}\n`;
}

export function renderHistory(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'no changes yet\n';
  const rows = entries.map((entry) => [
    entry.id,
    entry.at,
    entry.action + (entry.forced ? ' (forced)' : ''),
    entry.from === entry.to ? entry.to : `${entry.from} → ${entry.to}`,
    entry.actorKind === 'cli' && entry.osUser && entry.osUser !== entry.actor ? `${entry.actor} (${entry.osUser})` : entry.actorKind === 'api-key' ? `key ${entry.actor}` : entry.actor,
    entry.reason ?? '',
  ]);
  return `${renderTable(['id', 'at', 'action', 'phase', 'who', 'why'], rows)}\n`;
}
