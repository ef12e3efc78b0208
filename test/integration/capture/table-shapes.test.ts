import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { readAllEvents, type DecodedEvent } from '../../support/capture.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

/** Each partition's messages in offset order. */
function byPartition(events: DecodedEvent[]): Map<number, DecodedEvent[]> {
  const partitions = new Map<number, DecodedEvent[]>();
  for (const event of [...events].sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))) {
    partitions.set(event.partition, [...(partitions.get(event.partition) ?? []), event]);
  }
  return partitions;
}

describe('capture: tables without a primary key, generated columns, truncate', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  const workers: CaptureWorker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('capture_shapes');
    stack = await startTestKafkaStack();
    await db.sql('CREATE SCHEMA legacy');
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await stack?.stop();
  });

  /** Starts capture of one table under a connector name unique to this file; returns its topic. */
  async function capture(base: string, table: string): Promise<string> {
    const name = uniqueName(base);
    const connector = testConnector({ name, sourceUrl: db.url, tables: [table], brokers: stack.brokers, registryUrl: stack.registryUrl });
    workers.push(await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) }));
    return `${name}.${table}`;
  }
  const versions = async (subject: string) => (await (await fetch(`${stack.registryUrl}/subjects/${subject}/versions`)).json()) as number[];

  it('streams a REPLICA IDENTITY FULL table without primary key with the key it was snapshotted with: none, every event on partition 0', async () => {
    await db.sql(`CREATE TABLE legacy.audit (actor text NOT NULL, action text, amount int);
      ALTER TABLE legacy.audit REPLICA IDENTITY FULL;
      INSERT INTO legacy.audit VALUES ('ada', 'login', 1), ('grace', 'login', 2);`);
    const topic = await capture('fullident', 'legacy.audit');
    await db.sql(`INSERT INTO legacy.audit VALUES ('edsger', 'pay', 3)`);
    await db.sql(`UPDATE legacy.audit SET amount = 30 WHERE actor = 'edsger'`);
    await db.sql(`DELETE FROM legacy.audit WHERE actor = 'ada'`);

    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 5 });
    expect(events.map((event) => [event.value!.op, event.partition, event.key])).toEqual([
      ['r', 0, null],
      ['r', 0, null],
      ['c', 0, null],
      ['u', 0, null],
      ['d', 0, null],
    ]);
    // The whole old row identifies it: REPLICA IDENTITY FULL sends it with updates and deletes.
    expect(events[3]!.value).toMatchObject({ before: { actor: 'edsger', action: 'pay', amount: 3 }, after: { actor: 'edsger', amount: 30 } });
    expect(events[4]!.value).toMatchObject({ before: { actor: 'ada', action: 'login', amount: 1 }, after: null });
    expect(await versions(`${topic}-key`)).toEqual([1]);
    expect(await versions(`${topic}-value`)).toEqual([1]);
  });

  it('keys a REPLICA IDENTITY FULL table with a primary key by its primary key, a key update being a delete and a create', async () => {
    await db.sql(`CREATE TABLE legacy.accounts (id int PRIMARY KEY, owner text);
      ALTER TABLE legacy.accounts REPLICA IDENTITY FULL;
      INSERT INTO legacy.accounts VALUES (1, 'ada');`);
    const topic = await capture('fullpk', 'legacy.accounts');
    await db.sql(`UPDATE legacy.accounts SET owner = 'grace' WHERE id = 1`);
    await db.sql(`UPDATE legacy.accounts SET id = 2 WHERE id = 1`);

    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 5 });
    const history = events
      .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))
      .filter((event) => event.key!.id === 1)
      .map((event) => [event.value?.op ?? 'tombstone', event.value?.before?.owner ?? null]);
    expect(history).toEqual([
      ['r', null],
      ['u', 'ada'],
      ['d', 'grace'],
      ['tombstone', null],
    ]);
    expect(events.filter((event) => event.key!.id === 2).map((event) => [event.value!.op, event.value!.after.owner])).toEqual([['c', 'grace']]);
    expect(await versions(`${topic}-key`)).toEqual([1]);
  });

  it('leaves generated columns out of snapshot and stream alike where pgoutput does not send them: one schema version', async () => {
    const [{ version }] = await db.sql<{ version: number }>(`SELECT current_setting('server_version_num')::int AS version`);
    expect(version, 'this test describes PostgreSQL before 18, which does not publish generated columns').toBeLessThan(180000);
    await db.sql(`CREATE TABLE legacy.order_lines (id int PRIMARY KEY, qty int NOT NULL, price numeric(10,2) NOT NULL,
        total numeric(12,2) GENERATED ALWAYS AS (qty * price) STORED);
      INSERT INTO legacy.order_lines (id, qty, price) VALUES (1, 2, 1.50);`);
    const topic = await capture('generated', 'legacy.order_lines');
    await db.sql(`INSERT INTO legacy.order_lines (id, qty, price) VALUES (2, 1, 9.99)`);
    await db.sql(`UPDATE legacy.order_lines SET qty = 3 WHERE id = 1`);

    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 3 });
    const ops = events.map((event) => `${event.value!.op}:${event.value!.after.id}`).sort();
    expect(ops).toEqual(['c:2', 'r:1', 'u:1']);
    for (const event of events) expect(event.value!.after).not.toHaveProperty('total');
    expect(new Set(events.map((event) => event.valueSchemaId)).size).toBe(1);
    expect(await versions(`${topic}-value`)).toEqual([1]);
  });

  it('writes a truncate to every partition of the topic, after the earlier events of each partition and before the later ones', async () => {
    await db.sql(`CREATE TABLE legacy.lines (id int PRIMARY KEY, label text)`);
    const topic = await capture('truncate', 'legacy.lines');
    await db.sql(`INSERT INTO legacy.lines SELECT g, 'line ' || g FROM generate_series(1, 30) g`);
    await db.sql(`TRUNCATE legacy.lines`);
    await db.sql(`INSERT INTO legacy.lines SELECT g, 'again ' || g FROM generate_series(101, 130) g`);

    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 30 + 3 + 30 });
    const partitions = byPartition(events);
    expect([...partitions.keys()].sort()).toEqual([0, 1, 2]);
    const truncates = events.filter((event) => event.value?.op === 't');
    expect(truncates).toHaveLength(3);
    // One event, one source position, on each partition.
    expect(new Set(truncates.map((event) => `${event.value!.source.commitLsn}:${event.value!.source.sequence}`)).size).toBe(1);
    for (const [partition, messages] of partitions) {
      const ops = messages.map((message) => (message.value!.op === 't' ? 't' : message.value!.after.id < 100 ? 'before' : 'after'));
      const at = ops.indexOf('t');
      expect(ops.filter((op) => op === 't'), `partition ${partition}`).toEqual(['t']);
      expect(ops.slice(0, at).every((op) => op === 'before') && ops.slice(at + 1).every((op) => op === 'after'), `partition ${partition}: ${ops.join(',')}`).toBe(true);
      expect(ops.slice(0, at).length, `partition ${partition} holds rows written before the truncate`).toBeGreaterThan(0);
    }
  });
});
