import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { testConnector, uniqueName, writeTestConnectorFile } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { spawnTandem } from '../../support/process.js';
import { mulberry32 } from '../../support/random.js';
import { until } from '../../support/until.js';

const KEYS = 300;
const SEED = Number(process.env.TANDEM_TEST_SEED ?? Date.now() % 1_000_000);

interface Setup {
  table: string;
  target: TestDatabase;
  config: string;
  capture: CaptureWorker;
  groupId: string;
}

describe('translate: crash safety', () => {
  let legacy: TestDatabase;
  let stack: TestKafkaStack;
  const captures: CaptureWorker[] = [];
  const random = mulberry32(SEED);

  beforeAll(async () => {
    console.log(`translate crash-safety seed: ${SEED} (rerun with TANDEM_TEST_SEED=${SEED})`);
    legacy = await createTestDatabase('translate_crash_legacy');
    stack = await startTestKafkaStack();
    await legacy.sql('CREATE SCHEMA legacy');
  });

  afterAll(async () => {
    for (const capture of captures) await capture.stop();
    await stack?.stop();
  });

  async function setUp(base: string, translate: Record<string, unknown> = {}): Promise<Setup> {
    const table = `${base}`;
    const name = uniqueName(base);
    const target = await createTestDatabase(`${base}_target`);
    await legacy.sql(`CREATE TABLE legacy.${table} (id int PRIMARY KEY, version int NOT NULL, payload text NOT NULL);
      INSERT INTO legacy.${table} SELECT g, 0, md5(g::text) FROM generate_series(1, ${KEYS}) g;`);
    await target.sql(`CREATE SCHEMA app; CREATE TABLE app.${table} (id int PRIMARY KEY, version int NOT NULL, payload_upper text NOT NULL);`);
    const options = {
      name,
      sourceUrl: legacy.url,
      targetUrl: target.url,
      tables: [`legacy.${table}`],
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      extra: { mappings: { [`legacy.${table}`]: { to: `app.${table}`, columns: { payload_upper: 'upper(payload)' } } }, translate: { sessionTimeoutMs: 6000, ...translate } },
    };
    const connector = testConnector(options);
    const capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    captures.push(capture);
    return { table, target, config: writeTestConnectorFile(options), capture, groupId: `tandem-translate-${name}` };
  }

  /** Updates, inserts, deletes and the odd truncate in small transactions until stopped; keys and kinds chosen by the seeded generator. */
  function writeLoad(table: string) {
    let writing = true;
    let nextId = KEYS + 1;
    let transactions = 0;
    const done = (async () => {
      const writer = new pg.Client({ connectionString: legacy.url });
      await writer.connect();
      while (writing) {
        const roll = random();
        const id = 1 + Math.floor(random() * KEYS);
        // Every 40th transaction a truncate, with rows written after it in the same transaction: those survive, whichever partition and worker they go through.
        if (transactions % 40 === 39) await writer.query(`BEGIN; TRUNCATE legacy.${table}; INSERT INTO legacy.${table} SELECT g, 1, md5(g::text) FROM generate_series(1, ${KEYS} / 2) g; COMMIT`);
        else if (roll < 0.7) await writer.query(`UPDATE legacy.${table} SET version = version + 1 WHERE id BETWEEN $1 AND $1 + 4`, [id]);
        else if (roll < 0.85) await writer.query(`INSERT INTO legacy.${table} VALUES ($1::int, 0, md5($1::int::text))`, [nextId++]);
        else await writer.query(`DELETE FROM legacy.${table} WHERE id = $1`, [id]);
        transactions++;
      }
      await writer.end();
    })();
    return { stop: async () => ((writing = false), await done, transactions) };
  }

  async function targetEqualsLegacy(setup: Setup): Promise<string | true> {
    const expected = await legacy.sql<{ id: number; version: number; payload_upper: string }>(`SELECT id, version, upper(payload) AS payload_upper FROM legacy.${setup.table} ORDER BY id`);
    const actual = await setup.target.sql<{ id: number; version: number; payload_upper: string }>(`SELECT id, version, payload_upper FROM app.${setup.table} ORDER BY id`);
    const a = JSON.stringify(expected);
    const b = JSON.stringify(actual);
    return a === b ? true : `legacy has ${expected.length} rows, target ${actual.length}; first difference at row ${[...a].findIndex((char, index) => char !== b[index])}`;
  }

  /** Every offset of every partition was applied by exactly one committed batch, from the first to the stored next offset. */
  async function appliedOnce(setup: Setup): Promise<void> {
    const batches = await setup.target.sql<{ partition: number; first_offset: string; last_offset: string }>(
      'SELECT b.partition, b.first_offset::text, b.last_offset::text FROM tandem.translate_batches b WHERE b.group_id = $1 ORDER BY b.partition, b.first_offset',
      [setup.groupId],
    );
    const offsets = await setup.target.sql<{ partition: number; next_offset: string }>('SELECT partition, next_offset::text FROM tandem.translate_offsets WHERE group_id = $1', [setup.groupId]);
    expect(offsets.length).toBeGreaterThan(0);
    for (const { partition, next_offset } of offsets) {
      const ranges = batches.filter((batch) => batch.partition === partition);
      let expectedFirst = 0n;
      for (const range of ranges) {
        expect(BigInt(range.first_offset), `partition ${partition}: batch starting at ${range.first_offset}`).toBe(expectedFirst);
        expectedFirst = BigInt(range.last_offset) + 1n;
      }
      expect(expectedFirst, `partition ${partition}: batches end at the stored next offset`).toBe(BigInt(next_offset));
    }
  }

  const committedBatches = async (setup: Setup) => Number((await setup.target.sql<{ n: string }>('SELECT count(*) AS n FROM tandem.translate_batches'))[0]?.n ?? 0);

  it('applies every change once when translate is killed with SIGKILL mid-batch five times under write load (truncates included)', async () => {
    const setup = await setUp('crash');
    const load = writeLoad(setup.table);
    for (let crash = 0; crash < 5; crash++) {
      const translate = spawnTandem(['translate', '--config', setup.config, '--metrics-port', '0']);
      await translate.waitForOutput(/joined group/);
      // A seeded random moment: after 1 to 15 more committed batches, while the next one is in flight.
      const target = (await committedBatches(setup)) + 1 + Math.floor(random() * 15);
      await until(async () => (await committedBatches(setup)) >= target, { describe: `${target} committed batches before kill ${crash + 1}`, timeoutMs: 60_000, intervalMs: 5 });
      translate.child.kill('SIGKILL');
      await translate.exited;
    }
    const transactions = await load.stop();
    expect(transactions).toBeGreaterThan(50);

    const final = spawnTandem(['translate', '--config', setup.config, '--metrics-port', '0']);
    // Running before the check: the target may already equal legacy, and the SIGTERM below must find translate's handler installed.
    await final.waitForOutput(/joined group/);
    await until(async () => (await targetEqualsLegacy(setup)) === true || Promise.reject(new Error(String(await targetEqualsLegacy(setup)))), { describe: 'the target to equal legacy after five kills', timeoutMs: 90_000, intervalMs: 500 });
    final.child.kill('SIGTERM');
    expect(await final.exited).toBe(0);
    await appliedOnce(setup);
    expect((await setup.target.sql('SELECT truncated_at FROM tandem.translate_topics'))[0]?.truncated_at).not.toBeNull();
  });

  it('hands a killed worker’s partitions to the other worker of the group, losing nothing (truncates across both workers included)', async () => {
    const setup = await setUp('takeover');
    const load = writeLoad(setup.table);
    const first = spawnTandem(['translate', '--config', setup.config, '--metrics-port', '0']);
    await first.waitForOutput(/joined group .*: 3 partition/);
    const second = spawnTandem(['translate', '--config', setup.config, '--metrics-port', '0']);
    // Both members: the group rebalances and each gets a share.
    await second.waitForOutput(/joined group .*: [12] partition/);
    await until(async () => (await committedBatches(setup)) > 5, { describe: 'some batches committed by the pair' });
    first.child.kill('SIGKILL');
    await first.exited;
    // The survivor rejoins alone and gets every partition.
    await until(() => /joined group[^\n]*: 3 partition/.test(second.output()), { describe: 'the surviving worker to take over all 3 partitions', timeoutMs: 60_000 });
    await load.stop();
    await until(async () => (await targetEqualsLegacy(setup)) === true || Promise.reject(new Error(String(await targetEqualsLegacy(setup)))), { describe: 'the surviving worker to catch up', timeoutMs: 90_000, intervalMs: 500 });
    // The survivor's /metrics and /health, as an operator sees them.
    const address = /metrics on (http:\/\/[^/\s"]+)\/metrics/.exec(second.output())![1]!.replace('0.0.0.0', '127.0.0.1');
    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(metrics).toMatch(/tandem_translate_rows_applied_total\{target="app\.takeover",op="upsert"\} [1-9]/);
    expect(metrics).toMatch(/tandem_translate_consumer_lag_messages\{topic="[^"]+",partition="\d"\} \d/);
    expect(metrics).toMatch(/tandem_translate_batch_seconds_count [1-9]/);
    const health = await fetch(`${address}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { assigned: string[] }).assigned).toHaveLength(3);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await appliedOnce(setup);
    expect((await setup.target.sql('SELECT truncated_at FROM tandem.translate_topics'))[0]?.truncated_at).not.toBeNull();
  });
});

