import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { readAllEvents, waitUntilCaptured, withoutReplays, type DecodedEvent } from '../../support/capture.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

/** Kafka orders events per key (partition), not across keys: compare in key order. */
const byId = (events: DecodedEvent[]) => [...events].sort((a, b) => a.value!.after.id - b.value!.after.id);

describe('capture: schema evolution', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let connector: Connector;
  let worker: CaptureWorker | undefined;
  const name = uniqueName('evolve');
  const topic = `${name}.legacy.people`;
  const start = () => startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });

  beforeAll(async () => {
    db = await createTestDatabase('capture_evolution');
    stack = await startTestKafkaStack();
    await db.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.people (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO legacy.people VALUES (1, 'Ada');`);
    connector = testConnector({ name, sourceUrl: db.url, tables: ['legacy.people'], brokers: stack.brokers, registryUrl: stack.registryUrl });
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  /** Every event once (a restarted capture may replay what it sent but had not confirmed), in key order. */
  const capturedEvents = async (count: number) => {
    await waitUntilCaptured(db, name, ['legacy.people']);
    return byId(withoutReplays(await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: count })));
  };

  const versions = async () => (await (await fetch(`${stack.registryUrl}/subjects/${topic}-value/versions`)).json()) as number[];

  it('continues with a new schema version after ALTER TABLE ADD COLUMN mid-stream', async () => {
    worker = await start();
    await db.sql(`INSERT INTO legacy.people VALUES (2, 'Grace')`);
    await db.sql(`ALTER TABLE legacy.people ADD COLUMN email text`);
    await db.sql(`INSERT INTO legacy.people VALUES (3, 'Edsger', 'ed@example.com')`);
    const events = await capturedEvents(3);
    expect(events.map((event) => [event.value!.op, event.value!.after.id])).toEqual([['r', 1], ['c', 2], ['c', 3]]);
    expect(events[2]!.value!.after.email).toBe('ed@example.com');
    expect(events[2]!.valueSchemaId).not.toBe(events[1]!.valueSchemaId);
    expect(await versions()).toEqual([1, 2]);
  });

  it('stops on an incompatible change with what changed, the broken rule and the fix, and loses nothing once fixed', async () => {
    await db.sql(`ALTER TABLE legacy.people ADD COLUMN age int NOT NULL DEFAULT 0`);
    await db.sql(`INSERT INTO legacy.people VALUES (4, 'Barbara', 'bl@example.com', 40)`);
    const failure = await worker!.done.then(() => null, (error: Error) => error);
    worker = undefined;
    expect(failure?.message).toContain('what changed in legacy.people: column age added (integer, NOT NULL)');
    expect(failure?.message).toMatch(/age.*BACKWARD/);
    expect((failure as { fix?: string }).fix).toContain('ALTER TABLE "legacy"."people" ALTER COLUMN "age" DROP NOT NULL');
    expect(await versions()).toEqual([1, 2]);

    // The fix the message suggests: make the new column nullable. The change already in the WAL is then captured.
    await db.sql(`ALTER TABLE legacy.people ALTER COLUMN age DROP NOT NULL`);
    await db.sql(`INSERT INTO legacy.people VALUES (5, 'Tony', NULL, NULL)`);
    worker = await start();
    const events = await capturedEvents(5);
    expect(events.map((event) => event.value!.after.id)).toEqual([1, 2, 3, 4, 5]);
    expect(events[3]!.value!.after).toMatchObject({ id: 4, name: 'Barbara', age: 40 });
    expect(events[4]!.value!.after).toMatchObject({ id: 5, age: null });
  });

  it('decodes changes written before a column was dropped with the types the WAL holds, while capture was down', async () => {
    await worker!.stop();
    worker = undefined;
    await db.sql(`INSERT INTO legacy.people VALUES (6, 'Frances', 'fa@example.com', 61)`);
    await db.sql(`ALTER TABLE legacy.people DROP COLUMN email`);
    await db.sql(`INSERT INTO legacy.people VALUES (7, 'Kathleen', 52)`);
    worker = await start();
    const events = await capturedEvents(7);
    expect(events.map((event) => event.value!.after.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events[5]!.value!.after).toMatchObject({ id: 6, email: 'fa@example.com', age: 61 });
    expect(events[6]!.value!.after).toMatchObject({ id: 7, age: 52 });
    expect(events[6]!.value!.after).not.toHaveProperty('email');
  });
});
