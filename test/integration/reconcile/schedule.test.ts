import { describe, expect, it } from 'vitest';
import { startScheduledReconcile } from '../../../src/reconcile/schedule.js';
import { settleCut } from '../../../src/reconcile/run.js';
import { createTestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { createShop, shopConnector, silentLogger } from './fixture.js';

describe('tandem reconcile --schedule', () => {
  it('runs at every tick without overlapping itself, with /metrics and /health', async () => {
    const db = await createTestDatabase('reconcile_schedule');
    await createShop(db, 3_000);
    const connector = shopConnector(db);
    // Every second: runs take about as long, so some ticks come while one is going.
    const scheduled = await startScheduledReconcile(connector, '* * * * * *', { logger: silentLogger, metricsPort: 0, cut: settleCut(connector) });
    try {
      await until(() => scheduled.runs() >= 3, { describe: 'three scheduled runs', timeoutMs: 60_000 });
      const metrics = await (await fetch(`${scheduled.metricsUrl}/metrics`)).text();
      expect(Number(/tandem_reconcile_runs_total\{status="clean"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
      expect(metrics).toMatch(/tandem_reconcile_rows_compared_total\{table="app.customer"\} \d+/);
      expect(metrics).toMatch(/tandem_reconcile_drift_rows\{table="app.account",kind="missing"\} 0/);
      expect(metrics).toMatch(/tandem_reconcile_last_success_timestamp_seconds \d+/);
      const health = await fetch(`${scheduled.metricsUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ healthy: true, schedule: '* * * * * *', lastRun: { status: 'clean' } });
    } finally {
      await scheduled.stop();
    }
    const runs = await db.sql<{ started_at: Date; finished_at: Date; status: string }>('SELECT started_at, finished_at, status FROM tandem.reconcile_run ORDER BY id');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (let index = 1; index < runs.length; index += 1) expect(runs[index]!.started_at.getTime()).toBeGreaterThanOrEqual(runs[index - 1]!.finished_at.getTime());
    expect(runs.every((run) => run.status === 'clean')).toBe(true);
  });
});
