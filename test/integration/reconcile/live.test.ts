/**
 * Reconcile on a live system: capture and translate running (translate's scenario: split, merge,
 * soft delete, lookup, type changes, foreign keys) under a steady write workload. Every run must
 * get the exact cut (translate holds each partition at the cut's WAL position while reconcile opens
 * its target snapshot), and settle and recheck is off: a change in flight would show as drift.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { parseLsn } from '../../../src/pg/lsn.js';
import { runReconcileJob } from '../../../src/reconcile/job.js';
import { keyId } from '../../../src/reconcile/segment.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { createTranslateMetrics } from '../../../src/translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { mulberry32 } from '../../support/random.js';
import { LEGACY_DDL, MAPPINGS, TABLES, TARGET_DDL, targetMatchesLegacy } from '../translate/scenario.js';

const seed = Number(process.env.TANDEM_TEST_SEED ?? Date.now() % 1_000_000);
console.log(`live.test seed ${seed} (TANDEM_TEST_SEED=${seed} repeats it)`);

/** Customers 1–29 and their orders and points change all the time; 30–299 are left alone (drift is injected there). */
class Workload {
  private running = true;
  private loop: Promise<void> | null = null;
  transactions = 0;

  constructor(private readonly legacy: TestDatabase) {}

