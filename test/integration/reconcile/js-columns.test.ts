import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Connector } from '../../../src/config/index.js';
import { readTableChunks } from '../../../src/capture/snapshot.js';
import { js } from '../../../src/mapping/helpers.js';
import { jsLegacyRowsQuery } from '../../../src/mapping/reconcile-sql.js';
import { SOURCE_SESSION_OPTIONS } from '../../../src/pg/connect.js';
import { createAvroType } from '../../../src/schema/avro-type.js';
import { toAvroKey, toAvroRow } from '../../../src/schema/avro-values.js';
import { readTableDefinition } from '../../../src/schema/catalog-reader.js';
import { deriveSchemas } from '../../../src/schema/derive.js';
import { encodeFrame } from '../../../src/schema/wire-format.js';
import { translateRowView } from '../../../src/reconcile/js-columns.js';
import { runReconcileJob } from '../../../src/reconcile/job.js';
import { clientJsRunner } from '../../../src/reconcile/pg-side.js';
import { runReconcile, settleCut, type ReconcileResult } from '../../../src/reconcile/run.js';
import { keyId } from '../../../src/reconcile/segment.js';
import { compileTargets } from '../../../src/reconcile/targets.js';
import { readChange } from '../../../src/translate/event-reader.js';
import { SchemaCache } from '../../../src/translate/schema-cache.js';
import { testConnector } from '../../support/connector.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { silentLogger } from './fixture.js';

/** Every type a js() function may read, with awkward values (scale, precision, offsets, NULL, ''). */
const KINDS_DDL = `CREATE TABLE legacy.kinds (id int PRIMARY KEY, t text, vc varchar(10), ch char(5), n numeric(12,3), nu numeric, i2 smallint, i8 bigint, f8 float8, f4 real, b boolean,
  d date, ts timestamp(6), tstz timestamptz, tm time, iv interval, u uuid, j jsonb, jn json, by bytea, ta text[], ia int[])`;
