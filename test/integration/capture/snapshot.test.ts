import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { parseLsn } from '../../../src/capture/lsn.js';
import { startKafkaStack, type EmbeddedKafkaStack } from '../../../src/embedded/stack.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { finalStateByKey, readAllEvents } from '../../support/capture.js';
import { testConnector } from '../../support/connector.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

const ROWS = 20_000;

describe('capture: initial snapshot with concurrent writes', () => {
  let db: TestDatabase;
  let stack: EmbeddedKafkaStack;
  let worker: CaptureWorker;
  let metrics: ReturnType<typeof createCaptureMetrics>;

  beforeAll(async () => {
    db = await createTestDatabase('capture_snapshot');
    stack = await startKafkaStack();
    await db.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.accounts (id int PRIMARY KEY, balance bigint NOT NULL, note text);
      INSERT INTO legacy.accounts SELECT g, g * 10, 'seed ' || g FROM generate_series(1, ${ROWS}) g;`);
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  it('leaves exactly one final state per key in the topic, equal to the table', async () => {
    const connector = testConnector({ name: 'snap', sourceUrl: db.url, tables: ['legacy.accounts'], brokers: stack.brokers, registryUrl: stack.registryUrl });
    metrics = createCaptureMetrics();
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let writing = true;
    let writes = 0;
    // Writes run before, during and after the snapshot: updates, inserts of new keys, deletes.
    const workload = (async () => {
      while (writing) {
        const id = 1 + Math.floor(Math.random() * (ROWS + 500));
        const roll = Math.random();
        if (roll < 0.6) await writer.query('UPDATE legacy.accounts SET balance = balance + 1, note = $2 WHERE id = $1', [id, `update ${writes}`]);
        else if (roll < 0.85) await writer.query('INSERT INTO legacy.accounts VALUES ($1, 0, $2) ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note', [id, `upsert ${writes}`]);
        else await writer.query('DELETE FROM legacy.accounts WHERE id = $1', [id]);
        writes++;
      }
    })();
    worker = await startCapture(connector, { logger: createLogger({ level: 'warn', pretty: false }), metrics, registry: createRegistryClient(connector.registry) });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    writing = false;
    await workload;
    const endLsn = parseLsn((await writer.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    await writer.end();
    while (worker.durableLsn() < endLsn) await new Promise((resolve) => setTimeout(resolve, 100));

    const events = await readAllEvents(stack.brokers, stack.registryUrl, ['snap.legacy.accounts'], { expectAtLeast: ROWS });
    const snapshotReads = events.filter((event) => event.value?.op === 'r').length;
    expect(snapshotReads).toBeGreaterThanOrEqual(ROWS - writes);
    expect(writes).toBeGreaterThan(50);

    const expected = new Map((await db.sql<{ id: number; balance: string; note: string }>('SELECT id, balance::text, note FROM legacy.accounts')).map((row) => [row.id, row]));
    const final = finalStateByKey(events, (key) => Number(key.id));
    expect(final.size).toBe(expected.size);
    for (const [id, row] of expected) {
      expect(final.get(id), `key ${id}`).toMatchObject({ id, balance: BigInt(row.balance), note: row.note });
    }
  });

  it('reports snapshot progress in metrics', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tandem_capture_snapshot_rows_total\{table="legacy.accounts"\} \d+/);
    expect(text).toMatch(/tandem_capture_events_total\{table="legacy.accounts",op="r"\}/);
  });
});
