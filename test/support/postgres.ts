import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL on the test database with a short-lived client. */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
}

/** A fresh database on the run's embedded PostgreSQL, so test files never see each other's tables. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = serverUrl.replace(/\/postgres$/, `/${name}`);
  return {
    name,
    url,
    async sql(text, values) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(text, values as unknown[])).rows;
      } finally {
        await client.end();
      }
    },
  };
}
