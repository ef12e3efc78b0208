import { beforeAll, describe, expect, it } from 'vitest';
import { runReconcile, type ReconcileResult } from '../../../src/reconcile/run.js';
import { keyId, type Key } from '../../../src/reconcile/segment.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createShop, shopConnector, silentLogger } from './fixture.js';

const seed = Number(process.env.TANDEM_TEST_SEED ?? Date.now() % 1_000_000);
console.log(`reconcile.test seed ${seed} (TANDEM_TEST_SEED=${seed} repeats it)`);

const ids = (keys: readonly Key[]) => keys.map(keyId).sort();
const table = (result: ReconcileResult, name: string) => result.tables.find((item) => item.table === name)!;

describe('reconcile against PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('reconcile');
    await createShop(db, 6_000);
  });

  it('finds the mapped legacy data and the new tables equal (split, merge, lookup, filter, soft delete, composite text key)', async () => {
    const result = await runReconcile(shopConnector(db), { logger: silentLogger });
    expect(result.tables.map((item) => [item.table, item.missing.length, item.extra.length, item.different.length])).toEqual([
      ['app.customer', 0, 0, 0],
      ['app.customer_address', 0, 0, 0],
      ['app.account', 0, 0, 0],
    ]);
    expect(result.status).toBe('clean');
    const [{ count }] = await db.sql<{ count: string }>('SELECT count(*)::text AS count FROM app.customer');
    expect(table(result, 'app.customer').rowsCompared).toBe(Number(count));
    expect(table(result, 'app.customer').chunks).toBeGreaterThan(5);
  });
});

describe('reconcile reports injected drift exactly', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('reconcile_drift');
    await createShop(db, 6_000);
  });

  for (const k of [1, 7, 100, 1000]) {
    const mode = {
      1: { name: 'one query per chunk joining both sides', settings: {} },
      7: { name: 'checksums, bisection to rows', settings: { joinSameDatabase: false, hashListRows: 0 } },
      100: { name: 'checksums, hash lists', settings: { joinSameDatabase: false } },
      1000: { name: 'one query per chunk joining both sides', settings: {} },
    }[k]!;
    it(`k=${k}: changed, deleted and extra rows in app.customer (integer key) and app.account (composite text key), no more, no fewer (${mode.name})`, async () => {
      await db.sql(`TRUNCATE app.customer, app.customer_address, app.account`);
      const { fillTarget } = await import('./fixture.js');
      await fillTarget(db);
      const pick = (from: string, key: string, offset: number) => `SELECT ${key} FROM ${from} ORDER BY md5(${key.replace(/, /g, " || '/' || ")} || '${seed}') OFFSET ${offset} LIMIT ${k}`;
      const changed = await db.sql<{ id: string }>(`UPDATE app.customer SET email = coalesce(email, '') || '.changed' WHERE id IN (${pick('app.customer', 'id', 0)}) RETURNING id::text`);
      const deleted = await db.sql<{ id: string }>(`DELETE FROM app.customer WHERE id IN (${pick('app.customer', 'id', k)}) RETURNING id::text`);
      const extra = await db.sql<{ id: string }>(`INSERT INTO app.customer (id, full_name) SELECT 900000000 + i, 'ghost' FROM generate_series(1, ${k}) AS i RETURNING id::text`);
      const accountsChanged = await db.sql<{ tenant: string; code: string }>(`UPDATE app.account SET label = label || ' (edited)' WHERE (tenant, code) IN (${pick('app.account', 'tenant, code', 0)}) RETURNING tenant, code`);
      const accountsDeleted = await db.sql<{ tenant: string; code: string }>(`DELETE FROM app.account WHERE (tenant, code) IN (${pick('app.account', 'tenant, code', k)}) RETURNING tenant, code`);
      const accountsExtra = await db.sql<{ tenant: string; code: string }>(`INSERT INTO app.account SELECT 'Ünïcode tenant', 'x-' || i, 'extra', NULL FROM generate_series(1, ${k}) AS i RETURNING tenant, code`);

      const result = await runReconcile(shopConnector(db, mode.settings), { logger: silentLogger });
      const customer = table(result, 'app.customer');
      expect(ids(customer.different.map((item) => item.key))).toEqual(ids(changed.map((row) => [row.id])));
      expect(ids(customer.missing)).toEqual(ids(deleted.map((row) => [row.id])));
      expect(ids(customer.extra)).toEqual(ids(extra.map((row) => [row.id])));
      for (const item of customer.different) {
        expect(Object.keys(item.columns)).toEqual(['email']);
        expect(item.columns.email!.actual).toBe(`${item.columns.email!.expected ?? ''}.changed`);
      }
      const account = table(result, 'app.account');
      expect(ids(account.different.map((item) => item.key))).toEqual(ids(accountsChanged.map((row) => [row.tenant, row.code])));
      expect(ids(account.missing)).toEqual(ids(accountsDeleted.map((row) => [row.tenant, row.code])));
      expect(ids(account.extra)).toEqual(ids(accountsExtra.map((row) => [row.tenant, row.code])));
      expect(table(result, 'app.customer_address')).toMatchObject({ missing: [], extra: [], different: [] });
      expect(result.drift).toBe(6 * k);
      expect(result.status).toBe('drift');
    });
  }
});

