/**
 * Rollout state, audit log and service traffic in the target's `tandem` schema. A change commits
 * the new state, its audit row and a NOTIFY in one transaction, and only if the state is still the
 * version the change was computed from: of two promoters at once exactly one wins, the other gets a
 * StaleRolloutState naming who changed it.
 */
import type pg from 'pg';
import { TandemError } from '../errors.js';
import type { Evidence, TriggerResult } from './criteria.js';
import type { Actor, Approval, RolloutState } from './state.js';
import type { TransitionRecord } from './transitions/transition.js';

export const ROLLOUT_CHANNEL = 'tandem_rollout';

interface StateRow {
  migration: string;
  group_id: string;
  phase: string;
  entered_at: Date;
  read_new: number;
  read_new_services: string[];
  write_to: 'legacy' | 'new';
  reverse_sync: boolean;
  approvals: Approval[];
  version: string;
}

const STATE_COLUMNS = 'migration, group_id, phase, entered_at, read_new, read_new_services, write_to, reverse_sync, approvals, version';

export function stateFromRow(row: StateRow): RolloutState {
  return {
    migration: row.migration,
    groupId: row.group_id,
    phase: row.phase,
    enteredAt: row.entered_at.toISOString(),
    gates: { readNew: row.read_new, readNewServices: row.read_new_services, write: row.write_to, reverseSync: row.reverse_sync },
    approvals: row.approvals,
    version: Number(row.version),
  };
}

