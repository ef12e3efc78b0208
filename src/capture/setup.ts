import pg from 'pg';
import type { Connector } from '../config/index.js';
import { checkSource } from '../doctor/checks.js';
import { TandemError } from '../errors.js';
import { connectClient, SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import { quoteIdent } from '../pg/identifiers.js';
import { parseLsn, type Lsn } from '../pg/lsn.js';

/**
 * Refuses to start, naming the object and the fix, when a prerequisite of logical replication is
 * missing. The publication is left to ensurePublication (publication.ts), which can create or fix it.
 */
export async function preflight(connector: Connector): Promise<void> {
  const failed = (await checkSource(connector)).filter((result) => result.status === 'fail' && !result.check.startsWith('publication '));
  if (failed.length === 0) return;
  const first = failed[0]!;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more: ${failed.slice(1).map((result) => result.check).join(', ')}; run tandem doctor)` : '';
  throw new TandemError(`capture cannot start: ${first.detail}${more}`, { fix: first.fix });
}

export interface SlotInfo {
  exists: boolean;
  confirmedFlushLsn: Lsn | null;
}

export async function readSlot(client: pg.Client, slot: string): Promise<SlotInfo> {
  const { rows } = await client.query<{ plugin: string; database: string; confirmed_flush_lsn: string | null; current: string }>(
    'SELECT plugin, database, confirmed_flush_lsn::text, current_database() AS current FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  if (rows.length === 0) return { exists: false, confirmedFlushLsn: null };
  const row = rows[0]!;
  if (row.plugin !== 'pgoutput') {
    throw new TandemError(`replication slot ${slot} uses ${row.plugin ?? 'physical replication'}, not pgoutput`, { fix: `choose another source.slot, or drop it: SELECT pg_drop_replication_slot('${slot}')` });
  }
  if (row.database !== row.current) {
    throw new TandemError(`replication slot ${slot} belongs to database ${row.database}, not ${row.current}`, { fix: 'choose another source.slot for this connector' });
  }
  return { exists: true, confirmedFlushLsn: row.confirmed_flush_lsn ? parseLsn(row.confirmed_flush_lsn) : null };
}

export interface ExportedSlot {
  consistentPoint: Lsn;
  snapshotName: string;
  /** Keeps the exported snapshot alive; close it once the snapshot transaction has imported it. */
  release(): Promise<void>;
}

/**
 * Creates the slot on a replication connection and exports the snapshot that matches its consistent
 * point, so the initial snapshot and the stream meet exactly: no gap, no overlap.
 */
export async function createSlotWithSnapshot(connector: Connector): Promise<ExportedSlot> {
  const replication = new pg.Client({ connectionString: connector.source.url, replication: 'database', options: SOURCE_SESSION_OPTIONS } as pg.ClientConfig);
  await replication.connect();
  try {
    const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(connector.source.slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
    );
    const row = rows[0]!;
    return { consistentPoint: parseLsn(row.consistent_point), snapshotName: row.snapshot_name, release: () => replication.end() };
  } catch (error) {
    await replication.end().catch(() => undefined);
    throw new TandemError(`could not create replication slot ${connector.source.slot}: ${(error as Error).message}`, {
      fix: 'run tandem doctor: it checks free slots, max_wal_senders and the replication privilege',
      cause: error,
    });
  }
}

/** Drops the slot: WAL is no longer retained for it and the stream position is gone for good. */
export async function dropSlot(connector: Connector): Promise<boolean> {
  const client = await connectClient(connector.source.url, 'source');
  try {
    const { rows } = await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [connector.source.slot]);
    return rows.length > 0;
  } catch (error) {
    if ((error as { code?: string }).code === '55006') {
      throw new TandemError(`replication slot ${connector.source.slot} is in use by a running capture`, { fix: 'stop the capture worker first' });
    }
    throw error;
  } finally {
    await client.end();
  }
}
