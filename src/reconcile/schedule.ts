/**
 * `--schedule "<cron>"`: a long-running job that starts a run at each tick and never overlaps
 * itself (a tick that comes while a run is going is skipped and logged), with /metrics and /health.
 */
import { Cron } from 'croner';
import type { Connector } from '../config/index.js';
import { describeError, TandemError } from '../errors.js';
import { startObservabilityServer } from '../observability/server.js';
import { runReconcileJob, type JobOptions } from './job.js';
import { createReconcileMetrics } from './metrics.js';

export function parseSchedule(pattern: string): Cron {
  try {
    return new Cron(pattern, { paused: true });
  } catch (error) {
    throw new TandemError(`--schedule "${pattern}" is not a cron pattern: ${(error as Error).message}`, { fix: 'use 5 or 6 cron fields, e.g. "*/15 * * * *" for every 15 minutes' });
  }
}

export interface ScheduledReconcile {
  metricsUrl: string;
  /** Resolves when stop() was called and the run in progress (if any) ended. */
  stop(): Promise<void>;
  /** Runs that finished (any status), for tests. */
  runs(): number;
}

export async function startScheduledReconcile(connector: Connector, pattern: string, options: Omit<JobOptions, 'metrics'> & { metricsPort?: number }): Promise<ScheduledReconcile> {
  parseSchedule(pattern).stop();
  const metrics = createReconcileMetrics();
  const { logger } = options;
  let last: { status: string; finishedAt: string; error?: string } | null = null;
  let running: Promise<void> | null = null;
  let finished = 0;
  const server = await startObservabilityServer({
    port: options.metricsPort ?? connector.reconcile.metricsPort,
    registry: metrics.registry,
    health: () => ({ healthy: last?.status !== 'error', running: running !== null, lastRun: last, schedule: pattern, next: job.nextRun()?.toISOString() ?? null }),
  });
  const job = new Cron(pattern, { protect: (skipped) => logger.warn({ startedAt: skipped.currentRun()?.toISOString() }, 'reconcile tick skipped: the previous run is still going') }, async () => {
    const run = (async () => {
      try {
        const { report } = await runReconcileJob(connector, { ...options, metrics });
        last = { status: report.status, finishedAt: report.finishedAt };
        logger.info({ runId: report.runId, status: report.status, drift: report.drift }, `scheduled reconcile run ${report.runId}: ${report.status}, ${report.drift} drifted row(s)`);
      } catch (error) {
        last = { status: 'error', finishedAt: new Date().toISOString(), error: describeError(error) };
        logger.error({ err: error }, `scheduled reconcile run failed: ${describeError(error)}`);
      } finally {
        finished += 1;
      }
    })();
    running = run;
    await run;
    running = null;
  });
  logger.info({ schedule: pattern, next: job.nextRun()?.toISOString(), metrics: `${server.url}/metrics` }, `reconcile scheduled "${pattern}"; next run ${job.nextRun()?.toISOString()}`);
  return {
    metricsUrl: server.url,
    runs: () => finished,
    async stop() {
      job.stop();
      await running;
      await server.close();
    },
  };
}
