/**
 * The batch log (`tandem.translate_batches`, one row per committed batch) is kept for
 * `translate.batchHistory` and no longer: a pipeline that runs for months does not grow it forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

describe('translate batch log retention', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let capture: CaptureWorker;
  let translate: TranslateWorker;
  let connector: Connector;

  const rows = async (db: TestDatabase, table: string) => (await db.sql<{ id: number; v: string }>(`SELECT id, v FROM ${table} ORDER BY id`)).map((row) => `${row.id}:${row.v}`).join(',');
  const matches = async () => (await rows(legacy, 'legacy.items')) === (await rows(target, 'app.items'));
  const logged = async () => target.sql<{ n: string; recent: string }>(`SELECT count(*)::text AS n, count(*) FILTER (WHERE committed_at > clock_timestamp() - interval '3 seconds')::text AS recent FROM tandem.translate_batches`);

  beforeAll(async () => {
    legacy = await createTestDatabase('translate_history_legacy');
    target = await createTestDatabase('translate_history_target');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.items (id int PRIMARY KEY, v text NOT NULL); INSERT INTO legacy.items SELECT g, 'v0-' || g FROM generate_series(1, 50) g;`);
    await target.sql('CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, v text NOT NULL);');
    connector = testConnector({ name: uniqueName('thist'), sourceUrl: legacy.url, targetUrl: target.url, tables: ['legacy.items'], brokers: stack.brokers, registryUrl: stack.registryUrl, extra: { mappings: { 'legacy.items': { to: 'app.items' } }, translate: { batchHistory: '3s' } } });
    capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    translate = await startTranslate(connector, { logger: testLogger('translate') });
    await until(matches, { describe: 'translate to apply the snapshot', timeoutMs: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await translate?.stop();
    await capture?.stop();
    await stack?.stop();
  });

  it('logs every batch, and deletes the rows older than batchHistory', async () => {
    await legacy.sql(`UPDATE legacy.items SET v = 'v1-' || id`);
    await until(matches, { describe: 'the update to be applied' });
    const [justApplied] = await logged();
    expect(Number(justApplied!.recent), 'the batch just applied is in the log').toBeGreaterThan(0);
    let left = justApplied!.n;
    await until(async () => (left = (await logged())[0]!.n) === '0', { describe: () => `every batch log row to be deleted 3 s after its commit (${left} left)`, timeoutMs: 30_000 });
    expect(translate.health()).toMatchObject({ healthy: true });
  });
});
