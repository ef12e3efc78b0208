import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { inCommitOrder, readAllEvents, type DecodedEvent } from '../../support/capture.js';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

const ALL_TYPES_TABLE = `
  CREATE SCHEMA legacy;
  CREATE TYPE legacy.mood AS ENUM ('sad', 'ok', 'happy');
  CREATE DOMAIN legacy.positive_int AS int CHECK (VALUE > 0);
  CREATE TABLE legacy.all_types (
    id bigint PRIMARY KEY,
    small smallint, regular int NOT NULL, big bigint,
    price numeric(12,4), free_numeric numeric,
    r real, d double precision, flag boolean,
    name text, code varchar(10), initials char(3),
    born date, wake time, local_ts timestamp, zoned timestamptz, span interval,
    uid uuid, doc json, docb jsonb, blob bytea, mood legacy.mood,
    tags text[], scores int[], qty legacy.positive_int,
    big_text text
  );`;

describe('capture: change events', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let worker: CaptureWorker;
  let events: DecodedEvent[];
  const name = uniqueName('types');
  const topic = `${name}.legacy.all_types`;

  beforeAll(async () => {
    db = await createTestDatabase('capture_types');
    stack = await startTestKafkaStack();
    await db.sql(ALL_TYPES_TABLE);
    const connector = testConnector({ name, sourceUrl: db.url, tables: ['legacy.all_types'], brokers: stack.brokers, registryUrl: stack.registryUrl });
    const logger = testLogger('capture');
    worker = await startCapture(connector, { logger, metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });

    await db.sql(`INSERT INTO legacy.all_types VALUES (
      9007199254740993, -32768, 2147483647, 9223372036854775807,
      '12345678.1234', '3.14159265358979323846264338327950288',
      1.5, 2.718281828459045, true,
      'héllo ✓', 'abc', 'xy',
      '2024-02-29', '13:45:07.123456', '2024-01-02 03:04:05.123456', '2024-03-10 12:34:56.123456+02', '1 year 2 mons 3 days 04:05:06.5',
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"a": [1, 2]}', '{"b": {"c": null}}', '\\x00ff10', 'happy',
      ARRAY['x', NULL, 'z'], ARRAY[1, 2, 3], 7,
      (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300))
    )`);
    await db.sql(`INSERT INTO legacy.all_types (id, regular) VALUES (2, 0)`);
    await db.sql(`UPDATE legacy.all_types SET small = 2 WHERE id = 9007199254740993`);
    await db.sql(`DELETE FROM legacy.all_types WHERE id = 2`);
    await db.sql(`TRUNCATE legacy.all_types`);
    events = inCommitOrder(await readAllEvents(stack.brokers, stack.registryUrl, [topic], { expectAtLeast: 8 }));
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  it('emits create, create, update, delete + tombstone and truncate, in commit order', () => {
    // The truncate is written to each of the topic's 3 partitions.
    expect(events.map((event) => event.value?.op ?? 'tombstone')).toEqual(['c', 'c', 'u', 'd', 'tombstone', 't', 't', 't']);
    expect(events.every((event) => event.valueSchemaId === events[0]!.valueSchemaId || event.value === null)).toBe(true);
  });

  it('keys events by primary key, exact beyond 2^53', () => {
    expect(events[0]!.key).toEqual({ id: 9007199254740993n });
    expect(events[3]!.key).toEqual({ id: 2n });
    expect(events[4]!.key).toEqual({ id: 2n });
  });

  it('decodes every mapped type exactly', () => {
    const after = events[0]!.value!.after;
    expect(after).toMatchObject({
      id: 9007199254740993n,
      small: -32768,
      regular: 2147483647,
      big: 9223372036854775807n,
      price: '12345678.1234',
      free_numeric: '3.14159265358979323846264338327950288',
      r: 1.5,
      d: 2.718281828459045,
      flag: true,
      name: 'héllo ✓',
      code: 'abc',
      initials: 'xy ',
      born: 19782,
      wake: 49507123456n,
      local_ts: 1704164645123456n,
      zoned: '2024-03-10T10:34:56.123456Z',
      span: 'P1Y2M3DT4H5M6.5S',
      uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      doc: '{"a": [1, 2]}',
      docb: '{"b": {"c": null}}',
      mood: 'happy',
      tags: ['x', null, 'z'],
      scores: [1, 2, 3],
      qty: 7,
    });
    expect(after.blob).toEqual(Buffer.from([0x00, 0xff, 0x10]));
    expect(after.big_text).toHaveLength(9600);
    expect(events[0]!.value!.source).toMatchObject({ connector: name, schema: 'legacy', table: 'all_types', snapshot: false });
    expect(typeof events[0]!.value!.source.txId).toBe('bigint');
  });

  it('keeps NULL as null', () => {
    const after = events[1]!.value!.after;
    expect(after).toMatchObject({ id: 2n, regular: 0, small: null, price: null, zoned: null, blob: null, tags: null, big_text: null });
  });

  it('lists an unchanged TOAST column as not sent instead of emitting NULL', () => {
    const update = events[2]!.value!;
    expect(update.after.small).toBe(2);
    expect(update.unchangedToastColumns).toEqual(['big_text']);
    expect(update.after.big_text).toBeNull();
    expect(events[0]!.value!.unchangedToastColumns).toEqual([]);
  });

  it('carries the key in before for a delete and no row for a truncate', () => {
    expect(events[3]!.value!.before).toMatchObject({ id: 2n });
    expect(events[3]!.value!.after).toBeNull();
    expect(events[5]!.value).toMatchObject({ op: 't', before: null, after: null });
  });

  it('gives changes of one transaction the same commit LSN and increasing positions', () => {
    for (const event of events.filter((candidate) => candidate.value)) {
      expect(event.value!.source.commitLsn).toBeTypeOf('bigint');
    }
    const lsns = events.filter((event) => event.value).map((event) => event.value!.source.commitLsn as bigint);
    expect([...lsns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(lsns);
  });
});
