import type pg from 'pg';
import { TandemError } from '../../errors.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';

/** One versioned change to a bookkeeping schema. Versions only grow; a shipped one is never edited. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** A bookkeeping schema with its migrations, oldest first. */
export interface Bookkeeping {
  /** `_tandem` on the source (capture), `tandem` on the target (translate, reconcile, rollout). */
  schema: string;
  migrations: readonly Migration[];
}

/**
 * Brings the schema up to its newest version: each missing migration runs in its own transaction
 * with its row in `<schema>.schema_version`, under an advisory lock so that workers starting
 * together apply each migration once. Safe to call at every start.
 */
export async function migrate(client: pg.ClientBase, bookkeeping: Bookkeeping): Promise<{ applied: number[] }> {
  checkOrder(bookkeeping);
  const schema = quoteIdent(bookkeeping.schema);
  const versionTable = `${schema}.schema_version`;
  const lockKey = `tandem bookkeeping ${bookkeeping.schema}`;
  const applied: number[] = [];
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${versionTable} (
        version integer PRIMARY KEY,
        description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${versionTable}`);
    const done = new Set(rows.map((row) => row.version));
    const newest = bookkeeping.migrations.at(-1)?.version ?? 0;
    const unknown = [...done].filter((version) => version > newest);
    if (unknown.length > 0) {
      throw new TandemError(`bookkeeping schema ${bookkeeping.schema} is at version ${Math.max(...unknown)}, newer than this tandem knows (${newest})`, {
        fix: 'run the newer tandem version that migrated it, or restore the schema from before the upgrade',
      });
    }
    for (const migration of bookkeeping.migrations) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${versionTable} (version, description) VALUES (${migration.version}, ${quoteLiteral(migration.description)})`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new TandemError(`bookkeeping schema ${bookkeeping.schema}: migration ${migration.version} (${migration.description}) failed: ${(error as Error).message}`, {
          fix: `check that the connecting user may create objects in schema ${bookkeeping.schema} (GRANT CREATE ON DATABASE … or create the schema for it)`,
          cause: error,
        });
      }
      applied.push(migration.version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
  }
  return { applied };
}

function checkOrder(bookkeeping: Bookkeeping): void {
  bookkeeping.migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`${bookkeeping.schema} migration ${migration.description}: version ${migration.version} should be ${index + 1}`);
  });
}