const KINDS_ROWS = `INSERT INTO legacy.kinds VALUES
  (1, 'Émile "x"\\n', 'ab', 'ab', 1.5, 1.50, -3, 9007199254740993, 0.1, 1.1, true, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+05:30', '13:45:07.5', '1 year 2 mons 3 days 04:05:06.5', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1, "a": [1.50, null]}', '{"b": 1,  "a": 2}', '\\x0aff', '{"a b",NULL,"c\\"d"}', '{1,NULL,3}'),
  (2, '', '', '', -0.005, 'NaN', 0, -1, 'NaN', '-Infinity', false, '0044-03-15 BC', 'infinity', '-infinity', '00:00:00', '-1 days -00:00:01', NULL, 'null', '[]', '\\x', '{}', '{}'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

function connectorFor(db: TestDatabase, tables: string[], mappings: Record<string, unknown>, reconcile: Record<string, unknown> = {}): Connector {
  return testConnector({
    name: `js${db.name.slice(-6)}`,
    sourceUrl: db.url,
    tables,
    brokers: ['127.0.0.1:9'],
    registryUrl: 'http://127.0.0.1:9',
    extra: { mappings, reconcile: { chunkRows: 100, bisectRows: 20, bisectFactor: 8, settleRounds: 0, ...reconcile } },
  });
}

describe('the legacy row a js() function sees in reconcile is the row translate hands it', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('reconcile_js_text');
    await db.sql(`CREATE SCHEMA legacy; CREATE SCHEMA app; ${KINDS_DDL}; ${KINDS_ROWS};
      CREATE TABLE app.kind (id int PRIMARY KEY, echo text);`);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('reads each column as capture reads it (PostgreSQL text under SOURCE_SESSION_OPTIONS), and turns it into the text translate decodes from the Avro event', async () => {
    const connector = connectorFor(db, ['legacy.kinds'], { 'legacy.kinds': { to: 'app.kind', columns: { echo: js((row) => JSON.stringify(row)) } } });
    const source = new pg.Client({ connectionString: db.url, options: SOURCE_SESSION_OPTIONS });
    await source.connect();
    try {
      const [table] = await compileTargets(connector, source, source);
      const jsSource = table!.js[0]!;
      const definition = await readTableDefinition(source, 'legacy', 'kinds');

      // What reconcile reads for the function, and what capture's snapshot reads: the same text.
      const reconcileRows = await clientJsRunner(source, 'source', db.url).rows(jsLegacyRowsQuery(jsSource, table!.key, { collateC: false }, null, null), true);
      const captured: Record<string, string | null>[] = [];
      for await (const chunk of readTableChunks(source, { name: 'legacy.kinds', columns: definition.columns.map((column) => column.name), key: [{ name: 'id', sqlType: 'integer' }] }, null, 100)) captured.push(...chunk.rows);
      expect(reconcileRows.map((row) => row.slice(1))).toEqual(captured.map((row) => jsSource.legacyColumns.map((name) => row[name])));

      // What translate gives the function: the captured row encoded as capture encodes it, framed,
      // and read back by translate's own event reader with the registry's schemas.
      const schemas = deriveSchemas(definition, { topicPrefix: connector.kafka.topicPrefix });
      const registry: Record<string, unknown> = { '1': schemas.valueSchema, '2': schemas.keySchema };
      vi.stubGlobal('fetch', async (url: string) => new Response(JSON.stringify({ schema: JSON.stringify(registry[String(url).split('/').pop()!]) }), { status: 200 }));
      const cache = new SchemaCache({ url: 'http://registry.test' });
      const valueType = createAvroType(schemas.valueSchema);
      const keyType = createAvroType(schemas.keySchema);
      const view = translateRowView(definition, jsSource.legacyColumns);
      for (const [index, row] of captured.entries()) {
        const envelope = {
          before: null,
          after: toAvroRow(definition, row).row,
          source: { connector: connector.name, lsn: 1n, commitLsn: null, sequence: BigInt(index), txId: null, tsMs: 0n, schema: 'legacy', table: 'kinds', snapshot: true },
          op: 'r',
          tsMs: 0n,
          unchangedToastColumns: [],
        };
        const message = { key: encodeFrame(2, keyType.toBuffer(toAvroKey(definition, row))), value: encodeFrame(1, valueType.toBuffer(envelope)), offset: String(index), timestamp: '0', attributes: 0, headers: {} };
        const change = await readChange(cache, 'topic', 0, message as never);
        expect(view(reconcileRows[index]!.slice(1)), `row ${row.id}`).toEqual(change.values);
      }

      // Not PostgreSQL's text for every type: a timestamptz reaches the function as Avro carried it.
      const first = view(reconcileRows[0]!.slice(1));
      expect(reconcileRows[0]![jsSource.legacyColumns.indexOf('tstz') + 1]).toBe('2024-01-01 21:34:05.123456+00');
      expect(first.tstz).toBe('2024-01-01T21:34:05.123456Z');
      expect(first.n).toBe('1.500');
      expect(view(reconcileRows[2]!.slice(1)).t).toBeNull();
      expect(view(reconcileRows[1]!.slice(1)).t).toBe('');
    } finally {
      await source.end();
    }
  });
});

/**
 * js() columns over text (initials), numeric with scale (cast to a smaller scale rounds), timestamptz
 * (cast to millisecond precision), a timestamp read as local time of the target database's default
 * TimeZone (translate's sessions set none), a number, NULL and ''. The target is filled by SQL
 * written here, not by the mapping module.
 */
const PEOPLE = `CREATE SCHEMA legacy; CREATE SCHEMA app;
  CREATE TABLE legacy.people (id bigint PRIMARY KEY, first_name text, last_name text, amount numeric(12,3), created_at timestamptz, local_ts timestamp, is_test boolean NOT NULL DEFAULT false);
  INSERT INTO legacy.people SELECT i,
      CASE WHEN i % 7 = 0 THEN NULL WHEN i % 13 = 0 THEN '' ELSE 'Émile' || i END,
      CASE WHEN i % 5 = 0 THEN NULL WHEN i % 13 = 0 THEN '' ELSE 'zola' || i END,
      CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 1.235 - 500)::numeric(12,3) END,
      CASE WHEN i % 11 = 0 THEN NULL ELSE timestamptz '2024-03-01 10:00:00.123456+05:30' + i * interval '37 minutes 1.000777 seconds' END,
      CASE WHEN i % 6 = 0 THEN NULL ELSE timestamp '2024-03-09 20:30:00' + i * interval '7 minutes 0.5 seconds' END,
      i % 50 = 0
    FROM generate_series(1, 1500) AS i;
  CREATE TABLE app.person (id bigint PRIMARY KEY, full_name text, initials text, amount numeric(12,2), created_at timestamp(3) with time zone, local_at timestamptz, twice bigint);
  INSERT INTO app.person SELECT id, trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')),
      CASE WHEN first_name IS NULL AND last_name IS NULL THEN NULL ELSE coalesce(left(first_name, 1), '') || coalesce(left(last_name, 1), '') END,
      amount::numeric(12,2), created_at::timestamptz(3), local_ts AT TIME ZONE 'America/New_York', id * 2
    FROM legacy.people WHERE NOT is_test;
  ANALYZE;`;

const peopleMapping = {
  'legacy.people': {
    to: 'app.person',
    columns: {
      full_name: "trim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))",
      initials: js((row) => (row.first_name === null && row.last_name === null ? null : `${row.first_name?.[0] ?? ''}${row.last_name?.[0] ?? ''}`)),
      amount: js((row) => row.amount),
      created_at: js((row) => row.created_at),
      local_at: js((row) => row.local_ts),
      twice: js((row) => BigInt(row.id!) * 2n),
    },
    where: 'NOT is_test',
  },
};

async function peopleDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  await db.sql(`ALTER DATABASE ${db.name} SET timezone = 'America/New_York'`);
  await db.sql(PEOPLE);
  return db;
}

const person = (result: ReconcileResult) => result.tables.find((item) => item.table === 'app.person')!;

describe('reconcile compares js() columns exactly', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await peopleDatabase('reconcile_js');
  });

  it('finds a clean table clean: no false positives across text, numeric scale, timestamptz precision, local time, NULL and empty text', async () => {
    const result = await runReconcile(connectorFor(db, ['legacy.people'], peopleMapping), { logger: silentLogger });
    const table = person(result);
    expect(table.notComparable).toEqual([]);
    expect(table.columns).toEqual(['full_name', 'initials', 'amount', 'created_at', 'local_at', 'twice']);
    expect([table.missing, table.extra, table.different]).toEqual([[], [], []]);
    expect(table.chunks).toBeGreaterThan(5);
    expect(result.status).toBe('clean');
  });

  it('reports exactly the rows whose js() column was changed, and only that column, merged with an SQL column of the same row', async () => {
    const initials = [3, 101, 102, 777, 1499];
    const amounts = [4, 640, 1201];
    const nulled = [8, 333];
    const both = 17;
    await db.sql(`UPDATE app.person SET initials = 'zz' WHERE id = ANY($1::bigint[])`, [initials]);
    await db.sql(`UPDATE app.person SET amount = amount + 0.01 WHERE id = ANY($1::bigint[])`, [amounts]);
    await db.sql(`UPDATE app.person SET created_at = NULL WHERE id = ANY($1::bigint[])`, [nulled]);
    await db.sql(`UPDATE app.person SET local_at = local_at + interval '1 microsecond', full_name = 'x' WHERE id = $1`, [both]);
    try {
      const result = await runReconcile(connectorFor(db, ['legacy.people'], peopleMapping), { logger: silentLogger });
      const table = person(result);
      expect([table.missing, table.extra]).toEqual([[], []]);
      const reported = new Map(table.different.map((row) => [keyId(row.key), Object.keys(row.columns).sort()]));
      expect(Object.fromEntries(reported)).toEqual(
        Object.fromEntries([
          ...initials.map((id) => [keyId([String(id)]), ['initials']]),
          ...amounts.map((id) => [keyId([String(id)]), ['amount']]),
          ...nulled.map((id) => [keyId([String(id)]), ['created_at']]),
          [keyId([String(both)]), ['full_name', 'local_at']],
        ]),
      );
      const row101 = table.different.find((row) => row.key[0] === '101')!;
      expect(row101.columns.initials).toEqual({ expected: 'Éz', actual: 'zz' });
      const row4 = table.different.find((row) => row.key[0] === '4')!;
      expect(row4.columns.amount).toEqual({ expected: '-495.06', actual: '-495.05' });
      expect(result.drift).toBe(initials.length + amounts.length + nulled.length + 1);
    } finally {
      await db.sql(`DELETE FROM app.person; INSERT INTO app.person SELECT id, trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')),
          CASE WHEN first_name IS NULL AND last_name IS NULL THEN NULL ELSE coalesce(left(first_name, 1), '') || coalesce(left(last_name, 1), '') END,
          amount::numeric(12,2), created_at::timestamptz(3), local_ts AT TIME ZONE 'America/New_York', id * 2 FROM legacy.people WHERE NOT is_test`);
    }
  });

  it('rechecks js() differences when settling: a value fixed before the recheck was in flight, the others stay drift', async () => {
    await db.sql(`UPDATE app.person SET twice = 0 WHERE id IN (21, 22, 23, 24)`);
    const sleep = async () => {
      await db.sql(`UPDATE app.person SET twice = id * 2 WHERE id IN (21, 22)`);
    };
    try {
      const result = await runReconcile(connectorFor(db, ['legacy.people'], peopleMapping, { settleRounds: 1, settleDelayMs: 1 }), { logger: silentLogger, sleep });
      const table = person(result);
      expect(table.different.map((row) => [row.key[0], Object.keys(row.columns)]).sort()).toEqual([
        ['23', ['twice']],
        ['24', ['twice']],
      ]);
      expect(table.inFlightResolved).toBe(2);
    } finally {
      await db.sql(`UPDATE app.person SET twice = id * 2`);
    }
  });

  it('flags a value its column type rejects (translate would dead-letter the row) without failing the run', async () => {
    const mapping = { 'legacy.people': { ...peopleMapping['legacy.people'], columns: { ...peopleMapping['legacy.people'].columns, twice: js((row) => (row.id === '42' ? 'forty-two' : BigInt(row.id!) * 2n)) } } };
    const result = await runReconcile(connectorFor(db, ['legacy.people'], mapping), { logger: silentLogger });
    const table = person(result);
    expect(table.different.map((row) => row.key[0])).toEqual(['42']);
    expect(table.different[0]!.columns.twice!.expected).toMatch(/^js\(\) gave "forty-two", not a valid bigint: invalid input syntax/);
  });
});

describe('reconcile --repair rewrites js() columns as translate writes them', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await peopleDatabase('reconcile_js_repair');
  });

  it('makes a table with drifted js() columns and missing rows clean, and the next run confirms it', async () => {
    await db.sql(`UPDATE app.person SET initials = NULL, local_at = now(), amount = 0 WHERE id BETWEEN 200 AND 260`);
    await db.sql(`DELETE FROM app.person WHERE id BETWEEN 900 AND 905`);
    const connector = connectorFor(db, ['legacy.people'], peopleMapping);
    const first = await runReconcileJob(connector, { repair: true, logger: silentLogger, cut: settleCut(connector) });
    // 200…260 less the test rows 200 and 250 (not mapped); 901…905 (900 is a test row).
    expect(first.report.drift).toBe(59 + 5);
    const second = await runReconcile(connector, { logger: silentLogger });
    expect([person(second).missing, person(second).extra, person(second).different]).toEqual([[], [], []]);
  });
});
