/**
 * The smallest running pipeline: `legacy.items (id, v)` copied to `app.items` by capture and
 * translate, with the snapshot applied. For tests of translate's own behaviour (cuts, batch log).
 */
import type { Connector } from '../../../src/config/index.js';
import type { TranslateWorker } from '../../../src/translate/worker.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { startTestPipeline, type TestPipeline } from '../../support/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

export interface ItemsPipeline {
  legacy: TestDatabase;
  target: TestDatabase;
  connector: Connector;
  translate: TranslateWorker;
  /** Both tables as `id:v,…` in key order. */
  rows(db: TestDatabase, table: string): Promise<string>;
  /** app.items equals legacy.items. */
  matches(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startItemsPipeline(name: string, keys: number, translate: Record<string, unknown>): Promise<ItemsPipeline> {
  const legacy = await createTestDatabase(`${name}_legacy`);
  const target = await createTestDatabase(`${name}_target`);
  const stack: TestKafkaStack = await startTestKafkaStack();
  let pipeline: TestPipeline | null = null;
  const stop = async () => {
    await pipeline?.stop();
    await stack.stop();
  };
  try {
    await legacy.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.items (id int PRIMARY KEY, v text NOT NULL); INSERT INTO legacy.items SELECT g, 'v0-' || g FROM generate_series(1, ${keys}) g;`);
    await target.sql('CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, v text NOT NULL);');
    const connector = testConnector({ name: uniqueName(name.slice(0, 6)), sourceUrl: legacy.url, targetUrl: target.url, tables: ['legacy.items'], brokers: stack.brokers, registryUrl: stack.registryUrl, extra: { mappings: { 'legacy.items': { to: 'app.items' } }, translate } });
    pipeline = await startTestPipeline(connector);
    const rows = async (db: TestDatabase, table: string) => (await db.sql<{ id: number; v: string }>(`SELECT id, v FROM ${table} ORDER BY id`)).map((row) => `${row.id}:${row.v}`).join(',');
    const matches = async () => (await rows(legacy, 'legacy.items')) === (await rows(target, 'app.items'));
    await until(matches, { describe: 'translate to apply the snapshot', timeoutMs: 60_000 });
    return { legacy, target, connector, translate: pipeline.translate, rows, matches, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
