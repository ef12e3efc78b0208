/**
 * A reconcile run as the command runs it: bookkeeping migrated, the run recorded from start to end,
 * the comparison, optional repair and its recheck, report files, metrics and deduplicated alerts.
 */
import { writeFile } from 'node:fs/promises';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { connectClient } from '../pg/connect.js';
import { translateGroupId } from '../translate/setup.js';
import { alertOnDrift, type AlertEvent } from './alerts.js';
import { exactCut, kafkaEndOffsets } from './cut.js';
import { recordRun, type ReconcileMetrics } from './metrics.js';
import { repairDrift } from './repair.js';
import { buildReport, rendererFor, type ReportJson } from './report.js';
import { runReconcile, type CutStrategy, type TableProgress } from './run.js';
import { failRun, finishRun, prepareBookkeeping, startRun } from './runs.js';

export interface JobOptions {
  tables?: readonly string[];
  /** Files to write: .html, .md or .json by extension. */
  reports?: readonly string[];
  repair?: boolean;
  logger: Logger;
  metrics?: ReconcileMetrics;
  onProgress?: (progress: TableProgress) => void;
  /** Default: the exact cut with translate's barrier, settling and rechecking when it cannot be had. */
  cut?: CutStrategy;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface JobResult {
  report: ReportJson;
  alert: AlertEvent | null;
}

/** Checked before anything runs, so a typo in --report fails fast. */
export function checkReportFiles(files: readonly string[]): void {
  for (const file of files) {
    if (!rendererFor(file)) throw new TandemError(`--report ${file}: unknown report format`, { fix: 'name the file .html, .md or .json' });
  }
}

export async function runReconcileJob(connector: Connector, options: JobOptions): Promise<JobResult> {
  checkReportFiles(options.reports ?? []);
  const bookkeeping = await connectClient(connector.target.url, 'target', { application_name: 'tandem reconcile' });
  try {
    await prepareBookkeeping(bookkeeping);
    const runId = await startRun(bookkeeping, connector.name);
    let report: ReportJson;
    try {
      const result = await runReconcile(connector, { tables: options.tables, logger: options.logger, onProgress: options.onProgress, cut: options.cut ?? exactCut(connector, { logger: options.logger, endOffsets: kafkaEndOffsets(connector, options.logger), groupId: translateGroupId(connector) }), signal: options.signal });
      let repair: { repaired: Map<string, number>; recheckDrift: number } | undefined;
      if (options.repair && result.drift > 0) {
        repair = await repairDrift(connector, result, result.targets, runId, options.logger);
        options.logger.info({ repaired: Object.fromEntries(repair.repaired), recheckDrift: repair.recheckDrift }, `repair done: recheck found ${repair.recheckDrift} drifted row(s)`);
      }
      report = buildReport(result, { runId, cap: connector.reconcile.reportKeys, repaired: repair?.repaired, recheckDrift: repair?.recheckDrift });
      await finishRun(bookkeeping, runId, report);
      if (options.metrics) recordRun(options.metrics, report);
      for (const file of options.reports ?? []) {
        await writeFile(file, rendererFor(file)!(report));
        options.logger.info({ file }, `report written to ${file}`);
      }
      const alert = await alertOnDrift(bookkeeping, result, report, { logger: options.logger, webhookUrl: connector.reconcile.webhook?.url as string | undefined, fetch: options.fetch });
      return { report, alert };
    } catch (error) {
      await failRun(bookkeeping, runId, error).catch(() => undefined);
      options.metrics?.runs.inc({ status: 'error' });
      throw error;
    }
  } finally {
    await bookkeeping.end().catch(() => undefined);
  }
}