  start(): void {
    const random = mulberry32(seed);
    this.loop = (async () => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: this.legacy.url });
      await client.connect();
      try {
        for (let round = 0; this.running; round += 1) {
          const id = 1 + Math.floor(random() * 29);
          const live = id % 10 !== 0;
          const roll = random();
          const order = 10_000 + (round % 50);
          const statement =
            roll >= 0.93
              ? // A new customer and its order in one transaction: on their way through two topics the order may be parked until its customer is applied.
                `BEGIN; INSERT INTO legacy.customers VALUES (${5000 + round}, 'New${round}', 'Customer', 'new${round}@example.org', 1, '2024-06-01 09:00:00', 'Road ${round}', false, NULL);
                 INSERT INTO legacy.orders VALUES (${50_000 + round}, ${5000 + round}, ${round} * 0.11, '2024-06-01 09:05:00'); COMMIT`
              : roll < 0.3
              ? `UPDATE legacy.customers SET email = 'U${round}@Example.org', status_code = ${round % 3} WHERE id = ${id}`
              : roll < 0.5 && live
                ? `INSERT INTO legacy.loyalty VALUES (${id}, ${round}) ON CONFLICT (customer_id) DO UPDATE SET points = EXCLUDED.points`
                : roll < 0.75 && live
                  ? `INSERT INTO legacy.orders VALUES (${order}, ${id}, ${round} * 0.37, '2024-05-0${1 + (round % 9)} 10:00:00') ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total`
                  : roll < 0.85
                    ? `DELETE FROM legacy.orders WHERE id = ${order}`
                    : `BEGIN; UPDATE legacy.customers SET first_name = 'F${round}' WHERE id = ${id}; UPDATE legacy.orders SET total = total + 1 WHERE customer_id = ${id}; COMMIT`;
          await client.query(statement);
          this.transactions += 1;
          await new Promise((resolve) => setTimeout(resolve, 40)); // the workload's pace (~20 transactions/s), not a wait for a condition
        }
      } finally {
        await client.end();
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe('reconcile with capture and translate running under writes', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let capture: CaptureWorker;
  let translate: TranslateWorker;
  let connector: Connector;
  let workload: Workload;

  beforeAll(async () => {
    legacy = await createTestDatabase('reconcile_live_legacy');
    target = await createTestDatabase('reconcile_live_target');
    stack = await startTestKafkaStack();
    await legacy.sql(LEGACY_DDL);
    await target.sql(TARGET_DDL);
    await legacy.sql(`INSERT INTO legacy.customers SELECT g, 'First' || g, 'Last' || g, 'User' || g || '@Example.COM', g % 3, '2024-03-31 0' || (g % 10) || ':30:00',
        'Street ' || g || E'\\nCity ' || g, g % 10 = 0, 'notes ' || g FROM generate_series(1, 300) g;
      INSERT INTO legacy.orders SELECT g, 1 + (g % 299), g * 1.115, '2024-10-27 02:30:00' FROM generate_series(1, 400) g WHERE (1 + g % 299) % 10 <> 0;
      INSERT INTO legacy.loyalty SELECT g, g * 10 FROM generate_series(1, 300, 3) g WHERE g % 10 <> 0;`);
    connector = testConnector({
      name: uniqueName('rlive'),
      sourceUrl: legacy.url,
      targetUrl: target.url,
      tables: TABLES,
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      extra: { mappings: MAPPINGS, translate: { parkRetryMs: 200 }, reconcile: { chunkRows: 100, bisectRows: 20, cutTimeoutMs: 30_000, settleRounds: 0 } },
    });
    capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    translate = await startTranslate(connector, { logger: testLogger('translate'), metrics: createTranslateMetrics() });
    await until(async () => (await targetMatchesLegacy(legacy, target)) === true, { describe: 'translate to apply the snapshot', timeoutMs: 90_000, intervalMs: 300 });
    workload = new Workload(legacy);
    workload.start();
  }, 180_000);

  afterAll(async () => {
    await workload?.stop();
    await translate?.stop();
    await capture?.stop();
    await stack?.stop();
  });

  it('reports zero drift in ten consecutive runs while the workload writes, each at the exact cut', async () => {
    const logger = testLogger('reconcile');
    const results: { drift: number; cut: string; lsn: string; reason?: string }[] = [];
    for (let run = 0; run < 10; run += 1) {
      const before = workload.transactions;
      const { report } = await runReconcileJob(connector, { logger });
      results.push({ drift: report.drift, cut: report.cut.mode, lsn: report.cut.sourceLsn, ...(report.cut.reason ? { reason: report.cut.reason } : {}) });
      expect(report.cut, 'the exact cut').toMatchObject({ mode: 'exact' });
      expect(Object.keys(report.cut.applied ?? {}).length).toBeGreaterThan(0);
      for (const applied of Object.values(report.cut.applied!)) expect(parseLsn(applied) < parseLsn(report.cut.sourceLsn)).toBe(true);
      expect(report.tables.map((table) => [table.table, table.counts])).toEqual([
        ['app.customer', { missing: 0, extra: 0, different: 0 }],
        ['app.customer_address', { missing: 0, extra: 0, different: 0 }],
        ['app.orders', { missing: 0, extra: 0, different: 0 }],
      ]);
      await until(() => workload.transactions > before, { describe: 'the workload to write during the run' });
    }
    console.log(`ten runs under writes: ${JSON.stringify(results)}`);
    const runs = await target.sql<{ status: string; mode: string }>(`SELECT status, cut->>'mode' AS mode FROM tandem.reconcile_run WHERE connector = $1 ORDER BY id`, [connector.name]);
    expect(runs).toEqual(Array(10).fill({ status: 'clean', mode: 'exact' }));
    // The workload went on through the runs, and translate held partitions at the cuts.
    const holds = await target.sql<{ n: string }>(`SELECT count(*) AS n FROM tandem.reconcile_cut_hold h JOIN tandem.reconcile_cut c ON c.id = h.cut_id WHERE c.connector = $1`, [connector.name]);
    const [parked] = await target.sql<{ n: string }>('SELECT coalesce(sum(parked), 0) AS n FROM tandem.translate_batches');
    console.log(`partitions held at the ten cuts: ${holds[0]!.n}; changes parked on the way (an order before its new customer): ${parked!.n}`);
    const cuts = await target.sql<{ status: string }>(`SELECT status FROM tandem.reconcile_cut WHERE connector = $1 ORDER BY id`, [connector.name]);
    expect(cuts.map((cut) => cut.status)).toEqual(Array(10).fill('released'));
  }, 300_000);

  it('reports every key of drift injected into the new tables during the workload, and no other', async () => {
    const changed = await target.sql<{ id: number }>(`UPDATE app.customer SET email = 'injected@example.org' WHERE id IN (31, 57, 142, 233) RETURNING id`);
    const deleted = await target.sql<{ id: number }>(`DELETE FROM app.orders WHERE id IN (SELECT id FROM app.orders WHERE customer_id BETWEEN 40 AND 299 ORDER BY id LIMIT 3) RETURNING id`);
    const extra = await target.sql<{ customer_id: number }>(`DELETE FROM app.customer_address WHERE customer_id IN (61, 62) RETURNING customer_id`);
    const { report } = await runReconcileJob(connector, { logger: testLogger('reconcile') });
    expect(report.cut).toMatchObject({ mode: 'exact' });
    const table = (name: string) => report.tables.find((item) => item.table === name)!;
    const keys = (items: Record<string, string>[]) => items.map((key) => keyId(Object.values(key))).sort();
    expect(keys(table('app.customer').different.map((row) => row.key))).toEqual(keys(changed.map((row) => ({ id: String(row.id) }))));
    for (const row of table('app.customer').different) expect(Object.keys(row.columns)).toEqual(['email']);
    expect(keys(table('app.orders').missing)).toEqual(keys(deleted.map((row) => ({ id: String(row.id) }))));
    expect(keys(table('app.customer_address').missing)).toEqual(keys(extra.map((row) => ({ customer_id: String(row.customer_id) }))));
    expect(report.drift).toBe(changed.length + deleted.length + extra.length);
  }, 120_000);
});