export async function loadState(client: pg.ClientBase, migration: string): Promise<RolloutState | null> {
  const { rows } = await client.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM tandem.rollout_state WHERE migration = $1`, [migration]);
  return rows[0] ? stateFromRow(rows[0]) : null;
}

/** The migration's state, created in its first phase if it has none yet. */
export async function ensureState(client: pg.ClientBase, initial: RolloutState): Promise<RolloutState> {
  await client.query(
    `INSERT INTO tandem.rollout_state (${STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (migration) DO NOTHING`,
    [initial.migration, initial.groupId, initial.phase, initial.enteredAt, initial.gates.readNew, initial.gates.readNewServices, initial.gates.write, initial.gates.reverseSync, JSON.stringify(initial.approvals), initial.version],
  );
  return (await loadState(client, initial.migration))!;
}

/** What the audit log keeps of the evidence: criteria values, reconcile run ids, lag and positions, traffic. */
export function auditEvidence(record: TransitionRecord, evidence: Evidence, extra: Record<string, unknown> = {}) {
  const runIds = new Set<string>();
  for (const item of [...record.criteria, ...record.triggers] as { runIds?: readonly string[] }[]) for (const id of item.runIds ?? []) runIds.add(id);
  return {
    at: evidence.at,
    criteria: record.criteria,
    triggers: record.triggers,
    reconcileRunIds: [...runIds],
    latestReconcileRuns: evidence.reconcileRuns.slice(0, 5).map((run) => ({ id: run.id, status: run.status, direction: run.direction, driftRows: run.driftRows })),
    lagSeconds: evidence.lag.seconds,
    sourceLsn: evidence.lag.sourceLsn,
    appliedPosition: evidence.lag.appliedPosition,
    traffic: evidence.traffic,
    reverseSync: record.reverseSync,
    ...extra,
  };
}

export class StaleRolloutState extends TandemError {
  constructor(migration: string, expected: number, current: RolloutState, by: string | null) {
    super(`rollout of migration ${migration} changed while this change was being made: it is now in ${current.phase} (version ${current.version}, expected ${expected})${by ? `, changed by ${by}` : ''}`, {
      fix: 'run tandem rollout status to see the new state, then decide again',
    });
    this.name = 'StaleRolloutState';
  }
}

export interface Commit {
  readonly expectedVersion: number;
  readonly state: RolloutState;
  readonly record: TransitionRecord;
  readonly actor: Actor;
  /** Stored as the audit row's action (a record's action, or `undo`). */
  readonly action?: string;
  readonly evidence: Record<string, unknown>;
}

export interface CommittedChange {
  readonly state: RolloutState;
  readonly auditId: string;
}

/** Writes a change if the state is still at expectedVersion; state, audit row and NOTIFY in one transaction. */
export async function commitChange(client: pg.ClientBase, change: Commit): Promise<CommittedChange> {
  const { state, record, actor } = change;
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM tandem.rollout_state WHERE migration = $1 FOR UPDATE`, [state.migration]);
    const current = rows[0] ? stateFromRow(rows[0]) : null;
    if (!current) throw new TandemError(`migration ${state.migration} has no rollout state`, { fix: 'run tandem rollout status once to create it' });
    if (current.version !== change.expectedVersion) {
      const { rows: last } = await client.query<{ actor: string; action: string }>('SELECT actor, action FROM tandem.rollout_audit WHERE migration = $1 ORDER BY id DESC LIMIT 1', [state.migration]);
      throw new StaleRolloutState(state.migration, change.expectedVersion, current, last[0] ? `${last[0].actor} (${last[0].action})` : null);
    }
    await client.query(
      `UPDATE tandem.rollout_state SET phase = $2, entered_at = $3, read_new = $4, read_new_services = $5, write_to = $6, reverse_sync = $7, approvals = $8, version = $9, updated_at = now() WHERE migration = $1`,
      [state.migration, state.phase, state.enteredAt, state.gates.readNew, state.gates.readNewServices, state.gates.write, state.gates.reverseSync, JSON.stringify(state.approvals), state.version],
    );
    const { rows: audit } = await client.query<{ id: string }>(
      `INSERT INTO tandem.rollout_audit (migration, action, from_phase, to_phase, actor_kind, actor, os_user, reason, forced, state_version, evidence)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [state.migration, change.action ?? record.action, record.from, record.to, actor.kind, actor.name, actor.osUser, record.reason, record.forced, state.version, JSON.stringify(change.evidence)],
    );
    await client.query('SELECT pg_notify($1, $2)', [ROLLOUT_CHANNEL, JSON.stringify(notification(state))]);
    await client.query('COMMIT');
    return { state, auditId: audit[0]!.id };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The NOTIFY payload: everything a service needs to decide, so clients need no round trip. */
export function notification(state: RolloutState) {
  return { migration: state.migration, version: state.version, phase: state.phase, groupId: state.groupId, readNew: state.gates.readNew, readNewServices: state.gates.readNewServices, write: state.gates.write, reverseSync: state.gates.reverseSync };
}

export interface AuditEntry {
  id: string;
  migration: string;
  at: string;
  action: string;
  from: string;
  to: string;
  actorKind: Actor['kind'];
  actor: string;
  osUser: string | null;
  reason: string | null;
  forced: boolean;
  stateVersion: number;
  evidence: Record<string, unknown> & { triggers?: TriggerResult[] };
}

export async function readHistory(client: pg.ClientBase, migration: string, limit = 100): Promise<AuditEntry[]> {
  const { rows } = await client.query(
    `SELECT id, migration, at, action, from_phase, to_phase, actor_kind, actor, os_user, reason, forced, state_version, evidence
       FROM tandem.rollout_audit WHERE migration = $1 ORDER BY id DESC LIMIT $2`,
    [migration, limit],
  );
  return rows.map((row) => ({
    id: String(row.id),
    migration: row.migration,
    at: (row.at as Date).toISOString(),
    action: row.action,
    from: row.from_phase,
    to: row.to_phase,
    actorKind: row.actor_kind,
    actor: row.actor,
    osUser: row.os_user,
    reason: row.reason,
    forced: row.forced,
    stateVersion: Number(row.state_version),
    evidence: row.evidence,
  }));
}

export interface TrafficCount {
  readonly side: 'legacy' | 'new';
  /** `decision`, or the kind given to reportError. */
  readonly kind: string;
  readonly count: number;
}

/** Adds a client's counts to the minute they were made in. */
export async function recordTraffic(client: pg.ClientBase, migration: string, clientId: string, minute: Date, counts: readonly TrafficCount[]): Promise<void> {
  if (counts.length === 0) return;
  await client.query(
    `INSERT INTO tandem.rollout_traffic (migration, minute, client, side, kind, count)
       SELECT $1, $2, $3, side, kind, count FROM unnest($4::text[], $5::text[], $6::bigint[]) AS t(side, kind, count)
     ON CONFLICT (migration, minute, client, side, kind) DO UPDATE SET count = rollout_traffic.count + EXCLUDED.count`,
    [migration, minute, clientId, counts.map((count) => count.side), counts.map((count) => count.kind), counts.map((count) => count.count)],
  );
}