describe('reconcile compares values exactly', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('reconcile_exact');
    await db.sql(`CREATE SCHEMA legacy; CREATE SCHEMA app;
      CREATE COLLATION app.case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
      CREATE TABLE legacy.items (id int PRIMARY KEY, price numeric, at timestamp(6), at_ms timestamp(6), note text, name text);
      CREATE TABLE app.items (id int PRIMARY KEY, price numeric, at timestamp(6), at_ms timestamp(3), note text, name text COLLATE app.case_insensitive);
      INSERT INTO legacy.items VALUES (1, 1.5, '2024-01-01 10:00:00.123456', '2024-01-01 10:00:00.123456', NULL, 'Alice'),
                                      (2, 2.25, '2024-01-01 10:00:00', '2024-01-01 10:00:00.9999', '', 'Bob'),
                                      (3, 3, '2024-01-01 10:00:00.5', '2024-01-01 10:00:00.5', 'x', 'Carol');
      INSERT INTO app.items VALUES (1, 1.50, '2024-01-01 10:00:00.123', '2024-01-01 10:00:00.123', '', 'alice'),
                                   (2, 2.25, '2024-01-01 10:00:00', '2024-01-01 10:00:01', NULL, 'Bob'),
                                   (3, 3, '2024-01-01 10:00:00.5', '2024-01-01 10:00:00.5', 'x', 'Carol');`);
  });

  it('numeric scale, timestamp precision, NULL vs empty string and collation-equal text are differences; casts to the target type are not', async () => {
    const { testConnector } = await import('../../support/connector.js');
    const connector = testConnector({ name: 'exact', sourceUrl: db.url, tables: ['legacy.items'], brokers: ['127.0.0.1:9'], registryUrl: 'http://127.0.0.1:9', extra: { reconcile: { settleRounds: 0 } } });
    const result = await runReconcile(connector, { logger: silentLogger });
    const items = table(result, 'app.items');
    const byKey = Object.fromEntries(items.different.map((item) => [item.key[0], item.columns]));
    expect(byKey).toEqual({
      '1': {
        price: { expected: '1.5', actual: '1.50' },
        at: { expected: '2024-01-01 10:00:00.123456', actual: '2024-01-01 10:00:00.123' },
        note: { expected: null, actual: '' },
        name: { expected: 'Alice', actual: 'alice' },
      },
      // 10:00:00.9999 cast to timestamp(3) rounds to 10:00:01, as translate's insert would: equal.
      '2': { note: { expected: '', actual: null } },
    });
  });
});

describe('reconcile beside a concurrent writer', () => {
  it('holds only ACCESS SHARE locks on the tables and never blocks the writer, which keeps committing during the run', async () => {
    const db = await createTestDatabase('reconcile_locks');
    await createShop(db, 20_000);
    const pg = (await import('pg')).default;
    const writer = new pg.Client({ connectionString: db.url, application_name: 'test writer' });
    const monitor = new pg.Client({ connectionString: db.url });
    await Promise.all([writer.connect(), monitor.connect()]);
    const writerPid = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let running = true;
    let commitsDuringRun = 0;
    let sawReconcile = false;
    const violations: string[] = [];
    const writes = (async () => {
      for (let round = 0; running; round += 1) {
        await writer.query(`BEGIN; UPDATE legacy.customers SET email = email WHERE id = ${7 * (1 + (round % 1000))}; UPDATE app.customer SET points = points WHERE id = ${7 * (1 + (round % 1000))}; INSERT INTO legacy.loyalty VALUES (${-1 - round}, 1) ; DELETE FROM legacy.loyalty WHERE customer_id = ${-1 - round}; COMMIT`);
        if (sawReconcile) commitsDuringRun += 1;
      }
    })();
    const watch = (async () => {
      while (running) {
        // Table, row and transaction locks (a backend's own virtualxid, and the database lock a
        // connection takes while it starts, block no writer).
        const { rows } = await monitor.query<{ pid: number; mode: string; relation: string | null; locktype: string }>(
          `SELECT l.pid, l.mode, l.relation::regclass::text AS relation, l.locktype FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE a.application_name = 'tandem reconcile' AND l.locktype IN ('relation', 'tuple', 'transactionid', 'page', 'advisory')`,
        );
        if (rows.length > 0) sawReconcile = true;
        for (const row of rows) if (row.mode !== 'AccessShareLock') violations.push(`${row.locktype} ${row.relation} ${row.mode}`);
        const blocked = await monitor.query<{ blockers: number[] }>('SELECT pg_blocking_pids($1) AS blockers', [writerPid]);
        const reconcilePids = new Set(rows.map((row) => row.pid));
        for (const pid of blocked.rows[0]!.blockers) if (reconcilePids.has(pid)) violations.push(`writer blocked by reconcile backend ${pid}`);
      }
    })();
    try {
      const result = await runReconcile(shopConnector(db, { chunkRows: 300, parallelism: 2 }), { logger: silentLogger });
      expect(result.tables.every((item) => item.rowsCompared > 0)).toBe(true);
    } finally {
      running = false;
      await Promise.all([writes, watch]);
      await Promise.all([writer.end(), monitor.end()]);
    }
    expect(sawReconcile).toBe(true);
    expect(violations).toEqual([]);
    expect(commitsDuringRun).toBeGreaterThan(0);
  });
});

