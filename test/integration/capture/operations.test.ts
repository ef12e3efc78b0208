import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { parseLsn } from '../../../src/pg/lsn.js';
import { startEmbeddedPostgres } from '../../../src/embedded/postgres.js';
import { TandemError } from '../../../src/errors.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { readAllEvents, waitUntilCaptured } from '../../support/capture.js';
import { runTandem } from '../../support/cli.js';
import { testConnector, uniqueName, writeTestConnectorFile } from '../../support/connector.js';
import { startKafkaFaultProxy } from '../../support/kafka-proxy.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { spawnTandem } from '../../support/process.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

const logger = testLogger('capture');

describe('capture: setup, heartbeats, observability, operations', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let worker: CaptureWorker | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('capture_ops');
    stack = await startTestKafkaStack();
    await db.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.items (id int PRIMARY KEY, label text);
      CREATE TABLE legacy.keyless (label text);
      CREATE TABLE legacy.later (id int PRIMARY KEY, label text);
      CREATE TABLE legacy.noise (id serial PRIMARY KEY, payload text);
      INSERT INTO legacy.items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
      INSERT INTO legacy.later SELECT g, 'later ' || g FROM generate_series(1, 3000) g;`);
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  // Connector names (topic prefixes, slots tandem_<name>) are unique to this file: see uniqueName.
  const connectorFor = (name: string, tables: string[], extra: Record<string, unknown> = {}) =>
    testConnector({ name: uniqueName(name), sourceUrl: db.url, tables, brokers: stack.brokers, registryUrl: stack.registryUrl, extra });
  const start = (connector: ReturnType<typeof connectorFor>, metrics = createCaptureMetrics()) => startCapture(connector, { logger, metrics, registry: createRegistryClient(connector.registry) });

  it('refuses a table with neither primary key nor REPLICA IDENTITY FULL, naming the fix', async () => {
    const error = await start(connectorFor('keyless', ['legacy.keyless'])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TandemError);
    expect((error as TandemError).message).toContain('table legacy.keyless has no primary key and no usable REPLICA IDENTITY');
    expect((error as TandemError).fix).toContain('ALTER TABLE "legacy"."keyless" REPLICA IDENTITY FULL');
  });

  it('refuses a publication of the user that misses a configured table, naming it', async () => {
    await db.sql('CREATE PUBLICATION users_own FOR TABLE legacy.items');
    const error = await start(connectorFor('ownpub', ['legacy.items', 'legacy.later'], { source: { url: db.url, schema: 'legacy', tables: ['legacy.items', 'legacy.later'], publication: 'users_own' } })).catch((caught: unknown) => caught);
    expect((error as TandemError).message).toBe('publication users_own does not publish legacy.later, _tandem.signal');
    expect((error as TandemError).fix).toContain('ALTER PUBLICATION "users_own" ADD TABLE "legacy"."later"');
  });

  it('refuses to start when wal_level is not logical, with the fix', async () => {
    const replicaOnly = await startEmbeddedPostgres({ settings: { wal_level: 'replica' } });
    try {
      const connector = testConnector({ name: uniqueName('walcheck'), sourceUrl: replicaOnly.url, tables: ['public.t'], brokers: stack.brokers, registryUrl: stack.registryUrl });
      const client = new pg.Client({ connectionString: replicaOnly.url });
      await client.connect();
      await client.query('CREATE TABLE public.t (id int PRIMARY KEY)');
      await client.end();
      const error = (await start(connector).catch((caught: unknown) => caught)) as TandemError;
      expect(error.message).toContain('wal_level is replica; logical replication needs logical');
      expect(error.fix).toContain('ALTER SYSTEM SET wal_level = logical');
    } finally {
      await replicaOnly.stop();
    }
  });

  it('refuses to start without the REPLICATION privilege, or without a free slot, with the fix', async () => {
    await db.sql(`CREATE ROLE capture_user LOGIN PASSWORD 'capture-pw'; GRANT USAGE ON SCHEMA legacy TO capture_user; GRANT SELECT ON legacy.items TO capture_user`);
    const url = new URL(db.url);
    url.username = 'capture_user';
    url.password = 'capture-pw';
    const unprivileged = testConnector({ name: uniqueName('unprivileged'), sourceUrl: url.toString(), tables: ['legacy.items'], brokers: stack.brokers, registryUrl: stack.registryUrl });
    const refused = (await start(unprivileged).catch((caught: unknown) => caught)) as TandemError;
    expect(refused.message).toContain('role capture_user lacks the REPLICATION attribute');
    expect(refused.fix).toBe('ALTER ROLE capture_user WITH REPLICATION;');

    const oneSlot = await startEmbeddedPostgres({ settings: { max_replication_slots: 1 } });
    try {
      const client = new pg.Client({ connectionString: oneSlot.url });
      await client.connect();
      try {
        await client.query('CREATE TABLE public.t (id int PRIMARY KEY)');
        await client.query(`SELECT pg_create_logical_replication_slot('someone_else', 'pgoutput')`);
      } finally {
        await client.end();
      }
      const connector = testConnector({ name: uniqueName('noslot'), sourceUrl: oneSlot.url, tables: ['public.t'], brokers: stack.brokers, registryUrl: stack.registryUrl });
      const error = (await start(connector).catch((caught: unknown) => caught)) as TandemError;
      expect(error.message).toContain('all 1 slots are in use');
      expect(error.fix).toContain('drop an unused slot or raise max_replication_slots');
    } finally {
      await oneSlot.stop();
    }
  });

  it('moves the slot forward with heartbeats while the captured tables are idle', async () => {
    const metrics = createCaptureMetrics();
    worker = await start(connectorFor('idle', ['legacy.items']), metrics);
    // Only an uncaptured table changes: WAL grows, but no captured event arrives.
    for (let i = 0; i < 20; i++) await db.sql(`INSERT INTO legacy.noise (payload) SELECT repeat('x', 1000) FROM generate_series(1, 100)`);
    const target = parseLsn((await db.sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn);
    const slot = `tandem_${uniqueName('idle')}`;
    const confirmed = async () => parseLsn((await db.sql<{ lsn: string }>(`SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`, [slot]))[0]!.lsn);
    await until(async () => (await confirmed()) >= target, { describe: `slot ${slot} confirmed past ${target} by heartbeats`, intervalMs: 200 });
    await worker.stop();
    worker = undefined;
  });

  it('serves Prometheus metrics and a health check that fails while Kafka does not acknowledge', async () => {
    // Capture reaches Kafka through the fault proxy, which can stop passing on Produce answers.
    const proxy = await startKafkaFaultProxy(stack.brokers);
    const name = uniqueName('observed');
    const config = writeTestConnectorFile({ name, sourceUrl: db.url, tables: ['legacy.items'], brokers: proxy.brokers, registryUrl: stack.registryUrl, capture: { heartbeatIntervalMs: 300 } });
    const capture = spawnTandem(['capture', '--config', config, '--metrics-port', '0']);
    const line = await capture.waitForOutput(/metrics on http:\/\/[^ "]+\/metrics/);
    const base = /http:\/\/[^ "]+(?=\/metrics)/.exec(line)![0];
    await db.sql(`UPDATE legacy.items SET label = 'changed' WHERE id <= 5`);
    const updated = 'tandem_capture_events_total{table="legacy.items",op="u"} 5';
    const metrics = await until(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.includes(updated) ? text : null;
    }, { describe: `capture metrics with ${updated}` });
    expect(metrics).toContain('tandem_capture_events_total{table="legacy.items",op="r"} 100');
    expect(metrics).toMatch(/tandem_capture_slot_lag_bytes \d+/);
    expect(metrics).toMatch(/tandem_capture_bytes_total \d+/);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    // The broker stops answering produce requests: transactions wait for Kafka, so health fails...
    proxy.faults.dropResponse = (apiKey) => apiKey === 0;
    await db.sql(`UPDATE legacy.items SET label = 'stuck' WHERE id = 6`);
    const stuck = await until(async () => {
      const response = await fetch(`${base}/health`);
      return response.status === 503 ? response : null;
    }, { describe: 'the health check to fail (503) while Kafka leaves the update unacknowledged' });
    const report = (await stuck.json()) as { healthy: boolean; inFlightTransactions: number; unacknowledgedMs: number };
    expect(report.healthy).toBe(false);
    expect(report.inFlightTransactions).toBeGreaterThan(0);
    expect(report.unacknowledgedMs).toBeGreaterThan(0);
    // ...and recovers once it answers again (the idempotent producer's retry is not duplicated).
    delete proxy.faults.dropResponse;
    await until(async () => (await fetch(`${base}/health`)).status === 200, { describe: 'the health check to pass again once Kafka answers', intervalMs: 200 });
    capture.child.kill('SIGTERM');
    expect(await capture.exited).toBe(0);
    await proxy.stop();

    // Dropping the slot needs the slot's name as confirmation.
    const refused = await runTandem(['capture', '--config', config, '--drop-slot']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to drop replication slot tandem_${name} without confirmation`);
    const dropped = await runTandem(['capture', '--config', config, '--drop-slot', '--confirm', `tandem_${name}`]);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(await db.sql(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [`tandem_${name}`])).toHaveLength(0);
  });

  it('snapshots a table added to a running connector incrementally while streaming continues', async () => {
    worker = await start(connectorFor('grow', ['legacy.items']));
    await worker.stop();
    // The connector gains legacy.later; tandem created the publication, so it extends it.
    worker = await start(connectorFor('grow', ['legacy.items', 'legacy.later']));
    const writes = (async () => {
      for (let i = 1; i <= 300; i += 7) await db.sql(`UPDATE legacy.later SET label = 'moved ' || id WHERE id = $1`, [i]);
      await db.sql(`UPDATE legacy.items SET label = 'still streaming' WHERE id = 1`);
    })();
    await writes;
    const expected = await db.sql<{ id: number; label: string }>('SELECT id, label FROM legacy.later');
    const grow = uniqueName('grow');
    await waitUntilCaptured(db, grow, ['legacy.items', 'legacy.later']);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [`${grow}.legacy.later`, `${grow}.legacy.items`], { expectAtLeast: 3000 + 100 + 1 });
    const later = new Map<number, string>();
    for (const event of events.filter((candidate) => candidate.topic === `${grow}.legacy.later`)) later.set(event.value!.after.id, event.value!.after.label);
    expect(later.size).toBe(3000);
    for (const row of expected) expect(later.get(row.id), `key ${row.id}`).toBe(row.label);
    expect(events.some((event) => event.topic === `${grow}.legacy.items` && event.value?.op === 'u' && event.value.after.label === 'still streaming')).toBe(true);
  });

  it('snapshots every table incrementally when the slot was created outside tandem', async () => {
    const external = uniqueName('external');
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [`tandem_${external}`]);
    worker = await start(connectorFor('external', ['legacy.items']));
    await waitUntilCaptured(db, external, ['legacy.items']);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [`${external}.legacy.items`], { expectAtLeast: 100 });
    const reads = new Set(events.filter((event) => event.value?.op === 'r').map((event) => Number(event.key!.id)));
    expect(reads.size).toBe(100);
    await worker.stop();
    worker = undefined;
  });
});
