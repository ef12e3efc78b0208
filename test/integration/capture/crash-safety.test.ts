import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerTestHooks } from '../../../src/embedded/broker/options.js';
import { startKafkaStack, type EmbeddedKafkaStack } from '../../../src/embedded/stack.js';
import { finalStateByKey, readAllEvents } from '../../support/capture.js';
import { writeTestConnectorFile } from '../../support/connector.js';
import { spawnTandem } from '../../support/process.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

const KEYS = 500;
const KEYS_PER_TRANSACTION = 10;
const CRASHES = 5;

function writeConnectorFile(db: TestDatabase, stack: EmbeddedKafkaStack, name = 'crash', tables = ['legacy.counters'], chunkSize = 10): string {
  return writeTestConnectorFile({ name, sourceUrl: db.url, tables, brokers: stack.brokers, registryUrl: stack.registryUrl, capture: { snapshotChunkSize: chunkSize } });
}

describe('capture: crash safety', () => {
  let db: TestDatabase;
  let stack: EmbeddedKafkaStack;
  const brokerHooks: BrokerTestHooks = {};

  beforeAll(async () => {
    db = await createTestDatabase('capture_crash');
    stack = await startKafkaStack({ brokerTestHooks: brokerHooks });
    await db.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.counters (id int PRIMARY KEY, version int NOT NULL);
      INSERT INTO legacy.counters SELECT g, 0 FROM generate_series(1, ${KEYS}) g;`);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('loses nothing and keeps commit order per key when capture is killed with SIGKILL mid-stream, five times', async () => {
    // A slow broker: produce responses come 200 ms late, so every kill lands while Kafka has not yet
    // acknowledged events whose transactions capture has read (and must not confirm to the slot).
    brokerHooks.delayResponseMs = (apiKey) => (apiKey === 0 ? 200 : 0);
    const config = writeConnectorFile(db, stack);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let writing = true;
    let transactions = 0;
    // Each transaction bumps the version of a run of keys; every key's versions must arrive as
    // 1, 2, 3, ... with no gap.
    const workload = (async () => {
      while (writing) {
        const first = 1 + Math.floor(Math.random() * (KEYS - KEYS_PER_TRANSACTION));
        await writer.query('UPDATE legacy.counters SET version = version + 1 WHERE id BETWEEN $1 AND $2', [first, first + KEYS_PER_TRANSACTION - 1]);
        transactions++;
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();

    for (let crash = 0; crash < CRASHES; crash++) {
      const capture = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
      await capture.waitForOutput(crash === 0 ? /snapshot of legacy\.counters started|streaming changes/ : /streaming changes|resuming/);
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 1200));
      capture.child.kill('SIGKILL');
      await capture.exited;
    }
    writing = false;
    await workload;
    await writer.end();

    const final = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
    await final.waitForOutput(/streaming changes/);
    const finalVersions = new Map((await db.sql<{ id: number; version: number }>('SELECT id, version FROM legacy.counters')).map((row) => [row.id, row.version]));
    const totalUpdates = [...finalVersions.values()].reduce((sum, version) => sum + version, 0);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, ['crash.legacy.counters'], { expectAtLeast: KEYS + totalUpdates, idleMs: 3000 });
    final.child.kill('SIGTERM');
    expect(await final.exited).toBe(0);
    delete brokerHooks.delayResponseMs;

    expect(transactions).toBeGreaterThan(100);
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
    const config = writeConnectorFile(db, stack, 'resume', ['legacy.ledger'], 500);
    const first = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
    await first.waitForOutput(/snapshot of legacy\.ledger started/);
    // Let some chunks be acknowledged, then kill mid-snapshot while rows keep changing.
    const progress = async () => (await db.sql<{ key: string[] | null }>(`SELECT state->'snapshot'->'lastKey'->'legacy.ledger' AS key FROM _tandem.capture_state WHERE connector = 'resume'`))[0]?.key;
    while (!(await progress())) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    await first.exited;
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
    const events = await readAllEvents(stack.brokers, stack.registryUrl, ['resume.legacy.ledger'], { expectAtLeast: rows.length, idleMs: 3000 });
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
