/**
 * The PostgreSQL side of the bisection: a pool of connections that all read one REPEATABLE READ
 * snapshot (imported from a coordinator), and the segment queries of `mapping/reconcile-sql.ts`
 * run through it. Read-only transactions that take only ACCESS SHARE locks, with a lock_timeout so
 * that a waiting DDL statement is never queued behind, and a statement_timeout per query.
 */
import pg from 'pg';
import { TandemError } from '../errors.js';
import { boundariesQuery, checksumQuery, hashesQuery, rowsByKeyQuery, rowsQuery, type KeyOrdering, type ReconcileTargetSql, type SqlQuery } from '../mapping/reconcile-sql.js';
import { connectClient, describeUrl, SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import type { KeyHash, ReconcileSide, SegmentSummary } from './bisect.js';
import type { CanonicalRow } from './row-diff.js';
import type { Key, Segment } from './segment.js';

export interface SessionLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

/** Fixed output settings (the canonical text) and the run's limits, for every reconcile session. */
export function sessionOptions(limits: SessionLimits): string {
  return `${SOURCE_SESSION_OPTIONS} -c statement_timeout=${limits.statementTimeoutMs} -c lock_timeout=${limits.lockTimeoutMs} -c idle_in_transaction_session_timeout=0`;
}

/** Connections of one database reading one snapshot. */
export class SnapshotPool {
  private readonly idle: pg.Client[] = [];
  private readonly waiting: ((client: pg.Client) => void)[] = [];

  private constructor(
    readonly role: 'source' | 'target',
    readonly url: string,
    private readonly clients: pg.Client[],
    readonly snapshot: string,
  ) {
    this.idle.push(...clients);
  }

  /**
   * `size` connections in REPEATABLE READ READ ONLY transactions on the snapshot `snapshot`
   * (exported by a transaction that stays open until they have imported it).
   */
  static async open(role: 'source' | 'target', url: string, snapshot: string, size: number, limits: SessionLimits): Promise<SnapshotPool> {
    const clients: pg.Client[] = [];
    try {
      for (let index = 0; index < size; index += 1) {
        const client = await connectClient(url, role, { options: sessionOptions(limits), application_name: 'tandem reconcile' });
        clients.push(client);
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await client.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
      }
    } catch (error) {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      throw error instanceof TandemError ? error : new TandemError(`reconcile could not open the ${role} snapshot on ${describeUrl(url)}: ${(error as Error).message}`, { fix: 'check that the database accepts enough connections (reconcile.parallelism per side, plus one)', cause: error });
    }
    return new SnapshotPool(role, url, clients, snapshot);
  }

  async query<T extends pg.QueryResultRow>(query: SqlQuery, rowMode?: 'array'): Promise<T[]> {
    return this.withClient(async (client) => {
      try {
        const config: pg.QueryConfig = { text: query.text, values: query.values as string[] };
        const result = rowMode ? await client.query({ ...config, rowMode }) : await client.query(config);
        return result.rows as T[];
      } catch (error) {
        throw queryError(error, this.role, this.url, query.text);
      }
    });
  }

  /** One connection of the pool (inside the snapshot) for the duration of `work`. */
  async withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = this.idle.pop() ?? (await new Promise<pg.Client>((resolve) => this.waiting.push(resolve)));
    try {
      return await work(client);
    } finally {
      const next = this.waiting.shift();
      if (next) next(client);
      else this.idle.push(client);
    }
  }

  /** The pool as a js() column runner: isolated work runs in a savepoint of the snapshot transaction. */
  jsRunner(): JsRunner {
    return {
      rows: (query, raw) => this.withClient((client) => arrayRows(client, query, raw ?? false, this.role, this.url)),
      isolated: (setup, work) => this.withClient((client) => isolatedOn(client, true, setup, work, this.role, this.url)),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map(async (client) => {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end().catch(() => undefined);
      }),
    );
  }
}

export function queryError(error: unknown, role: string, url: string, sql: string): TandemError {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  const where = `${role} database ${describeUrl(url)}`;
  if (code === '57014') return new TandemError(`reconcile query on the ${where} hit statement_timeout: ${message}`, { fix: 'raise reconcile.statementTimeoutMs, or lower reconcile.chunkRows so each chunk query is shorter', cause: error });
  if (code === '55P03') return new TandemError(`reconcile could not get a read lock on the ${where} within lock_timeout (a DDL statement holds or waits for the table): ${message}`, { fix: 'run reconcile again after the schema change, or raise reconcile.lockTimeoutMs', cause: error });
  return new TandemError(`reconcile query failed on the ${where}: ${message} (query: ${sql.length > 300 ? `${sql.slice(0, 300)}…` : sql})`, { fix: 'check the mapping expressions with `tandem doctor`, and the server log', cause: error });
}

