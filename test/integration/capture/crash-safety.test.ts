import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalStateByKey, readAllEvents, waitUntilCaptured } from '../../support/capture.js';
import { uniqueName, writeTestConnectorFile } from '../../support/connector.js';
import { startKafkaFaultProxy, type KafkaFaultProxy } from '../../support/kafka-proxy.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { spawnTandem } from '../../support/process.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { seededRandom } from '../../support/random.js';
import { until } from '../../support/until.js';

const KEYS = 500;
const KEYS_PER_TRANSACTION = 10;
const CRASHES = 5;

/** Capture reaches Kafka through the fault proxy, so a test can make the broker slow on either broker. */
function writeConnectorFile(db: TestDatabase, stack: TestKafkaStack, proxy: KafkaFaultProxy, name: string, tables = ['legacy.counters'], chunkSize = 10): string {
  return writeTestConnectorFile({ name, sourceUrl: db.url, tables, brokers: proxy.brokers, registryUrl: stack.registryUrl, capture: { snapshotChunkSize: chunkSize } });
}

describe('capture: crash safety', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let proxy: KafkaFaultProxy;

  beforeAll(async () => {
    db = await createTestDatabase('capture_crash');
    stack = await startTestKafkaStack();
    proxy = await startKafkaFaultProxy(stack.brokers);
    await db.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.counters (id int PRIMARY KEY, version int NOT NULL);
      INSERT INTO legacy.counters SELECT g, 0 FROM generate_series(1, ${KEYS}) g;`);
  });

  afterAll(async () => {
    await proxy?.stop();
    await stack?.stop();
  });

  it('loses nothing and keeps commit order per key when capture is killed with SIGKILL mid-stream, five times', async () => {
    // A slow broker: produce responses come 200 ms late, so every kill lands while Kafka has not yet
    // acknowledged events whose transactions capture has read (and must not confirm to the slot).
    proxy.faults.delayResponseMs = (apiKey) => (apiKey === 0 ? 200 : 0);
    // Where the workload writes and when each kill comes are random: the seed is printed, and
    // TANDEM_TEST_SEED=<seed> replays the same choices.
    const random = seededRandom('capture crash safety');
    const name = uniqueName('crash');
    const config = writeConnectorFile(db, stack, proxy, name);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let writing = true;
    let transactions = 0;
    // Each transaction bumps the version of a run of keys; every key's versions must arrive as
    // 1, 2, 3, ... with no gap.
    const workload = (async () => {
      while (writing) {
        const first = 1 + Math.floor(random() * (KEYS - KEYS_PER_TRANSACTION));
        await writer.query('UPDATE legacy.counters SET version = version + 1 WHERE id BETWEEN $1 AND $2', [first, first + KEYS_PER_TRANSACTION - 1]);
        transactions++;
        await new Promise((resolve) => setTimeout(resolve, 3)); // pacing, so the writer leaves CPU to capture
      }
    })();

    for (let crash = 0; crash < CRASHES; crash++) {
      const capture = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
      await capture.waitForOutput(crash === 0 ? /snapshot of legacy\.counters started|streaming changes/ : /streaming changes|resuming/);
      // The kill comes after a random number of further transactions (20 to 150): mid-stream,
      // whatever the machine's speed.
      const killAfter = transactions + 20 + Math.floor(random() * 131);
      await until(() => transactions >= killAfter, { describe: `transaction ${killAfter} before kill ${crash + 1}`, timeoutMs: 60_000 });
      capture.child.kill('SIGKILL');
      await capture.exited;
    }
    writing = false;
    await workload;
    await writer.end();

    const final = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
    await final.waitForOutput(/streaming changes/);
    const finalVersions = new Map((await db.sql<{ id: number; version: number }>('SELECT id, version FROM legacy.counters')).map((row) => [row.id, row.version]));
    await waitUntilCaptured(db, name, ['legacy.counters']);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [`${name}.legacy.counters`], { expectAtLeast: KEYS });
    final.child.kill('SIGTERM');
    expect(await final.exited).toBe(0);
    delete proxy.faults.delayResponseMs;

    expect(transactions).toBeGreaterThanOrEqual(CRASHES * 20);
    // Replays after a crash are allowed; they carry the same (commit LSN, position) and are dropped here.
    const seen = new Set<string>();
    const versionsByKey = new Map<number, number[]>();
    for (const event of events) {
      const value = event.value!;
      const identity = value.op === 'r' ? `r:${String(event.key!.id)}` : `${String(value.source.commitLsn)}:${String(value.source.sequence)}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      const id = Number(event.key!.id);
      if (!versionsByKey.has(id)) versionsByKey.set(id, []);
      const versions = versionsByKey.get(id)!;
      // An incremental snapshot read may repeat the state the stream just delivered: not a gap, not a reorder.
      if (versions[versions.length - 1] !== value.after.version) versions.push(value.after.version);
    }
    for (const [id, version] of finalVersions) {
      const versions = versionsByKey.get(id) ?? [];
      const first = versions[0] ?? 0;
      // The snapshot read (or the first change) starts the run; every later committed version follows, in order.
      expect(versions, `key ${id}`).toEqual(Array.from({ length: version - first + 1 }, (_, index) => first + index));
    }
  });

  it('resumes a snapshot interrupted by SIGKILL from its last acknowledged chunk, while streaming, and ends at the table state', async () => {
    await db.sql(`CREATE TABLE legacy.ledger (id int PRIMARY KEY, amount bigint NOT NULL);
      INSERT INTO legacy.ledger SELECT g, g FROM generate_series(1, 60000) g;`);
    const name = uniqueName('resume');
    const config = writeConnectorFile(db, stack, proxy, name, ['legacy.ledger'], 500);
    // Kafka acknowledges slowly during the first run (120 chunks of 500 rows take over 12 s), so the
    // kill lands mid-snapshot, right after the first acknowledged chunk.
    proxy.faults.delayResponseMs = (apiKey) => (apiKey === 0 ? 100 : 0);
    const first = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
    await first.waitForOutput(/snapshot of legacy\.ledger started/);
    // Let some chunks be acknowledged, then kill mid-snapshot while rows keep changing.
    const progress = async () => (await db.sql<{ key: string[] | null }>(`SELECT state->'snapshot'->'lastKey'->'legacy.ledger' AS key FROM _tandem.capture_state WHERE connector = '${name}'`))[0]?.key;
    await until(progress, { describe: 'the first acknowledged snapshot chunk of legacy.ledger', timeoutMs: 60_000, intervalMs: 20 });
    first.child.kill('SIGKILL');
    await first.exited;
    delete proxy.faults.delayResponseMs;
    const resumedAfter = Number((await progress())![0]);
    expect(resumedAfter).toBeLessThan(60000);
    await db.sql('UPDATE legacy.ledger SET amount = -amount WHERE id % 1000 = 0');
    await db.sql('DELETE FROM legacy.ledger WHERE id % 997 = 0');
    await db.sql('INSERT INTO legacy.ledger SELECT g, g FROM generate_series(60001, 60100) g');

    const second = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
    await second.waitForOutput(/incremental snapshot of legacy\.ledger resumed/);
    await second.waitForOutput(/incremental snapshot of legacy\.ledger complete/);
    await db.sql('UPDATE legacy.ledger SET amount = amount + 1 WHERE id % 5000 = 1');
    const rows = await db.sql<{ id: number; amount: string }>('SELECT id, amount::text FROM legacy.ledger');
    await waitUntilCaptured(db, name, ['legacy.ledger']);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [`${name}.legacy.ledger`], { expectAtLeast: rows.length });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).not.toMatch(/incremental snapshot of legacy\.ledger resumed.*"resumeAfter":null/);

    const final = finalStateByKey(events, (key) => Number(key.id));
    expect(final.size).toBe(rows.length);
    for (const row of rows) expect(final.get(row.id)?.amount, `key ${row.id}`).toBe(BigInt(row.amount));
    // Resumed, not restarted: rows before the saved key were read once by the first run only.
    const reads = events.filter((event) => event.value?.op === 'r' && Number(event.key!.id) === 1);
    expect(reads).toHaveLength(1);
  });
});
