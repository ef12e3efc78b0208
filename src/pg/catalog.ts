import type pg from 'pg';
import { splitQualified } from './identifiers.js';

export interface ReplicaIdentityInfo {
  exists: boolean;
  hasPrimaryKey: boolean;
  /** d = default (primary key), f = full, i = index, n = nothing */
  replicaIdentity: 'd' | 'f' | 'i' | 'n' | null;
}

/** Whether a table exists and how its rows are identified in the WAL. */
export async function readReplicaIdentity(client: pg.Client, qualifiedTable: string): Promise<ReplicaIdentityInfo> {
  const { schema, table } = splitQualified(qualifiedTable);
  const { rows } = await client.query<{ relreplident: ReplicaIdentityInfo['replicaIdentity']; has_pk: boolean }>(
    `SELECT c.relreplident,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, table],
  );
  if (rows.length === 0) return { exists: false, hasPrimaryKey: false, replicaIdentity: null };
  return { exists: true, hasPrimaryKey: rows[0]!.has_pk, replicaIdentity: rows[0]!.relreplident };
}

/** A table is capturable when updates and deletes carry a key: a primary key, or REPLICA IDENTITY FULL / USING INDEX. */
export function isCapturable(info: ReplicaIdentityInfo): boolean {
  if (!info.exists) return false;
  if (info.replicaIdentity === 'f' || info.replicaIdentity === 'i') return true;
  return info.replicaIdentity === 'd' && info.hasPrimaryKey;
}

export async function tableExists(client: pg.ClientBase, qualifiedTable: string): Promise<boolean> {
  const { schema, table } = splitQualified(qualifiedTable);
  const { rows } = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schema, table],
  );
  return rows.length > 0;
}

/** The tables a publication publishes, as `schema.table`. */
export async function publicationTables(client: pg.Client, publication: string): Promise<string[] | null> {
  const exists = await client.query('SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication]);
  if (exists.rows.length === 0) return null;
  const { rows } = await client.query<{ name: string }>(
    `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1`,
    [publication],
  );
  return rows.map((row) => row.name);
}