/** The expected (legacy as mapped) or actual (target) rows of one target table. */
export class PgSide implements ReconcileSide {
  constructor(
    private readonly pool: SnapshotPool,
    private readonly target: ReconcileTargetSql,
    private readonly projection: string,
    private readonly ordering: KeyOrdering,
  ) {}

  async countAndChecksum(segment: Segment): Promise<SegmentSummary> {
    const [row] = await this.pool.query<{ n: string; h: string }>(checksumQuery(this.projection, this.target, this.ordering, segment.lower, segment.upper));
    return { count: Number(row!.n), checksum: row!.h };
  }

  async fetchRows(segment: Segment): Promise<CanonicalRow[]> {
    return toRows(await this.pool.query<(string | null)[]>(rowsQuery(this.projection, this.target.key, this.target.columns, this.ordering, segment.lower, segment.upper), 'array'), this.target.key.length);
  }

  async fetchHashes(segment: Segment): Promise<KeyHash[]> {
    const keyLength = this.target.key.length;
    const rows = await this.pool.query<string[]>(hashesQuery(this.projection, this.target, this.ordering, segment.lower, segment.upper), 'array');
    return rows.map((row) => ({ key: row.slice(0, keyLength), hash: row[keyLength]! }));
  }

  async boundaries(segment: Segment, parts: number, rows: number): Promise<Key[]> {
    if (rows < 2) return [];
    return this.pool.query<string[]>(boundariesQuery(this.projection, this.target.key, this.ordering, segment.lower, segment.upper, parts, rows), 'array');
  }

  /** Whole-table boundaries every `chunkRows` rows, by one ordered pass. */
  async chunkBoundaries(chunkRows: number): Promise<Key[]> {
    return this.pool.query<string[]>(boundariesQuery(this.projection, this.target.key, this.ordering, null, null, 1, chunkRows), 'array');
  }

  async rowsByKey(keys: readonly Key[]): Promise<CanonicalRow[]> {
    if (keys.length === 0) return [];
    return toRows(await this.pool.query<(string | null)[]>(rowsByKeyQuery(this.projection, this.target.key, this.target.columns, keys), 'array'), this.target.key.length);
  }
}

/** Values as PostgreSQL's text output: no type parsing at all (a cast to text is not always the output function: char(n)). */
const RAW_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export type RowsReader = (query: SqlQuery, raw?: boolean) => Promise<(string | null)[][]>;

/** What js() column comparison needs of a database: rows, and work on one connection whose setting changes and errors are undone afterwards. */
export interface JsRunner {
  rows: RowsReader;
  /** `setup` (plain statements without parameters, e.g. set_config(..., true)) then `work`, on one connection, all undone afterwards. */
  isolated<T>(setup: string, work: (rows: RowsReader) => Promise<T>): Promise<T>;
}

export async function arrayRows(client: pg.Client, query: SqlQuery, raw: boolean, role: string, url: string): Promise<(string | null)[][]> {
  try {
    const result = await client.query({ text: query.text, values: query.values as string[], rowMode: 'array', ...(raw ? { types: RAW_TYPES } : {}) });
    return result.rows as (string | null)[][];
  } catch (error) {
    throw queryError(error, role, url, query.text);
  }
}

/**
 * Inside a transaction: a savepoint rolled back afterwards (settings made with set_config(…, true)
 * and an error both undone, the snapshot kept). Outside one: a transaction rolled back afterwards.
 */
export async function isolatedOn<T>(client: pg.Client, inTransaction: boolean, setup: string, work: (rows: RowsReader) => Promise<T>, role: string, url: string): Promise<T> {
  const begin = inTransaction ? 'SAVEPOINT tandem_js' : 'BEGIN READ ONLY';
  const end = inTransaction ? 'ROLLBACK TO SAVEPOINT tandem_js; RELEASE SAVEPOINT tandem_js' : 'ROLLBACK';
  try {
    await client.query(`${begin}; ${setup}`);
  } catch (error) {
    throw queryError(error, role, url, setup);
  }
  try {
    return await work((query, raw) => arrayRows(client, query, raw ?? false, role, url));
  } finally {
    await client.query(end);
  }
}

/** A plain connection (not in a transaction) as a js() column runner. */
export function clientJsRunner(client: pg.Client, role: string, url: string): JsRunner {
  return {
    rows: (query, raw) => arrayRows(client, query, raw ?? false, role, url),
    isolated: (setup, work) => isolatedOn(client, false, setup, work, role, url),
  };
}

function toRows(rows: readonly (string | null)[][], keyLength: number): CanonicalRow[] {
  return rows.map((row) => ({ key: row.slice(0, keyLength) as string[], values: row.slice(keyLength) }));
}
