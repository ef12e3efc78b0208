import type pg from 'pg';
import { TandemError } from '../../errors.js';
import { quoteIdent } from '../identifiers.js';

/** One versioned change to a bookkeeping schema. Versions only grow; a shipped one is never edited. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * One component's tables in a bookkeeping schema, with their migrations, oldest first. Components
 * share a schema but are versioned apart, so each evolves on its own.
 */
export interface Bookkeeping {
  /** `_tandem` on the source (capture), `tandem` on the target (translate, reconcile, rollout). */
  schema: string;
  component: string;
  migrations: readonly Migration[];
}

/**
 * Brings a component's tables up to their newest version: each missing migration runs in its own
 * transaction with its row in `<schema>.schema_version`, under an advisory lock so that workers
 * starting together apply each migration once. Safe to call at every start.
 */
export async function migrate(client: pg.ClientBase, bookkeeping: Bookkeeping): Promise<{ applied: number[] }> {
  checkOrder(bookkeeping);
  const schema = quoteIdent(bookkeeping.schema);
  const versionTable = `${schema}.schema_version`;
  const name = `${bookkeeping.schema} (${bookkeeping.component})`;
  const lockKey = `tandem bookkeeping ${bookkeeping.schema}`;
  const applied: number[] = [];
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${versionTable} (
        component text NOT NULL,
        version integer NOT NULL,
        description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (component, version)
      )`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${versionTable} WHERE component = $1`, [bookkeeping.component]);
    const done = new Set(rows.map((row) => row.version));
    const newest = bookkeeping.migrations.at(-1)?.version ?? 0;
    const unknown = [...done].filter((version) => version > newest);
    if (unknown.length > 0) {
      throw new TandemError(`bookkeeping schema ${name} is at version ${Math.max(...unknown)}, newer than this tandem knows (${newest})`, {
        fix: 'run the newer tandem version that migrated it, or restore the schema from before the upgrade',
      });
    }
    for (const migration of bookkeeping.migrations) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${versionTable} (component, version, description) VALUES ($1, $2, $3)`, [bookkeeping.component, migration.version, migration.description]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new TandemError(`bookkeeping schema ${name}: migration ${migration.version} (${migration.description}) failed: ${(error as Error).message}`, {
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
    if (migration.version !== index + 1) throw new Error(`${bookkeeping.schema} (${bookkeeping.component}) migration ${migration.description}: version ${migration.version} should be ${index + 1}`);
  });
}
