/**
 * The one adapter between the rollout's pure criteria and the tables other components write:
 * reconcile's recorded runs (`tandem.reconcile_run`), translate's applied positions
 * (`tandem.translate_offsets`), the source's WAL position and replication slot, and the traffic
 * services report (`tandem.rollout_traffic`). A table that does not exist yet reads as no evidence.
 */
import type pg from 'pg';
import type { Evidence, LagEvidence, ReconcileRun, TrafficEvidence } from './criteria.js';
import { formatLsn } from '../pg/lsn.js';
import type { EndOffsets, PartitionEnd } from '../reconcile/cut.js';

const UNDEFINED_TABLE = '42P01';

/** Gathers the evidence for one evaluation. */
export interface EvidenceSource {
  gather(now: Date): Promise<Evidence>;
}

/** End-to-end lag, behind an interface: translate's table today, anything that knows it tomorrow. */
export interface LagProbe {
  read(now: Date): Promise<LagEvidence>;
}

export const UNKNOWN_LAG: LagEvidence = Object.freeze({ seconds: null, appliedPosition: null, sourceLsn: null });

async function ignoringMissingTable<T>(query: () => Promise<T>, empty: T): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return empty;
    throw error;
  }
}

/** Reconcile's finished runs of a connector, newest first. */
export async function readReconcileRuns(client: pg.ClientBase, connector: string, limit = 50): Promise<ReconcileRun[]> {
  return ignoringMissingTable(async () => {
    const { rows } = await client.query(
      `SELECT id, started_at, finished_at, status, direction, drift_rows FROM tandem.reconcile_run
        WHERE connector = $1 AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT $2`,
      [connector, limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      startedAt: (row.started_at as Date).toISOString(),
      finishedAt: row.finished_at ? (row.finished_at as Date).toISOString() : null,
      status: row.status,
      direction: row.direction,
      driftRows: Number(row.drift_rows ?? 0),
    }));
  }, []);
}

/** Decisions and errors on new that services reported within the window (whole minutes). */
export async function readTraffic(client: pg.ClientBase, migration: string, now: Date, windowMs: number): Promise<TrafficEvidence> {
  const since = new Date(Math.floor((now.getTime() - windowMs) / 60_000) * 60_000);
  const { rows } = await client.query<{ decisions: string; errors: string }>(
    `SELECT coalesce(sum(count) FILTER (WHERE kind = 'decision'), 0) AS decisions, coalesce(sum(count) FILTER (WHERE kind <> 'decision'), 0) AS errors
       FROM tandem.rollout_traffic WHERE migration = $1 AND side = 'new' AND minute >= $2`,
    [migration, since],
  );
  return { windowMs, decisionsNew: Number(rows[0]!.decisions), errorsNew: Number(rows[0]!.errors) };
}

/**
 * Lag from translate's bookkeeping and Kafka. The applied position is the lowest `applied_lsn` of
 * the consumer group's partitions. Translate is caught up when every partition of the connector's
 * topics has applied up to Kafka's end offset: then the lag is 0 (capture heartbeats move the slot
 * but publish nothing, so an idle pipeline stays at 0). A partition behind its end offset counts the
 * time since translate last committed a batch on it: translate records no commit time of the change
 * it applied, so this is a lower bound while it makes progress and grows while it is stuck. Unknown
 * (null) when Kafka cannot be asked, translate has recorded nothing, or capture's slot is inactive.
 */
export class TranslateLagProbe implements LagProbe {
  constructor(
    private readonly target: pg.ClientBase,
    private readonly source: pg.ClientBase | null,
    private readonly options: { groupId: string; slot: string; topics: readonly string[]; endOffsets: EndOffsets; logger?: { warn(object: object, message: string): void } },
  ) {}

