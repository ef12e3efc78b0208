import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { parseConnector } from '../../../src/config/load.js';
import type { Connector } from '../../../src/config/index.js';
import { topicFor } from '../../../src/kafka/topics.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { PipelineReverseSync, reverseConnector } from '../../../src/rollout/reverse-pipeline.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { createTranslateMetrics } from '../../../src/translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { readAllEvents, type DecodedEvent } from '../../support/capture.js';
import { uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

/**
 * Forward (legacy → new) and reverse (new → legacy) pipelines at the same time. Each translate
 * applies under a replication origin and each capture streams with origin 'none', so a write crosses
 * once and is not captured again on the other side. "Not captured" is proven exactly: the other
 * side's slot is confirmed past the WAL position of the apply's commit, and the topic is read up to
 * its end offsets.
 */
describe('reverse sync beside the forward pipeline: no echo', () => {
  let legacy: TestDatabase;
  let fresh: TestDatabase;
  let stack: TestKafkaStack;
  let connector: Connector;
  let capture: CaptureWorker;
  let translate: TranslateWorker;
  let reverse: PipelineReverseSync;
  let forwardTopic: string;
  let reverseTopic: string;
  let reverseSlot: string;

  const rowOf = async (db: TestDatabase, sql: string, id: number) => (await db.sql<{ value: string; xmin: string }>(sql, [id]))[0];
  const legacyRow = (id: number) => rowOf(legacy, 'SELECT name AS value, xmin::text AS xmin FROM legacy.customers WHERE id = $1', id);
  const newRow = (id: number) => rowOf(fresh, 'SELECT full_name AS value, xmin::text AS xmin FROM app.customers WHERE id = $1', id);
  const walEnd = async (db: TestDatabase) => BigInt((await db.sql<{ lsn: string }>("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn"))[0]!.lsn);
  const confirmedLsn = async (db: TestDatabase, slot: string) =>
    BigInt((await db.sql<{ lsn: string | null }>("SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text AS lsn FROM pg_replication_slots WHERE slot_name = $1", [slot]))[0]?.lsn ?? '0');
  /** Waits until `slot` on `db` has confirmed everything written to `db` so far: capture has passed it (sent or left out). */
  const slotPassedWalEnd = async (db: TestDatabase, slot: string) => {
    const end = await walEnd(db);
    await until(async () => (await confirmedLsn(db, slot)) >= end, { describe: `slot ${slot} confirmed past ${end}`, timeoutMs: 60_000, intervalMs: 100 });
  };
  const eventsFor = (events: DecodedEvent[], id: number) => events.filter((event) => event.key?.id === id && event.value !== null).map((event) => event.value!.op as string);

  beforeAll(async () => {
    legacy = await createTestDatabase('echo_legacy');
    fresh = await createTestDatabase('echo_new');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.customers (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO legacy.customers SELECT g, 'Customer ' || g FROM generate_series(1, 5) g`);
    await fresh.sql('CREATE SCHEMA app; CREATE TABLE app.customers (id int PRIMARY KEY, full_name text NOT NULL)');
    connector = parseConnector({
      name: uniqueName('echo'),
      source: { url: legacy.url, schema: 'legacy', tables: ['customers'] },
      kafka: { brokers: stack.brokers },
      registry: { url: stack.registryUrl },
      target: { url: fresh.url, schema: 'app' },
      mappings: { customers: { to: 'customers', columns: { full_name: 'name' } } },
      capture: { heartbeatIntervalMs: 300, metricsPort: 0 },
      translate: { metricsPort: 0 },
      rollout: { reverse: { 'app.customers': { to: 'legacy.customers', columns: { name: 'full_name' } } } },
    });
    const reversed = reverseConnector(connector);
    forwardTopic = topicFor(connector.kafka.topicPrefix, 'legacy.customers');
    reverseTopic = topicFor(reversed.kafka.topicPrefix, 'app.customers');
    reverseSlot = reversed.source.slot;

    capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    translate = await startTranslate(connector, { logger: testLogger('translate'), metrics: createTranslateMetrics() });
    await until(async () => Number((await fresh.sql('SELECT count(*) AS n FROM app.customers'))[0]!.n) === 5, { describe: 'forward translate applying the snapshot', timeoutMs: 60_000, intervalMs: 100 });
    // Started while the forward pipeline keeps running: no need to stop it any more.
    reverse = new PipelineReverseSync(connector, testLogger('reverse'));
    await reverse.start();
    // The reverse snapshot of new (op r) is applied to legacy under the reverse origin.
    await until(async () => (await readAllEvents(stack.brokers, stack.registryUrl, [reverseTopic])).length >= 5, { describe: 'the reverse snapshot in Kafka', timeoutMs: 60_000, intervalMs: 200 });
  });

  afterAll(async () => {
    await reverse?.close();
    await translate?.stop();
    await capture?.stop();
    await stack?.stop();
  });

  it('carries a write on legacy to new exactly once, with no event on the reverse topic', async () => {
    await legacy.sql(`INSERT INTO legacy.customers VALUES (100, 'Written on legacy'); UPDATE legacy.customers SET name = 'Renamed on legacy' WHERE id = 1`);
    const written = await legacyRow(100);
    await until(async () => (await newRow(100))?.value === 'Written on legacy' && (await newRow(1))?.value === 'Renamed on legacy', { describe: 'the legacy writes reaching new', timeoutMs: 60_000, intervalMs: 100 });
    const applied = await newRow(100);
    // Every WAL record of new so far, the forward apply's commit included, is behind the reverse capture.
    await slotPassedWalEnd(fresh, reverseSlot);
    // …and legacy's WAL (where an echo would have been applied) is behind the forward capture.
    await slotPassedWalEnd(legacy, connector.source.slot);

    const reverseEvents = await readAllEvents(stack.brokers, stack.registryUrl, [reverseTopic]);
    expect(eventsFor(reverseEvents, 100)).toEqual([]);
    expect(eventsFor(reverseEvents, 1)).toEqual(['r']);
    const forwardEvents = await readAllEvents(stack.brokers, stack.registryUrl, [forwardTopic]);
    expect(eventsFor(forwardEvents, 100)).toEqual(['c']);
    expect(eventsFor(forwardEvents, 1)).toEqual(['r', 'u']);
    // Neither row was written again: new by a second forward apply, legacy by a reverse one.
    expect(await newRow(100)).toEqual(applied);
    expect(await legacyRow(100)).toEqual(written);
  });

  it('carries a write on new to legacy exactly once, with no event on the forward topic', async () => {
    await fresh.sql(`INSERT INTO app.customers VALUES (200, 'Written on new'); UPDATE app.customers SET full_name = 'Renamed on new' WHERE id = 2`);
    const written = await newRow(200);
    await until(async () => (await legacyRow(200))?.value === 'Written on new' && (await legacyRow(2))?.value === 'Renamed on new', { describe: 'the new writes reaching legacy', timeoutMs: 60_000, intervalMs: 100 });
    const applied = await legacyRow(200);
    await slotPassedWalEnd(legacy, connector.source.slot);
    await slotPassedWalEnd(fresh, reverseSlot);

    const forwardEvents = await readAllEvents(stack.brokers, stack.registryUrl, [forwardTopic]);
    expect(eventsFor(forwardEvents, 200)).toEqual([]);
    expect(eventsFor(forwardEvents, 2)).toEqual(['r']);
    const reverseEvents = await readAllEvents(stack.brokers, stack.registryUrl, [reverseTopic]);
    expect(eventsFor(reverseEvents, 200)).toEqual(['c']);
    expect(eventsFor(reverseEvents, 2)).toEqual(['r', 'u']);
    expect(await legacyRow(200)).toEqual(applied);
    expect(await newRow(200)).toEqual(written);
  });
});
