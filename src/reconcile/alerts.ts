/**
 * Drift alerts: a log line and, when configured, a webhook (JSON POST with a Slack-compatible
 * `text`). Deduplicated: an alert goes out when drift appears, when it changes (other keys, other
 * counts) and when it is resolved, never for the same drift twice. The last alerted state is kept
 * in `tandem.reconcile_alert`, so a restart does not repeat an alert.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { redactSecrets } from '../observability/redact.js';
import type { ReportJson } from './report.js';
import type { ReconcileResult } from './run.js';
import { keyId } from './segment.js';

export type AlertEvent = 'appeared' | 'changed' | 'resolved';

export interface DriftState {
  /** Identifies the set of drifted keys (and differing columns); '' when clean. */
  signature: string;
  driftRows: number;
}

/** The drift's identity: every drifted key of every table, by kind, and the differing columns. */
export function driftState(result: ReconcileResult): DriftState {
  if (result.drift === 0) return { signature: '', driftRows: 0 };
  const hash = createHash('sha256');
  for (const table of [...result.tables].sort((a, b) => a.table.localeCompare(b.table))) {
    hash.update(`${table.table}\n`);
    for (const [kind, keys] of [['missing', table.missing], ['extra', table.extra]] as const) for (const id of keys.map(keyId).sort()) hash.update(`${kind} ${id}\n`);
    for (const line of table.different.map((row) => `different ${keyId(row.key)} ${Object.keys(row.columns).sort().join(',')}`).sort()) hash.update(`${line}\n`);
  }
  return { signature: hash.digest('hex'), driftRows: result.drift };
}

/**
 * Which alert (if any) the move from the last alerted state to this run's state deserves. A run
 * that left tables out (`complete` false: capture still snapshotting them) cannot say drift is resolved.
 */
export function alertEvent(previous: DriftState | null, current: DriftState, complete = true): AlertEvent | null {
  const wasDrift = previous !== null && previous.driftRows > 0;
  if (current.driftRows === 0) return wasDrift && complete ? 'resolved' : null;
  if (!wasDrift) return 'appeared';
  return previous!.signature === current.signature ? null : 'changed';
}

export function alertText(event: AlertEvent, report: ReportJson): string {
  const tables = report.tables.filter((table) => table.drift > 0).map((table) => `${table.table}: ${table.counts.missing} missing, ${table.counts.extra} extra, ${table.counts.different} different`);
  switch (event) {
    case 'appeared':
      return `:warning: tandem reconcile ${report.connector}: drift found — ${report.drift} row(s) in ${tables.length} table(s) (${tables.join('; ')}). Run ${report.runId ?? '?'}.`;
    case 'changed':
      return `:warning: tandem reconcile ${report.connector}: drift changed — now ${report.drift} row(s) (${tables.join('; ')}). Run ${report.runId ?? '?'}.`;
    case 'resolved':
      return `:white_check_mark: tandem reconcile ${report.connector}: drift resolved — ${report.rowsCompared} rows compared, none differ. Run ${report.runId ?? '?'}.`;
  }
}

export interface AlertOptions {
  logger: Logger;
  webhookUrl?: string;
  /** For tests and custom transports; defaults to global fetch. */
  fetch?: typeof fetch;
}

async function readState(client: pg.ClientBase, connector: string, direction: string): Promise<DriftState | null> {
  const { rows } = await client.query<{ signature: string; drift_rows: string }>('SELECT signature, drift_rows::text FROM tandem.reconcile_alert WHERE connector = $1 AND direction = $2', [connector, direction]);
  return rows[0] ? { signature: rows[0].signature, driftRows: Number(rows[0].drift_rows) } : null;
}

/**
 * Sends the alert this run deserves, if any, and remembers the state once it was delivered (a
 * failed webhook is retried by the next run). Returns the event sent.
 */
export async function alertOnDrift(client: pg.ClientBase, result: ReconcileResult, report: ReportJson, options: AlertOptions): Promise<AlertEvent | null> {
  const current = driftState(result);
  const previous = await readState(client, result.connector, result.direction);
  const event = alertEvent(previous, current, result.status !== 'incomplete');
  if (event === null) return null;
  const text = alertText(event, report);
  const log = event === 'resolved' ? options.logger.info.bind(options.logger) : options.logger.warn.bind(options.logger);
  log({ alert: event, connector: result.connector, drift: result.drift, runId: report.runId }, text);
  if (options.webhookUrl) {
    const body = {
      text,
      event,
      connector: report.connector,
      status: report.status,
      drift: report.drift,
      runId: report.runId,
      tables: report.tables.map((table) => ({ table: table.table, missing: table.counts.missing, extra: table.counts.extra, different: table.counts.different, columns: table.columnCounts })),
    };
    try {
      const response = await (options.fetch ?? fetch)(options.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      options.logger.error({ alert: event, err: error }, `drift alert webhook failed (${redactSecrets((error as Error).message)}); the next run sends it again`);
      return null;
    }
  }
  await client.query(
    `INSERT INTO tandem.reconcile_alert (connector, direction, signature, drift_rows, run_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (connector, direction) DO UPDATE SET signature = EXCLUDED.signature, drift_rows = EXCLUDED.drift_rows, run_id = EXCLUDED.run_id, alerted_at = now()`,
    [result.connector, result.direction, current.signature, current.driftRows, report.runId ?? 0],
  );
  return event;
}
