/**
 * Reconcile while capture's initial snapshot is still on its way: the new tables hold only part of
 * the legacy rows, which is not drift. The run says INCOMPLETE, names the tables it left out and the
 * snapshot they wait for, raises no alert and is not counted as clean; once the snapshot is in, the
 * next run compares everything at the exact cut. Kafka's answers to capture's Produce requests are
 * held by a proxy, so the snapshot stays in progress for as long as the test needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { ApiKey } from '../../../src/embedded/broker/protocol/index.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { runReconcileJob } from '../../../src/reconcile/job.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { createTranslateMetrics } from '../../../src/translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startKafkaFaultProxy, type KafkaFaultProxy } from '../../support/kafka-proxy.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { LEGACY_DDL, MAPPINGS, TABLES, TARGET_DDL, targetMatchesLegacy } from '../translate/scenario.js';

describe('reconcile while capture is still snapshotting', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let proxy: KafkaFaultProxy;
  let connector: Connector;
  let starting: Promise<CaptureWorker> | null = null;
  let translate: TranslateWorker | null = null;
  let releaseProduce = () => undefined as void;
  const produceHeld = new Promise<void>((resolve) => (releaseProduce = resolve));
  let held = 0;

  beforeAll(async () => {
    legacy = await createTestDatabase('reconcile_snapshot_legacy');
    target = await createTestDatabase('reconcile_snapshot_target');
    stack = await startTestKafkaStack();
    proxy = await startKafkaFaultProxy(stack.brokers, {
      holdResponse: (apiKey) => {
        if (apiKey !== ApiKey.Produce) return undefined;
        held += 1;
        return produceHeld;
      },
    });
    await legacy.sql(LEGACY_DDL);
    await target.sql(TARGET_DDL);
    await legacy.sql(`INSERT INTO legacy.customers SELECT g, 'First' || g, 'Last' || g, 'user' || g || '@example.com', g % 3, '2024-03-31 08:30:00', 'Street ' || g, false, NULL FROM generate_series(1, 200) g;
      INSERT INTO legacy.orders SELECT g, 1 + (g % 200), g * 1.5, '2024-10-27 02:30:00' FROM generate_series(1, 300) g;
      INSERT INTO legacy.loyalty SELECT g, g * 10 FROM generate_series(1, 200, 2) g;`);
    connector = testConnector({
      name: uniqueName('rsnap'),
      sourceUrl: legacy.url,
      targetUrl: target.url,
      tables: TABLES,
      brokers: proxy.brokers,
      registryUrl: stack.registryUrl,
      // A short cut timeout: capture cannot have Kafka acknowledge anything while the proxy holds it.
      extra: { mappings: MAPPINGS, translate: { parkRetryMs: 200 }, reconcile: { chunkRows: 100, bisectRows: 20, cutTimeoutMs: 2_000, settleRounds: 0 } },
    });
    starting = startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    starting.catch(() => undefined);
  }, 120_000);

  afterAll(async () => {
    releaseProduce();
    await translate?.stop();
    await (await starting?.catch(() => null))?.stop();
    await proxy?.stop();
    await stack?.stop();
  });

  it('reports the run incomplete, naming what waits for the snapshot, with no drift and no alert; then clean at the exact cut once the snapshot is in', async () => {
    await until(async () => held > 0 && (await legacy.sql(`SELECT 1 FROM _tandem.capture_state WHERE connector = $1`, [connector.name]).catch(() => [])).length === 1, {
      describe: () => `capture to record its state and send the snapshot's first rows (Produce answers held: ${held})`,
      timeoutMs: 60_000,
    });
    // Capture has created the topics by now; translate applies whatever reaches them.
    translate = await startTranslate(connector, { logger: testLogger('translate'), metrics: createTranslateMetrics() });
    const logger = testLogger('reconcile');
    const during = await runReconcileJob(connector, { logger });
    expect(during.report.status).toBe('incomplete');
    expect(during.report.drift).toBe(0);
    expect(during.report.tables.map((table) => [table.table, table.awaitingSnapshot])).toEqual([
      ['app.customer', ['legacy.customers', 'legacy.loyalty']],
      ['app.customer_address', ['legacy.customers']],
      ['app.orders', ['legacy.orders']],
    ]);
    expect(during.alert).toBeNull();
    const [recorded] = await target.sql<{ status: string }>(`SELECT status FROM tandem.reconcile_run WHERE id = $1`, [during.report.runId]);
    expect(recorded!.status).toBe('incomplete');

    releaseProduce();
    await starting;
    await until(async () => (await targetMatchesLegacy(legacy, target)) === true, { describe: 'translate to apply the snapshot', timeoutMs: 90_000, intervalMs: 300 });
    const after = await runReconcileJob(connector, { logger });
    expect(after.report).toMatchObject({ status: 'clean', drift: 0, cut: { mode: 'exact' } });
    expect(after.report.rowsCompared).toBeGreaterThan(0);
    expect(after.report.tables.every((table) => table.awaitingSnapshot === undefined)).toBe(true);
  }, 240_000);
});
