import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { parseLsn } from '../../../src/pg/lsn.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { finalStateByKey, readAllEvents } from '../../support/capture.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { seededRandom } from '../../support/random.js';
import { until } from '../../support/until.js';

const ROWS = 20_000;
const WRITES_BEFORE = 50;
const WRITES_AFTER = 50;

describe('capture: initial snapshot with concurrent writes', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  const workers: CaptureWorker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('capture_snapshot');
    stack = await startTestKafkaStack();
    await db.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.accounts (id int PRIMARY KEY, balance bigint NOT NULL, note text);
      INSERT INTO legacy.accounts SELECT g, g * 10, 'seed ' || g FROM generate_series(1, ${ROWS}) g;
      CREATE TABLE legacy.metered (id int PRIMARY KEY, label text);
      INSERT INTO legacy.metered SELECT g, 'row ' || g FROM generate_series(1, 1234) g;`);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await stack?.stop();
  });

  const start = async (name: string, table: string, metrics = createCaptureMetrics()) => {
    const connector = testConnector({ name, sourceUrl: db.url, tables: [table], brokers: stack.brokers, registryUrl: stack.registryUrl });
    const worker = await startCapture(connector, { logger: testLogger('capture'), metrics, registry: createRegistryClient(connector.registry) });
    workers.push(worker);
    return worker;
  };

  it('leaves exactly one final state per key in the topic, equal to the table', async () => {
    const name = uniqueName('snap');
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let writing = true;
    let writes = 0;
    // Writes run before, during and after the snapshot: updates, inserts of new keys, deletes.
    const random = seededRandom('capture snapshot workload');
    const write = async () => {
      const id = 1 + Math.floor(random() * (ROWS + 500));
      const roll = random();
      if (roll < 0.6) await writer.query('UPDATE legacy.accounts SET balance = balance + 1, note = $2 WHERE id = $1', [id, `update ${writes}`]);
      else if (roll < 0.85) await writer.query('INSERT INTO legacy.accounts VALUES ($1, 0, $2) ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note', [id, `upsert ${writes}`]);
      else await writer.query('DELETE FROM legacy.accounts WHERE id = $1', [id]);
      writes++;
    };
    for (let i = 0; i < WRITES_BEFORE; i++) await write();
    const workload = (async () => {
      while (writing) await write();
    })();
    // startCapture returns once the initial snapshot of the new slot is in Kafka; writes go on after it.
    const worker = await start(name, 'legacy.accounts');
    const writesAtSnapshotEnd = writes;
    await until(() => writes >= writesAtSnapshotEnd + WRITES_AFTER, { describe: `${WRITES_AFTER} writes after the snapshot`, timeoutMs: 60_000 });
    writing = false;
    await workload;
    const endLsn = parseLsn((await writer.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    await writer.end();
    await until(() => worker.durableLsn() >= endLsn, { describe: `capture to confirm every write (LSN ${endLsn})`, timeoutMs: 60_000 });

    const events = await readAllEvents(stack.brokers, stack.registryUrl, [`${name}.legacy.accounts`], { expectAtLeast: ROWS });
    const snapshotReads = events.filter((event) => event.value?.op === 'r').length;
    // Each write before the snapshot's point removes at most one row from it.
    expect(snapshotReads).toBeGreaterThanOrEqual(ROWS - writesAtSnapshotEnd);
    expect(events.filter((event) => event.value?.op !== 'r').length).toBeGreaterThanOrEqual(WRITES_AFTER);

    const expected = new Map((await db.sql<{ id: number; balance: string; note: string }>('SELECT id, balance::text, note FROM legacy.accounts')).map((row) => [row.id, row]));
    const final = finalStateByKey(events, (key) => Number(key.id));
    expect(final.size).toBe(expected.size);
    for (const [id, row] of expected) {
      expect(final.get(id), `key ${id}`).toMatchObject({ id, balance: BigInt(row.balance), note: row.note });
    }
  });

  it('reports snapshot progress in metrics: every row read, as a row count and as op=r events', async () => {
    const metrics = createCaptureMetrics();
    await start(uniqueName('metered'), 'legacy.metered', metrics);
    const expected = ['tandem_capture_snapshot_rows_total{table="legacy.metered"} 1234', 'tandem_capture_events_total{table="legacy.metered",op="r"} 1234'];
    // Events count once Kafka acknowledged them.
    const text = await until(async () => {
      const current = await metrics.registry.metrics();
      return expected.every((line) => current.includes(line)) ? current : null;
    }, { describe: `metrics ${expected.join(' and ')}` });
    expect(text).toMatch(/tandem_capture_snapshot_rows_estimated\{table="legacy.metered"\} \d+/);
  });
});
