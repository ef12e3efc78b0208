import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { topicFor } from '../../../src/kafka/topics.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { readAllEvents } from '../../support/capture.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

/**
 * Capture leaves out changes applied under a replication origin only when asked (reverse sync
 * declared): otherwise what a subscription or pglogical applies to the source tables is captured
 * like any other change.
 */
describe('capture and replication origins', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let worker: CaptureWorker | undefined;
  const origin = uniqueName('some_subscription');

  beforeAll(async () => {
    db = await createTestDatabase('capture_origin');
    stack = await startTestKafkaStack();
    await db.sql('CREATE SCHEMA legacy; CREATE TABLE legacy.items (id int PRIMARY KEY, label text)');
    await db.sql('SELECT pg_replication_origin_create($1)', [origin]);
  });

  afterAll(async () => {
    await worker?.stop();
    await db?.sql('SELECT pg_replication_origin_drop($1)', [origin]).catch(() => undefined);
    await stack?.stop();
  });

  it('captures a change applied under a replication origin when the connector declares no reverse sync', async () => {
    const connector = testConnector({ name: uniqueName('origin_any'), sourceUrl: db.url, tables: ['items'], brokers: stack.brokers, registryUrl: stack.registryUrl });
    expect(connector.rollout.reverse).toEqual({});
    worker = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    // One session, as a subscription's apply worker would: its origin set up for the rest of the session.
    await db.sql(`INSERT INTO legacy.items VALUES (1, 'written by a user');
      SELECT pg_replication_origin_session_setup('${origin}');
      INSERT INTO legacy.items VALUES (2, 'applied by replication');
      SELECT pg_replication_origin_session_reset();`);
    const events = await readAllEvents(stack.brokers, stack.registryUrl, [topicFor(connector.kafka.topicPrefix, 'legacy.items')], { expectAtLeast: 2 });
    // Keys land on different partitions: no order between them.
    const captured = events.filter((event) => event.value).map((event) => [event.key?.id, event.value!.op]);
    expect(captured.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [1, 'c'],
      [2, 'c'],
    ]);
  });
});
