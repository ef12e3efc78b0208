import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../../src/embedded/postgres.js';
import { repoRoot } from '../../support/cli.js';

/**
 * Runs a psql script the way docker-entrypoint-initdb.d does: each statement on its own (psql's
 * autocommit, so CREATE DATABASE works), `\connect` switching the database. Statements end with a
 * `;` at the end of a line outside a dollar-quoted body.
 */
async function runPsqlScript(server: RunningPostgres, script: string): Promise<void> {
  let client: pg.Client | null = null;
  const connect = async (database: string) => {
    await client?.end();
    client = new pg.Client({ connectionString: server.urlFor(database) });
    await client.connect();
  };
  await connect('postgres');
  let statement: string[] = [];
  let inDollarQuote = false;
  try {
    for (const line of script.split('\n')) {
      const meta = /^\\connect\s+(\w+)\s*$/.exec(line);
      if (meta) {
        await connect(meta[1]!);
        continue;
      }
      if (line.startsWith('\\')) throw new Error(`the init script uses a psql command this runner does not know: ${line}`);
      statement.push(line);
      if ((line.match(/\$\$/g) ?? []).length % 2 === 1) inDollarQuote = !inDollarQuote;
      if (!inDollarQuote && line.trimEnd().endsWith(';')) {
        await client!.query(statement.join('\n'));
        statement = [];
      }
    }
    if (statement.join('').trim()) throw new Error(`the init script ends inside a statement: ${statement.join('\n')}`);
  } finally {
    await (client as pg.Client | null)?.end();
  }
}

describe("docker-compose's database init script on a fresh PostgreSQL", () => {
  let server: RunningPostgres;
  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    await runPsqlScript(server, readFileSync(path.join(repoRoot, 'scripts/docker-initdb/01-demo.sql'), 'utf8'));
  });
  afterAll(async () => {
    await server?.stop();
  });

  const query = async (database: string, sql: string) => {
    const client = new pg.Client({ connectionString: server.urlFor(database) });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  it('creates the legacy database with the seeded demo tables', async () => {
    expect(await query('legacy', `SELECT (SELECT count(*)::int FROM legacy.customers) AS customers, (SELECT count(*)::int FROM legacy.customers WHERE is_test) AS test_accounts,
      (SELECT count(*)::int FROM legacy.orders) AS orders, (SELECT count(*)::int FROM legacy.loyalty) AS loyalty`)).toEqual([{ customers: 1000, test_accounts: 20, orders: 2940, loyalty: 327 }]);
    const [sample] = await query('legacy', 'SELECT full_name, address, status_code, created FROM legacy.customers WHERE id = 7');
    expect(sample).toEqual({ full_name: 'Ken Lovelace 7', address: '7 Main Street\nTurin\n10007', status_code: 2, created: '2021-01-03 10:31:00' });
  });

  it('creates the app database with the new schema, empty', async () => {
    const tables = await query('app', "SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY 1");
    expect(tables.map((row) => row.table_name)).toEqual(['customer', 'customer_address', 'customer_points', 'orders']);
    expect(await query('app', 'SELECT count(*)::int AS n FROM app.customer')).toEqual([{ n: 0 }]);
    const [foreignKey] = await query('app', "SELECT confrelid::regclass::text AS parent FROM pg_constraint WHERE conrelid = 'app.orders'::regclass AND contype = 'f'");
    expect(foreignKey).toEqual({ parent: 'app.customer' });
  });
});
