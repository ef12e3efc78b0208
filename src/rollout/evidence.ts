/**
 * The one adapter between the rollout's pure criteria and the tables other components write:
 * reconcile's recorded runs (`tandem.reconcile_run`), translate's applied positions
 * (`tandem.translate_offsets`), the source's WAL position and replication slot, and the traffic
 * services report (`tandem.rollout_traffic`). A table that does not exist yet reads as no evidence.
 */
import type pg from 'pg';
import type { Evidence, LagEvidence, ReconcileRun, TrafficEvidence } from './criteria.js';

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

/** `0/16B3F48` from a 64-bit LSN. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * Lag from translate's bookkeeping: the applied position is the lowest `applied_lsn` of the
 * consumer group's partitions. Translate is caught up when its newest applied position reaches the
 * position capture had Kafka acknowledge (the slot's confirmed_flush_lsn); then the lag is 0.
 * Otherwise it is the time since translate last committed a batch: translate records no commit
 * time of the applied change, so this bounds the lag from below while it makes progress and grows
 * while it is stuck.
 */
export class TranslateLagProbe implements LagProbe {
  constructor(
    private readonly target: pg.ClientBase,
    private readonly source: pg.ClientBase | null,
    private readonly groupId: string,
    private readonly slot: string,
  ) {}

  async read(now: Date): Promise<LagEvidence> {
    const applied = await ignoringMissingTable(async () => {
      const { rows } = await this.target.query<{ low: string | null; high: string | null; updated: Date | null }>(
        'SELECT min(applied_lsn)::text AS low, max(applied_lsn)::text AS high, max(updated_at) AS updated FROM tandem.translate_offsets WHERE group_id = $1',
        [this.groupId],
      );
      return rows[0]!.low === null ? null : { low: BigInt(rows[0]!.low), high: BigInt(rows[0]!.high!), updated: rows[0]!.updated! };
    }, null);
    let sourceLsn: string | null = null;
    let confirmed: bigint | null = null;
    if (this.source) {
      const { rows } = await this.source.query<{ current: string; confirmed: string | null }>(
        `SELECT pg_current_wal_lsn()::text AS current, (SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text FROM pg_replication_slots WHERE slot_name = $1) AS confirmed`,
        [this.slot],
      );
      sourceLsn = rows[0]!.current;
      confirmed = rows[0]!.confirmed === null ? null : BigInt(rows[0]!.confirmed);
    }
    if (!applied) return { seconds: null, appliedPosition: null, sourceLsn };
    const appliedPosition = formatLsn(applied.low);
    if (confirmed === null) return { seconds: null, appliedPosition, sourceLsn };
    const seconds = applied.high >= confirmed ? 0 : Math.max(0, (now.getTime() - applied.updated.getTime()) / 1000);
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