  async read(now: Date): Promise<LagEvidence> {
    const rows = await ignoringMissingTable(async () => {
      const { rows } = await this.target.query<{ topic: string; partition: number; next_offset: string; applied_lsn: string; updated_at: Date }>(
        'SELECT topic, partition, next_offset::text, applied_lsn::text, updated_at FROM tandem.translate_offsets WHERE group_id = $1',
        [this.options.groupId],
      );
      return rows;
    }, []);
    let sourceLsn: string | null = null;
    let slotActive: boolean | null = null;
    if (this.source) {
      const { rows: source } = await this.source.query<{ current: string; active: boolean | null }>(
        'SELECT pg_current_wal_lsn()::text AS current, (SELECT active FROM pg_replication_slots WHERE slot_name = $1) AS active',
        [this.options.slot],
      );
      sourceLsn = source[0]!.current;
      slotActive = source[0]!.active;
    }
    if (rows.length === 0) return { seconds: null, appliedPosition: null, sourceLsn };
    const appliedPosition = formatLsn(rows.reduce((low, row) => (BigInt(row.applied_lsn) < low ? BigInt(row.applied_lsn) : low), BigInt(rows[0]!.applied_lsn)));
    if (slotActive === false) return { seconds: null, appliedPosition, sourceLsn };
    let ends: PartitionEnd[];
    try {
      ends = await this.options.endOffsets.read(this.options.topics);
    } catch (error) {
      this.options.logger?.warn({ err: error }, `lag unknown: Kafka end offsets could not be read: ${(error as Error).message}`);
      return { seconds: null, appliedPosition, sourceLsn };
    }
    const applied = new Map(rows.map((row) => [`${row.topic}/${row.partition}`, row]));
    let seconds = 0;
    for (const end of ends) {
      const row = applied.get(`${end.topic}/${end.partition}`);
      if (row && BigInt(row.next_offset) >= end.endOffset) continue;
      if (!row) return { seconds: null, appliedPosition, sourceLsn };
      seconds = Math.max(seconds, Math.max(0, (now.getTime() - row.updated_at.getTime()) / 1000));
    }
    return { seconds, appliedPosition, sourceLsn };
  }
}

export class PostgresEvidence implements EvidenceSource {
  constructor(
    private readonly target: pg.ClientBase,
    private readonly migration: string,
    private readonly lag: LagProbe,
    private readonly errorWindowMs: number,
  ) {}

  async gather(now: Date): Promise<Evidence> {
    const [reconcileRuns, lag, traffic] = [await readReconcileRuns(this.target, this.migration), await this.lag.read(now), await readTraffic(this.target, this.migration, now, this.errorWindowMs)];
    return { at: now.toISOString(), reconcileRuns, lag, traffic };
  }
}

/** Reconcile's newest finished run in full (its per-table report), for the console. */
export async function readLastReconcileReport(client: pg.ClientBase, connector: string): Promise<Record<string, unknown> | null> {
  return ignoringMissingTable(async () => {
    const { rows } = await client.query(`SELECT * FROM tandem.reconcile_run WHERE connector = $1 AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1`, [connector]);
    return rows[0] ?? null;
  }, null);
}

export interface TrendPoint {
  at: string;
  value: number;
}

/** Lag samples recorded by watch, and drift rows per reconcile run, oldest first. */
export async function readTrends(client: pg.ClientBase, migration: string, limit = 60): Promise<{ lag: TrendPoint[]; drift: TrendPoint[]; errorRate: TrendPoint[] }> {
  const { rows: samples } = await client.query<{ at: Date; lag_seconds: number | null; error_rate: number | null }>(
    'SELECT at, lag_seconds, error_rate FROM tandem.rollout_sample WHERE migration = $1 ORDER BY at DESC LIMIT $2',
    [migration, limit],
  );
  const runs = await ignoringMissingTable(async () => {
    const { rows } = await client.query<{ finished_at: Date; drift_rows: string | null }>(
      'SELECT finished_at, drift_rows FROM tandem.reconcile_run WHERE connector = $1 AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT $2',
      [migration, limit],
    );
    return rows;
  }, []);
  const ordered = samples.reverse();
  return {
    lag: ordered.filter((row) => row.lag_seconds !== null).map((row) => ({ at: row.at.toISOString(), value: Number(row.lag_seconds) })),
    errorRate: ordered.filter((row) => row.error_rate !== null).map((row) => ({ at: row.at.toISOString(), value: Number(row.error_rate) })),
    drift: runs.reverse().map((row) => ({ at: row.finished_at.toISOString(), value: Number(row.drift_rows ?? 0) })),
  };
}
