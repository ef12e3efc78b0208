import type pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { startPeriodicTask } from '../periodic-task.js';

const HEARTBEAT_PREFIX = 'tandem.heartbeat';

/**
 * Heartbeats through the WAL: a logical message every interval moves the slot forward while the
 * captured tables are idle, so the server does not retain WAL for it, and keeps /health honest.
 * Each beat also measures the slot's lag in bytes (current WAL position - confirmed_flush_lsn).
 */
export function startHeartbeat(options: { control: pg.Client; slot: string; intervalMs: number; logger: Logger; onBeat: (slotLagBytes: number | null) => void }): { stop(): void } {
  const { control, slot, logger } = options;
  // One beat at a time: on a slow server, beats would otherwise queue up on the shared connection.
  return startPeriodicTask(options.intervalMs, () =>
    control
      .query(`SELECT pg_logical_emit_message(true, '${HEARTBEAT_PREFIX}', now()::text)`)
      .then(() => control.query<{ lag: string }>('SELECT pg_current_wal_lsn() - confirmed_flush_lsn AS lag FROM pg_replication_slots WHERE slot_name = $1', [slot]))
      .then(({ rows }) => options.onBeat(rows[0] ? Number(rows[0].lag) : null))
      .catch((error: unknown) => logger.warn({ err: error }, 'heartbeat failed')),
  );
}
