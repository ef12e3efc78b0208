/**
 * The snapshots a run reads. A coordinator transaction (REPEATABLE READ, read only) exports its
 * snapshot for the run's pool to import and stays open until they have; on the source it can be
 * taken exactly at a WAL position: a temporary logical slot's exported snapshot sees precisely the
 * transactions that committed before the slot's consistent point.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TandemError } from '../errors.js';
import { connectClient, describeUrl } from '../pg/connect.js';
import { sessionOptions, type SessionLimits } from './pg-side.js';

export interface HeldSnapshot {
  role: 'source' | 'target';
  /** Id for SET TRANSACTION SNAPSHOT. */
  snapshot: string;
  /** Source: the consistent point (exact) or pg_current_wal_lsn() at export (not exact). */
  lsn: string;
  /** True when the snapshot is exactly the state at `lsn`. */
  exact: boolean;
  /** The coordinator's connection, inside the snapshot (read-only queries). */
  client: pg.Client;
  close(): Promise<void>;
}

async function coordinator(url: string, role: 'source' | 'target', limits: SessionLimits): Promise<pg.Client> {
  const client = await connectClient(url, role, { options: sessionOptions(limits), application_name: 'tandem reconcile' });
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  return client;
}

function held(role: 'source' | 'target', client: pg.Client, snapshot: string, lsn: string, exact: boolean): HeldSnapshot {
  return {
    role,
    snapshot,
    lsn,
    exact,
    client,
    close: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** A snapshot of now; its LSN is where the WAL was when it was taken (an upper bound, not exact). */
export async function holdSnapshot(url: string, role: 'source' | 'target', limits: SessionLimits): Promise<HeldSnapshot> {
  const client = await coordinator(url, role, limits);
  try {
    const { rows } = await client.query<{ snapshot: string; lsn: string }>('SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS lsn');
    return held(role, client, rows[0]!.snapshot, rows[0]!.lsn, false);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/**
 * The source exactly at a WAL position: a temporary logical slot's snapshot, imported by the
 * coordinator and re-exported for the pool; the slot goes when its connection closes. Creating the
 * slot waits for the transactions in flight (in every database of the cluster) to end; that wait
 * blocks nobody, so it may last `slotWaitMs` rather than the short lock timeout of the reads.
 */
export async function holdSourceSnapshotAtLsn(url: string, limits: SessionLimits, slotWaitMs: number): Promise<HeldSnapshot> {
  const replication = new pg.Client({ connectionString: url, replication: 'database', options: sessionOptions({ ...limits, lockTimeoutMs: Math.max(limits.lockTimeoutMs, slotWaitMs) }), connectionTimeoutMillis: 10_000 } as pg.ClientConfig);
  const slot = `tandem_reconcile_${randomBytes(6).toString('hex')}`;
  try {
    await replication.connect();
    const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string }>(`CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')`);
    const client = await coordinator(url, 'source', limits);
    try {
      await client.query(`SET TRANSACTION SNAPSHOT '${rows[0]!.snapshot_name}'`);
      const exported = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
      return held('source', client, exported.rows[0]!.snapshot, rows[0]!.consistent_point, true);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  } catch (error) {
    throw new TandemError(`reconcile could not take a snapshot of the source database ${describeUrl(url)} at a known WAL position (temporary replication slot ${slot}): ${(error as Error).message}`, {
      fix: 'give the reconcile user the REPLICATION privilege and keep one replication slot and WAL sender free (max_replication_slots, max_wal_senders); without them reconcile settles and rechecks instead of an exact cut',
      cause: error,
    });
  } finally {
    await replication.end().catch(() => undefined);
  }
}
