import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { TandemError } from '../../../src/errors.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { readAllEvents, type DecodedEvent } from '../../support/capture.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

const PAYMENT = `
  CREATE SCHEMA legacy;
  CREATE TABLE legacy.payment (id bigint NOT NULL, paid_on date NOT NULL, amount numeric(10,2), PRIMARY KEY (id, paid_on)) PARTITION BY RANGE (paid_on);
  CREATE TABLE legacy.payment_p2022_01 PARTITION OF legacy.payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
  CREATE TABLE legacy.payment_p2022_02 PARTITION OF legacy.payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
  INSERT INTO legacy.payment VALUES (1, '2022-01-05', 10), (2, '2022-02-07', 20);`;

/** Each event as `op:id`, in (commitLsn, sequence) order: commit order across the topic's partitions. */
const history = (events: DecodedEvent[]) =>
  events
    .filter((event) => event.value !== null)
    .sort((a, b) => Number((a.value!.source.commitLsn ?? 0n) - (b.value!.source.commitLsn ?? 0n)) || Number(a.value!.source.sequence - b.value!.source.sequence))
    .map((event) => `${event.value!.op}:${(event.value!.after ?? event.value!.before).id}`);

describe('capture: partitioned tables', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let worker: CaptureWorker | undefined;
  const name = uniqueName('partitioned');
  const topic = `${name}.legacy.payment`;
  const start = (connector: Connector) => startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
  const connectorFor = (connectorName: string, publication?: string) =>
    testConnector({
      name: connectorName,
      sourceUrl: db.url,
      tables: ['legacy.payment'],
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      ...(publication ? { extra: { source: { url: db.url, schema: 'legacy', tables: ['legacy.payment'], publication } } } : {}),
    });

  beforeAll(async () => {
    db = await createTestDatabase('capture_partitioned');
    stack = await startTestKafkaStack();
    await db.sql(PAYMENT);
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  it("streams every partition's changes to the partitioned table's topic, including a partition attached while capture runs", async () => {
    worker = await start(connectorFor(name));
    await db.sql(`INSERT INTO legacy.payment VALUES (3, '2022-01-20', 30)`);
    await db.sql(`UPDATE legacy.payment SET amount = 21 WHERE id = 2`);
    await db.sql(`DELETE FROM legacy.payment_p2022_01 WHERE id = 1`);
    await db.sql(`CREATE TABLE legacy.payment_p2022_03 (LIKE legacy.payment INCLUDING ALL);
      ALTER TABLE legacy.payment ATTACH PARTITION legacy.payment_p2022_03 FOR VALUES FROM ('2022-03-01') TO ('2022-04-01')`);
    await db.sql(`INSERT INTO legacy.payment VALUES (4, '2022-03-02', 40)`);
    await db.sql(`INSERT INTO legacy.payment_p2022_03 VALUES (5, '2022-03-03', 50)`);

    // 2 snapshot reads, insert, update, delete + tombstone, two inserts into the attached partition.
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 8 });
    expect(history(events)).toEqual(['r:1', 'r:2', 'c:3', 'u:2', 'd:1', 'c:4', 'c:5']);
    expect(events.filter((event) => event.value).every((event) => event.value!.source.table === 'payment')).toBe(true);
    expect(events.find((event) => event.value?.op === 'c' && event.value.after.id === 5n)!.value!.after).toMatchObject({ paid_on: expect.any(Number), amount: '50.00' });

    const publication = await db.sql<{ pubviaroot: boolean }>(`SELECT pubviaroot FROM pg_publication WHERE pubname = $1`, [`tandem_${name}`]);
    expect(publication).toEqual([{ pubviaroot: true }]);
    const admin = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics.filter((candidate) => candidate.startsWith(`${name}.legacy.payment_`))).toEqual([]);
    await worker.stop();
    worker = undefined;
  });

  it('sets publish_via_partition_root on a publication it manages that lacks it; changes already in the WAL under partition names go to the root too', async () => {
    // As a publication created by an older tandem would be; the change is written while capture is down.
    await db.sql(`ALTER PUBLICATION tandem_${name} SET (publish_via_partition_root = false)`);
    await db.sql(`INSERT INTO legacy.payment VALUES (6, '2022-02-11', 60)`);
    worker = await start(connectorFor(name));
    await db.sql(`INSERT INTO legacy.payment VALUES (7, '2022-01-12', 70)`);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 10 });
    expect(history(events).slice(-2)).toEqual(['c:6', 'c:7']);
    expect(await db.sql(`SELECT pubviaroot FROM pg_publication WHERE pubname = $1`, [`tandem_${name}`])).toEqual([{ pubviaroot: true }]);
    await worker.stop();
    worker = undefined;
  });

  it("refuses a user's publication without publish_via_partition_root, naming it and the ALTER PUBLICATION that fixes it", async () => {
    await db.sql(`CREATE PUBLICATION payments_by_partition FOR TABLE legacy.payment`);
    const connector = connectorFor(uniqueName('userpub'), 'payments_by_partition');
    const error = (await start(connector).catch((caught: unknown) => caught)) as TandemError;
    expect(error).toBeInstanceOf(TandemError);
    expect(error.message).toBe(
      'publication payments_by_partition publishes the partitioned table legacy.payment without publish_via_partition_root, so changes would arrive under partition names that have no topic',
    );
    expect(error.fix).toBe('ALTER PUBLICATION "payments_by_partition" SET (publish_via_partition_root = true);');
  });
});
