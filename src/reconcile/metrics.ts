import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReportJson } from './report.js';

/** Prometheus metrics of a reconcile process (one-shot or scheduled). */
export function createReconcileMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tandem_process_' });
  return {
    registry,
    rowsCompared: new Counter({ name: 'tandem_reconcile_rows_compared_total', help: 'Rows compared, by target table', labelNames: ['table'], registers: [registry] }),
    driftRows: new Gauge({ name: 'tandem_reconcile_drift_rows', help: 'Drifted rows found by the last run, by target table and kind (missing, extra, different)', labelNames: ['table', 'kind'], registers: [registry] }),
    inFlightResolved: new Gauge({ name: 'tandem_reconcile_in_flight_resolved_rows', help: 'Rows that differed at first and matched when rechecked, last run', labelNames: ['table'], registers: [registry] }),
    duration: new Histogram({ name: 'tandem_reconcile_run_duration_seconds', help: 'Duration of reconcile runs', buckets: [1, 5, 15, 60, 300, 900, 3600], registers: [registry] }),
    runs: new Counter({ name: 'tandem_reconcile_runs_total', help: 'Reconcile runs, by status (clean, drift, incomplete, error)', labelNames: ['status'], registers: [registry] }),
    lastSuccess: new Gauge({ name: 'tandem_reconcile_last_success_timestamp_seconds', help: 'Unix time of the end of the last run that completed (clean or drift)', registers: [registry] }),
    repairedRows: new Counter({ name: 'tandem_reconcile_repaired_rows_total', help: 'Target rows rewritten by --repair, by table', labelNames: ['table'], registers: [registry] }),
  };
}

export type ReconcileMetrics = ReturnType<typeof createReconcileMetrics>;

export function recordRun(metrics: ReconcileMetrics, report: ReportJson): void {
  metrics.runs.inc({ status: report.status });
  metrics.duration.observe(report.durationMs / 1000);
  metrics.lastSuccess.set(Date.parse(report.finishedAt) / 1000);
  for (const table of report.tables) {
    metrics.rowsCompared.inc({ table: table.table }, table.rowsCompared);
    for (const kind of ['missing', 'extra', 'different'] as const) metrics.driftRows.set({ table: table.table, kind }, table.counts[kind]);
    metrics.inFlightResolved.set({ table: table.table }, table.inFlightResolved);
    if (table.repaired) metrics.repairedRows.inc({ table: table.table }, table.repaired);
  }
}
