import { formatLsn, type Lsn } from '../pg/lsn.js';

/** When Kafka was last seen keeping up: the durable LSN moved, or nothing was waiting for it. */
export interface AckClock {
  durableLsn: Lsn;
  at: number;
}

export function observeAcks(clock: AckClock, durableLsn: Lsn, inFlightTransactions: number, now: number): AckClock {
  return durableLsn !== clock.durableLsn || inFlightTransactions === 0 ? { durableLsn, at: now } : clock;
}

export interface CaptureHealth {
  healthy: boolean;
  /** Since the last WAL message (heartbeats included). */
  idleMs: number;
  /** Since Kafka was last seen keeping up (AckClock). */
  unacknowledgedMs: number;
  inFlightTransactions: number;
  durableLsn: string;
}

/** Unhealthy when no WAL message arrived for `stallAfterMs`, or Kafka has left transactions unacknowledged that long. */
export function assessHealth(input: { now: number; lastMessageAt: number; acks: AckClock; inFlightTransactions: number; stallAfterMs: number }): CaptureHealth {
  const idleMs = input.now - input.lastMessageAt;
  const unacknowledgedMs = input.now - input.acks.at;
  return {
    healthy: idleMs < input.stallAfterMs && unacknowledgedMs < input.stallAfterMs,
    idleMs,
    unacknowledgedMs,
    inFlightTransactions: input.inFlightTransactions,
    durableLsn: formatLsn(input.acks.durableLsn),
  };
}

/**
 * tandem_capture_slot_lag_seconds: while transactions read from the WAL wait for Kafka, the age of
 * the newest one read to its commit (by its commit time); 0 when none waits.
 */
export function slotLagSeconds(now: number, newestCommitTimeMs: number, inFlightTransactions: number): number {
  return inFlightTransactions > 0 ? Math.max(0, (now - newestCommitTimeMs) / 1000) : 0;
}