describe('the row checksum tells apart exactly what the row comparison does', () => {
  it.each([
    ['numeric scale', 'numeric', `'1.5'`, `'1.50'`],
    ['timestamp precision', 'timestamp(6) without time zone', `'2024-01-01 10:00:00.123456'`, `'2024-01-01 10:00:00.123'`],
    ['NULL and empty string', 'text', 'NULL', `''`],
    ['case under a case-insensitive collation', 'text COLLATE app_ci', `'Alice'`, `'alice'`],
    ['negative and positive zero', 'double precision', `'-0'`, `'0'`],
    ['an interval of one day and of 24 hours', 'interval', `'1 day'`, `'24 hours'`],
    ['jsonb key order is one value', 'jsonb', `'{"a":1,"b":2}'`, `'{"b":2,"a":1}'`],
  ])('%s', async (name, type, left, right) => {
    const { checksumQuery } = await import('../../../src/mapping/reconcile-sql.js');
    const db = await createTestDatabase('reconcile_hash');
    await db.sql(`CREATE COLLATION IF NOT EXISTS app_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`);
    const baseType = type.replace(/ COLLATE .*/, '');
    const target = { key: [{ name: 'id', type: 'integer' }], columns: ['v'], columnTypes: { id: 'integer', v: baseType } };
    const sum = async (value: string) => {
      const query = checksumQuery(`SELECT 1 AS id, (${value})::${type} AS v`, target, { collateC: false }, null, null);
      return (await db.sql<{ h: string }>(query.text, [...query.values]))[0]!.h;
    };
    const textEqual = (await db.sql<{ same: boolean }>(`SELECT ((${left})::${type})::text COLLATE "C" IS NOT DISTINCT FROM ((${right})::${type})::text COLLATE "C" AS same`))[0]!.same;
    // Equal checksums exactly when the canonical text is equal.
    expect({ name, equalChecksums: (await sum(left)) === (await sum(right)) }).toEqual({ name, equalChecksums: textEqual });
  });
});

describe('chunks of a large table from a key sample', () => {
  it('samples the keys of a 250k-row target (uuid key) and still reports the drift exactly', async () => {
    const db = await createTestDatabase('reconcile_sample');
    await db.sql(`CREATE SCHEMA legacy; CREATE SCHEMA app;
      CREATE TABLE legacy.events (id uuid PRIMARY KEY, n int);
      INSERT INTO legacy.events SELECT md5('${seed}-' || i)::uuid, i FROM generate_series(1, 250000) i;
      CREATE TABLE app.events (id uuid PRIMARY KEY, n int);
      INSERT INTO app.events SELECT * FROM legacy.events; ANALYZE;`);
    const changed = await db.sql<{ id: string }>(`UPDATE app.events SET n = -n WHERE id IN (SELECT id FROM app.events ORDER BY n LIMIT 3) RETURNING id::text`);
    const { testConnector } = await import('../../support/connector.js');
    for (const settings of [{}, { joinSameDatabase: false }]) {
      const connector = testConnector({ name: 'sample', sourceUrl: db.url, tables: ['legacy.events'], brokers: ['127.0.0.1:9'], registryUrl: 'http://127.0.0.1:9', extra: { reconcile: { settleRounds: 0, chunkRows: 10_000, ...settings } } });
      const result = await runReconcile(connector, { logger: silentLogger });
      const events = table(result, 'app.events');
      expect(events.chunking).toBe('sample');
      expect(events.chunks).toBeGreaterThan(10);
      expect(events.rowsCompared).toBe(250_000);
      expect(ids(events.different.map((item) => item.key))).toEqual(ids(changed.map((row) => [row.id])));
      expect(events.missing.length + events.extra.length).toBe(0);
    }
  });
});
