import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import type { Connector } from '../../../src/config/index.js';
import { runTandem } from '../../support/cli.js';
import { uniqueName, writeTestConnectorFile } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { startTestPipeline, type TestPipeline } from '../../support/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

const MAPPINGS = {
  'legacy.customers': { to: 'app.customer', columns: { id: 'id', name: 'name' }, where: 'NOT is_test' },
  'legacy.orders': { to: 'app.orders', columns: { total_cents: 'round(total * 100)' } },
};

describe('translate: parking and dead letters', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let pipeline: TestPipeline;
  let connector: Connector;
  let config: string;
  const name = uniqueName('tdlq');
  const ordersTopic = `${name}.legacy.orders`;

  const orderIds = async () => (await target.sql<{ id: number }>('SELECT id FROM app.orders ORDER BY id')).map((row) => row.id);

  beforeAll(async () => {
    legacy = await createTestDatabase('translate_dlq_legacy');
    target = await createTestDatabase('translate_dlq_target');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.customers (id int PRIMARY KEY, name text NOT NULL, is_test boolean NOT NULL DEFAULT false);
      CREATE TABLE legacy.orders (id int PRIMARY KEY, customer_id int NOT NULL, total float8 NOT NULL);
      INSERT INTO legacy.customers VALUES (1, 'Ada', false), (2, 'Bob', false);`);
    await target.sql(`CREATE SCHEMA app;
      CREATE TABLE app.customer (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES app.customer, total_cents bigint NOT NULL CHECK (total_cents >= 0));`);
    const options = { name, sourceUrl: legacy.url, targetUrl: target.url, tables: ['legacy.customers', 'legacy.orders'], brokers: stack.brokers, registryUrl: stack.registryUrl, extra: { mappings: MAPPINGS, translate: { parkTimeoutMs: 3000, parkRetryMs: 200 } } };
    config = writeTestConnectorFile(options);
    connector = parseConnector((await import(config)).default);
    pipeline = await startTestPipeline(connector);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await stack?.stop();
  });

  it('parks a change whose parent has not arrived and applies it when the parent comes', async () => {
    await legacy.sql(`INSERT INTO legacy.customers VALUES (3, 'Cy', true); INSERT INTO legacy.orders VALUES (30, 3, 1.5);`);
    await until(async () => (await target.sql('SELECT 1 FROM tandem.translate_parked WHERE key = $1', ['["30"]'])).length === 1, { describe: 'order 30 to be parked' });
    await legacy.sql(`UPDATE legacy.orders SET total = 2.5 WHERE id = 30`);
    await legacy.sql(`UPDATE legacy.customers SET is_test = false WHERE id = 3`);
    await until(async () => (await target.sql<{ total_cents: string }>('SELECT total_cents FROM app.orders WHERE id = 30'))[0]?.total_cents === '250', { describe: 'parked order 30 to be applied with its later update' });
    expect(await target.sql('SELECT * FROM tandem.translate_parked')).toEqual([]);
  });

  it('sends a change whose parent never comes to the dead-letter topic after translate.parkTimeoutMs', async () => {
    await legacy.sql(`INSERT INTO legacy.customers VALUES (4, 'Test', true); INSERT INTO legacy.orders VALUES (40, 4, 1.0);`);
    await until(async () => (await target.sql('SELECT error FROM tandem.translate_dead_letters WHERE key = $1', ['["40"]']))[0]?.error, { describe: 'order 40 to become a dead letter', timeoutMs: 30_000 });
    const [letter] = await target.sql<{ error: string }>('SELECT error FROM tandem.translate_dead_letters WHERE key = $1', ['["40"]']);
    expect(letter!.error).toMatch(/^parked for more than 3000 ms \(translate\.parkTimeoutMs\): insert or update on table "orders" violates foreign key constraint/);
  });

  it('sends a poison change to <topic>.dlq with its headers, keeps going, and replays it once after the fix', async () => {
    await legacy.sql(`INSERT INTO legacy.orders VALUES (10, 1, 10.0), (11, 1, -5.0), (12, 2, 12.0)`);
    const producer = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: ordersTopic, messages: [{ partition: 0, key: Buffer.from('k'), value: Buffer.from('not a change event') }] });
    await producer.disconnect();
    await legacy.sql(`INSERT INTO legacy.orders VALUES (13, 2, 13.0)`);
    await until(async () => (await orderIds()).includes(13) && (await orderIds()).includes(12), { describe: 'the orders after the poison ones to be applied' });
    expect(await orderIds()).not.toContain(11);

    const listed = await runTandem(['dlq', 'list', '--config', config, '--topic', ordersTopic, '--format', 'json']);
    expect(listed.code, listed.stderr).toBe(0);
    const letters = JSON.parse(listed.stdout) as { sourceTopic: string; sourcePartition: number; sourceOffset: string; error: string; state: string; time: string }[];
    const check = letters.find((letter) => letter.error.includes('check constraint'));
    expect(check).toMatchObject({ sourceTopic: ordersTopic, state: 'pending' });
    expect(check!.error).toMatch(/new row for relation "orders" violates check constraint "orders_total_cents_check".*SQLSTATE 23514/);
    expect(Number.isNaN(Date.parse(check!.time))).toBe(false);
    const garbage = letters.find((letter) => letter.error.includes('not the Confluent magic byte'));
    expect(garbage).toMatchObject({ sourceTopic: ordersTopic, sourcePartition: 0, state: 'pending' });
    // The dead-letter message itself carries every header.
    const dlqHeaders = await readHeaders(stack.brokers, `${ordersTopic}.dlq`);
    expect(dlqHeaders.some((headers) => headers['tandem.source.offset'] === check!.sourceOffset && headers['tandem.connector'] === name && headers['tandem.source.partition'] === String(check!.sourcePartition))).toBe(true);

    await target.sql('ALTER TABLE app.orders DROP CONSTRAINT orders_total_cents_check');
    const replay = await runTandem(['dlq', 'replay', '--config', config, '--topic', ordersTopic]);
    expect(replay.stdout).toMatch(new RegExp(`${ordersTopic.replace(/\./g, '\\.')}\\[\\d\\]@${check!.sourceOffset}\\s+applied`));
    // The parent-less order 40 still fails, the undecodable message too: exit code 2.
    expect(replay.code).toBe(2);
    expect((await target.sql<{ total_cents: string }>('SELECT total_cents FROM app.orders WHERE id = 11'))[0]?.total_cents).toBe('-500');

    // Replayed once: a second replay applies nothing again, even after the row changed on the target.
    await target.sql('UPDATE app.orders SET total_cents = 7 WHERE id = 11');
    const again = await runTandem(['dlq', 'replay', '--config', config, '--topic', ordersTopic]);
    expect(again.stdout).toMatch(new RegExp(`@${check!.sourceOffset}\\s+already replayed`));
    expect((await target.sql<{ total_cents: string }>('SELECT total_cents FROM app.orders WHERE id = 11'))[0]?.total_cents).toBe('7');
    const state = JSON.parse((await runTandem(['dlq', 'list', '--config', config, '--format', 'json'])).stdout) as typeof letters;
    expect(state.find((letter) => letter.sourceOffset === check!.sourceOffset && letter.sourcePartition === check!.sourcePartition && letter.sourceTopic === ordersTopic)?.state).toBe('replayed');
  });
});

async function readHeaders(brokers: string[], topic: string): Promise<Record<string, string>[]> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((sum, item) => sum + Number(item.high) - Number(item.low), 0);
  const consumer = kafka.consumer({ groupId: `headers-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Record<string, string>[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([key, value]) => [key, String(value)])));
    },
  });
  await until(() => seen.length >= total, { describe: `the ${total} messages of ${topic}` });
  await consumer.disconnect();
  return seen;
}
