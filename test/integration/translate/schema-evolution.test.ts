import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { createTranslateMetrics, type TranslateMetrics } from '../../../src/translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

describe('translate: schema changes mid-stream', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let capture: CaptureWorker;
  let translate: TranslateWorker;
  let metrics: TranslateMetrics;

  beforeAll(async () => {
    legacy = await createTestDatabase('translate_evolution_legacy');
    target = await createTestDatabase('translate_evolution_target');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.items (id int PRIMARY KEY, name text); INSERT INTO legacy.items VALUES (1, 'one'), (2, 'two');`);
    await target.sql(`CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, label text, color text);`);
    const connector = testConnector({
      name: uniqueName('tevo'),
      sourceUrl: legacy.url,
      targetUrl: target.url,
      tables: ['legacy.items'],
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      extra: { mappings: { 'legacy.items': { to: 'app.items', columns: { label: 'upper(name)' } } } },
    });
    capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    metrics = createTranslateMetrics();
    translate = await startTranslate(connector, { logger: testLogger('translate'), metrics });
  });

  afterAll(async () => {
    await translate?.stop();
    await capture?.stop();
    await stack?.stop();
  });

  const items = () => target.sql('SELECT id, label, color FROM app.items ORDER BY id');

  it('picks up a column added to the legacy table without a restart (copied to the same-named target column)', async () => {
    await until(async () => (await items()).length === 2, { describe: 'the snapshot rows' });
    await legacy.sql(`ALTER TABLE legacy.items ADD COLUMN color text; INSERT INTO legacy.items VALUES (3, 'three', 'red'); UPDATE legacy.items SET color = 'blue' WHERE id = 1;`);
    await until(async () => JSON.stringify(await items()) === JSON.stringify([{ id: 1, label: 'ONE', color: 'blue' }, { id: 2, label: 'TWO', color: null }, { id: 3, label: 'THREE', color: 'red' }]), { describe: 'the new column to arrive' });
    expect(await metrics.registry.getSingleMetricAsString('tandem_translate_rows_applied_total')).toMatch(/tandem_translate_rows_applied_total\{target="app\.items",op="upsert"\} [1-9]/);
    expect(await metrics.registry.getSingleMetricAsString('tandem_translate_end_to_end_lag_seconds')).toMatch(/tandem_translate_end_to_end_lag_seconds_count [1-9]/);
  });

  it("stops, naming the mapping and the fix, when a column the mapping reads is dropped", async () => {
    await legacy.sql(`ALTER TABLE legacy.items DROP COLUMN name; INSERT INTO legacy.items VALUES (4, 'green');`);
    const error = await translate.done.then(() => null, (reason: Error) => reason);
    expect(error?.message).toContain(`mappings['legacy.items'].columns.label: column "name" does not exist`);
    expect(error?.message).toMatch(/translate stopped at .*legacy\.items\[\d\]@\d+: the mappings of legacy\.items do not apply to its rows as they are now \(columns: id, color\)/);
    expect((error as { fix?: string }).fix).toContain('change the mapping to match (or restore the column), then restart translate: it resumes after the last applied change');
    expect(translate.health()).toMatchObject({ healthy: false });
    // Nothing after the change was applied.
    expect((await items()).map((row) => row.id)).toEqual([1, 2, 3]);
  });
});
