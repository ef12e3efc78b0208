/** Every run recorded in `tandem.reconcile_run` on the target: rollout's gates read it. */
import type pg from 'pg';
import { migrate } from '../pg/bookkeeping/migrate.js';
import { RECONCILE_BOOKKEEPING } from '../pg/bookkeeping/reconcile.js';
import type { ReportJson } from './report.js';

export async function prepareBookkeeping(client: pg.ClientBase): Promise<void> {
  await migrate(client, RECONCILE_BOOKKEEPING);
}

export async function startRun(client: pg.ClientBase, connector: string, direction: 'forward' | 'reverse' = 'forward'): Promise<string> {
  const { rows } = await client.query<{ id: string }>(`INSERT INTO tandem.reconcile_run (connector, status, direction) VALUES ($1, 'running', $2) RETURNING id::text`, [connector, direction]);
  return rows[0]!.id;
}

/** One table's counts as `tandem.reconcile_run.tables` stores them (the keys themselves are in the report files). */
export interface RecordedTableSummary {
  table: string;
  rowsCompared: number;
  missing: number;
  extra: number;
  different: number;
  /** Differing rows per column. */
  columns: Record<string, number>;
  inFlightResolved: number;
  repaired: number | null;
  /** Not compared: capture's snapshot of these source tables was still in progress. */
  awaitingSnapshot?: string[];
  /** Not verified: keys still differed while translate was behind. */
  unverified?: { keys: number; behind: string[] };
}

export function tableSummaries(report: ReportJson): RecordedTableSummary[] {
  return report.tables.map((table) => ({ table: table.table, rowsCompared: table.rowsCompared, missing: table.counts.missing, extra: table.counts.extra, different: table.counts.different, columns: table.columnCounts, inFlightResolved: table.inFlightResolved, repaired: table.repaired ?? null, ...(table.awaitingSnapshot ? { awaitingSnapshot: table.awaitingSnapshot } : {}), ...(table.unverified ? { unverified: table.unverified } : {}) }));
}

export async function finishRun(client: pg.ClientBase, id: string, report: ReportJson): Promise<void> {
  await client.query(
    `UPDATE tandem.reconcile_run SET finished_at = now(), status = $2, cut = $3, rows_compared = $4, drift_rows = $5, in_flight_resolved = $6, repaired_rows = $7, tables = $8 WHERE id = $1`,
    [id, report.status, JSON.stringify(report.cut), report.rowsCompared, report.drift, report.inFlightResolved, report.repair?.rows ?? null, JSON.stringify(tableSummaries(report))],
  );
}

export async function failRun(client: pg.ClientBase, id: string, error: unknown): Promise<void> {
  await client.query(`UPDATE tandem.reconcile_run SET finished_at = now(), status = 'error', error = $2 WHERE id = $1`, [id, (error as Error).message ?? String(error)]);
}
