/**
 * Reconcile while translate is behind (stopped here, as after a deploy or under a backlog): the
 * exact cut cannot be had, and settle and recheck compares the target only once translate applied
 * what the source snapshot holds. Keys that still differ while translate has not got there may be
 * in flight: the run is INCOMPLETE and says which partitions were behind, with no alert. Drift in
 * a table whose topics translate has consumed is still drift. Once translate caught up, clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { runReconcileJob } from '../../../src/reconcile/job.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { LEGACY_DDL, MAPPINGS, TABLES, TARGET_DDL, targetMatchesLegacy } from '../translate/scenario.js';

describe('reconcile while translate is behind', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let capture: CaptureWorker;
  let translate: TranslateWorker | null = null;
  let connector: Connector;
  const startTranslating = async () => {
    translate = await startTranslate(connector, { logger: testLogger('translate') });
  };

  beforeAll(async () => {
    legacy = await createTestDatabase('reconcile_behind_legacy');
    target = await createTestDatabase('reconcile_behind_target');
    stack = await startTestKafkaStack();
    await legacy.sql(LEGACY_DDL);
    await target.sql(TARGET_DDL);
    await legacy.sql(`INSERT INTO legacy.customers SELECT g, 'First' || g, 'Last' || g, 'user' || g || '@example.com', g % 3, '2024-03-31 08:30:00', 'Street ' || g, false, NULL FROM generate_series(1, 100) g;
      INSERT INTO legacy.orders SELECT g, 1 + (g % 100), g * 1.5, '2024-10-27 02:30:00' FROM generate_series(1, 150) g;`);
    connector = testConnector({
      name: uniqueName('rbehind'),
      sourceUrl: legacy.url,
      targetUrl: target.url,
      tables: TABLES,
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      // One recheck, waiting up to 8 s for capture and translate: with translate stopped, it waits all of it.
      extra: { mappings: MAPPINGS, reconcile: { chunkRows: 100, bisectRows: 20, cutTimeoutMs: 2_000, settleRounds: 1, settleDelayMs: 8_000 } },
    });
    capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    await startTranslating();
    await until(async () => (await targetMatchesLegacy(legacy, target)) === true, { describe: 'translate to apply the snapshot', timeoutMs: 90_000, intervalMs: 300 });
  }, 180_000);

  afterAll(async () => {
    await translate?.stop();
    await capture?.stop();
    await stack?.stop();
  });

  it('reports changes translate has not applied yet as not verified, drift elsewhere as drift, and clean once translate caught up', async () => {
    const logger = testLogger('reconcile');
    await translate!.stop();
    translate = null;
    await legacy.sql(`UPDATE legacy.customers SET email = 'Moved' || id || '@Example.org' WHERE id <= 20`);

    const behind = await runReconcileJob(connector, { logger });
    expect(behind.report.cut).toMatchObject({ mode: 'settle', settleRounds: 1 });
    expect(behind.report).toMatchObject({ status: 'incomplete', drift: 0 });
    const customer = behind.report.tables.find((table) => table.table === 'app.customer')!;
    expect(customer.unverified?.keys).toBe(20);
    expect(customer.unverified?.behind.every((partition) => partition.startsWith(`${connector.kafka.topicPrefix}.legacy.customers[`))).toBe(true);
    expect(behind.report.tables.filter((table) => table.unverified).map((table) => table.table)).toEqual(['app.customer']);
    expect(behind.alert).toBeNull();

    // Drift written behind the pipeline's back into a table whose topic translate has consumed.
    await target.sql(`UPDATE app.orders SET total_cents = total_cents + 1 WHERE id IN (7, 8)`);
    const drifted = await runReconcileJob(connector, { logger });
    expect(drifted.report).toMatchObject({ status: 'drift', drift: 2 });
    expect(drifted.report.tables.find((table) => table.table === 'app.orders')!.different.map((row) => row.key.id).sort()).toEqual(['7', '8']);
    expect(drifted.report.tables.find((table) => table.table === 'app.customer')!.unverified?.keys).toBe(20);
    await target.sql(`UPDATE app.orders SET total_cents = total_cents - 1 WHERE id IN (7, 8)`);

    await startTranslating();
    await until(async () => (await targetMatchesLegacy(legacy, target)) === true, { describe: 'translate to catch up', timeoutMs: 60_000, intervalMs: 300 });
    const caughtUp = await runReconcileJob(connector, { logger });
    expect(caughtUp.report).toMatchObject({ status: 'clean', drift: 0 });
    expect(caughtUp.report.tables.some((table) => table.unverified)).toBe(false);
  }, 240_000);
});
