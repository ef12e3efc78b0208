import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrate, type Bookkeeping } from '../../../src/pg/bookkeeping/migrate.js';
import { SOURCE_BOOKKEEPING } from '../../../src/pg/bookkeeping/source.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

const withClient = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

const example = (count: number, component = 'items'): Bookkeeping => ({
  schema: 'book',
  component,
  migrations: [
    { version: 1, description: 'items', sql: 'CREATE TABLE book.items (id int PRIMARY KEY)' },
    { version: 2, description: 'item names', sql: 'ALTER TABLE book.items ADD COLUMN name text' },
    { version: 3, description: 'seed', sql: "INSERT INTO book.items VALUES (1, 'first')" },
  ].slice(0, count),
});

describe('bookkeeping migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('bookkeeping');
  });

  it('applies each missing version once, also when workers start together', async () => {
    const first = await withClient(db.url, (client) => migrate(client, example(2)));
    expect(first.applied).toEqual([1, 2]);
    const together = await Promise.all([1, 2, 3].map(() => withClient(db.url, (client) => migrate(client, example(3)))));
    expect(together.map((result) => result.applied).flat()).toEqual([3]);
    expect(await db.sql('SELECT id, name FROM book.items')).toEqual([{ id: 1, name: 'first' }]);
    expect((await db.sql('SELECT version FROM book.schema_version ORDER BY version')).map((row) => row.version)).toEqual([1, 2, 3]);
  });

  it('versions the components of one schema apart', async () => {
    const other: Bookkeeping = { schema: 'book', component: 'notes', migrations: [{ version: 1, description: 'notes', sql: 'CREATE TABLE book.notes (id int)' }] };
    expect((await withClient(db.url, (client) => migrate(client, other))).applied).toEqual([1]);
    expect((await withClient(db.url, (client) => migrate(client, example(3)))).applied).toEqual([]);
  });

  it('refuses a schema migrated by a newer tandem', async () => {
    await expect(withClient(db.url, (client) => migrate(client, example(1)))).rejects.toThrow(/bookkeeping schema book \(items\) is at version 3, newer than this tandem knows \(1\)/);
  });

  it('rolls back a failing migration and names it', async () => {
    const broken: Bookkeeping = { schema: 'broken', component: 'bad', migrations: [{ version: 1, description: 'bad table', sql: 'CREATE TABLE broken.t (id int); CREATE TABLE broken.t (id int)' }] };
    await expect(withClient(db.url, (client) => migrate(client, broken))).rejects.toThrow(/bookkeeping schema broken \(bad\): migration 1 \(bad table\) failed: relation "t" already exists/);
    expect(await db.sql("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'broken' AND tablename = 't'")).toEqual([{ n: 0 }]);
  });

  it('adopts the capture tables of a database set up before versioning', async () => {
    const legacy = await createTestDatabase('prever');
    await legacy.sql('CREATE SCHEMA _tandem; CREATE TABLE _tandem.capture_state (connector text PRIMARY KEY, state jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())');
    await legacy.sql(`INSERT INTO _tandem.capture_state (connector, state) VALUES ('c', '{}')`);
    await withClient(legacy.url, (client) => migrate(client, SOURCE_BOOKKEEPING));
    expect(await legacy.sql('SELECT connector FROM _tandem.capture_state')).toEqual([{ connector: 'c' }]);
    expect(await legacy.sql('SELECT count(*)::int AS n FROM _tandem.signal')).toEqual([{ n: 0 }]);
  });
});
