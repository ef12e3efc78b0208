import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/config/index.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { startTestPipeline, type TestPipeline } from '../../support/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { LEGACY_DDL, MAPPINGS, TABLES, TARGET_DDL, targetMatchesLegacy } from './scenario.js';

describe('translate: mappings kept equal through every kind of change', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let pipeline: TestPipeline;
  let connector: Connector;

  const converged = (describe: string) => until(async () => (await targetMatchesLegacy(legacy, target)) === true || Promise.reject(new Error(String(await targetMatchesLegacy(legacy, target)))), { describe, timeoutMs: 60_000, intervalMs: 300 });

  beforeAll(async () => {
    legacy = await createTestDatabase('translate_legacy');
    target = await createTestDatabase('translate_target');
    stack = await startTestKafkaStack();
    await legacy.sql(LEGACY_DDL);
    await target.sql(TARGET_DDL);
    await legacy.sql(`INSERT INTO legacy.customers SELECT g, 'First' || g, ' Last' || g || ' ', 'User' || g || '@Example.COM', g % 3, '2024-03-31 0' || (g % 10) || ':30:00',
        CASE WHEN g % 4 = 0 THEN NULL ELSE 'Street ' || g || E'\\nCity ' || g END, g % 10 = 0, repeat('n' || g, 2000) FROM generate_series(1, 50) g;
      INSERT INTO legacy.orders SELECT g, 1 + (g % 49), g * 1.115, '2024-10-27 02:30:00' FROM generate_series(1, 40) g WHERE (1 + g % 49) % 10 <> 0;
      INSERT INTO legacy.loyalty SELECT g, g * 10 FROM generate_series(1, 60, 3) g WHERE g % 10 <> 0;`);
    connector = testConnector({ name: uniqueName('tmap'), sourceUrl: legacy.url, targetUrl: target.url, tables: TABLES, brokers: stack.brokers, registryUrl: stack.registryUrl, extra: { mappings: MAPPINGS } });
    pipeline = await startTestPipeline(connector);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await stack?.stop();
  });

  it('applies the snapshot: split, merge, lookup, type changes, filter, foreign keys', async () => {
    await converged('the target to equal the mapped snapshot');
    expect(Number((await target.sql('SELECT count(*) AS n FROM app.orders'))[0]!.n)).toBeGreaterThan(30);
  });

  it('follows inserts, updates and deletes, soft-deleting customers and deleting orders', async () => {
    await legacy.sql(`INSERT INTO legacy.customers VALUES (100, 'New', 'Person', 'NEW@X.org', 2, '2024-07-01 12:00:00', E'Main 1\\nBerlin', false, 'short');
      INSERT INTO legacy.orders VALUES (100, 100, 19.99, '2024-07-02 08:00:00');
      UPDATE legacy.customers SET email = 'Changed' || id || '@X.ORG', status_code = 1 WHERE id % 7 = 0;
      UPDATE legacy.customers SET is_test = true WHERE id = 3;
      UPDATE legacy.customers SET address = NULL WHERE id = 5;
      DELETE FROM legacy.orders WHERE customer_id IN (11, 13);
      DELETE FROM legacy.customers WHERE id IN (11, 13);
      UPDATE legacy.orders SET total = 0.285 WHERE id = 1;
      DELETE FROM legacy.loyalty WHERE customer_id = 4;
      UPDATE legacy.loyalty SET points = points + 1 WHERE customer_id = 7;`);
    await converged('the target to follow inserts, updates and deletes');
    const softDeleted = await target.sql<{ id: number }>('SELECT id FROM app.customer WHERE deleted_at IS NOT NULL ORDER BY id');
    expect(softDeleted.map((row) => row.id)).toEqual([3, 11, 13]);
  });

  it('keeps a column whose value PostgreSQL did not send (unchanged TOAST)', async () => {
    const before = await target.sql<{ notes: string; notes_length: number }>('SELECT md5(notes) AS notes, notes_length FROM app.customer WHERE id = 21');
    await legacy.sql(`UPDATE legacy.customers SET first_name = 'Renamed' WHERE id = 21`);
    await until(async () => (await target.sql<{ full_name: string }>('SELECT full_name FROM app.customer WHERE id = 21'))[0]?.full_name.startsWith('Renamed'), { describe: 'the rename of customer 21 to arrive' });
    expect(await target.sql('SELECT md5(notes) AS notes, notes_length FROM app.customer WHERE id = 21')).toEqual(before);
    await converged('the target to equal legacy after an update with unchanged TOAST');
  });

  it('empties a target on truncate, keeps rows written after it in the same transaction, and clears a merged source\'s columns', async () => {
    await legacy.sql(`BEGIN; INSERT INTO legacy.orders VALUES (200, 1, 1.0, '2024-01-01 00:00:00'); TRUNCATE legacy.orders;
      INSERT INTO legacy.orders SELECT g, 1 + (g % 9), g, '2024-01-01 10:00:00' FROM generate_series(300, 320) g WHERE g % 10 <> 9; COMMIT;
      TRUNCATE legacy.loyalty; INSERT INTO legacy.loyalty VALUES (2, 5);`);
    await converged('the target to equal legacy after truncates');
    expect((await target.sql('SELECT min(id) AS low FROM app.orders'))[0]!.low).toBe(300);
    expect(await target.sql('SELECT id, points FROM app.customer WHERE points IS NOT NULL')).toEqual([{ id: 2, points: 5 }]);
  });
});
