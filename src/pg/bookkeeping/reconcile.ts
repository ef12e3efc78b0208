import type { Bookkeeping } from './migrate.js';
import { TARGET_SCHEMA } from './target.js';

/**
 * Reconcile's tables in the target's `tandem` schema.
 *
 * - `reconcile_run`: one row per run (start, end, status, cut, per-table counts, drift). Rollout's
 *   gates read "reconcile clean for the last N runs" from it, so its column names are a contract.
 * - `reconcile_alert`: the last drift state alerted per connector and direction, so alerts fire
 *   when drift appears, changes or is resolved, not on every run (and not again after a restart).
 * - `reconcile_repair`: every row a repair rewrote, with the run that did it.
 * - `reconcile_cut` / `reconcile_cut_hold`: the exact-cut barrier (see reconcile/cut.ts): the cut
 *   reconcile asks for, and the partitions translate holds at it.
 */
export const RECONCILE_BOOKKEEPING: Bookkeeping = {
  schema: TARGET_SCHEMA,
  component: 'reconcile',
  migrations: [
    {
      version: 1,
      description: 'reconcile runs, alert state and repairs',
      sql: `CREATE TABLE tandem.reconcile_run (
          id bigserial PRIMARY KEY,
          connector text NOT NULL,
          started_at timestamptz NOT NULL DEFAULT now(),
          finished_at timestamptz,
          status text NOT NULL CHECK (status IN ('running', 'clean', 'drift', 'error')),
          direction text NOT NULL CHECK (direction IN ('forward', 'reverse')),
          cut jsonb,
          rows_compared bigint,
          drift_rows bigint,
          in_flight_resolved bigint,
          repaired_rows bigint,
          tables jsonb,
          error text
        );
        CREATE INDEX reconcile_run_recent ON tandem.reconcile_run (connector, direction, id DESC);
        CREATE TABLE tandem.reconcile_alert (
          connector text NOT NULL,
          direction text NOT NULL,
          signature text NOT NULL,
          drift_rows bigint NOT NULL,
          run_id bigint NOT NULL,
          alerted_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (connector, direction)
        );
        CREATE TABLE tandem.reconcile_repair (
          run_id bigint NOT NULL,
          target_table text NOT NULL,
          kind text NOT NULL CHECK (kind IN ('missing', 'extra', 'different')),
          key jsonb NOT NULL,
          repaired_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX reconcile_repair_run ON tandem.reconcile_repair (run_id);`,
    },
    {
      version: 2,
      description: 'exact cut barrier: cut requests and the partitions held at them',
      sql: `CREATE TABLE tandem.reconcile_cut (
          id bigserial PRIMARY KEY,
          connector text NOT NULL,
          status text NOT NULL CHECK (status IN ('preparing', 'open', 'released', 'abandoned')),
          source_lsn pg_lsn,
          requested_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL,
          closed_at timestamptz
        );
        CREATE INDEX reconcile_cut_active ON tandem.reconcile_cut (connector) WHERE status IN ('preparing', 'open');
        CREATE TABLE tandem.reconcile_cut_hold (
          cut_id bigint NOT NULL REFERENCES tandem.reconcile_cut (id) ON DELETE CASCADE,
          topic text NOT NULL,
          partition integer NOT NULL,
          held_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (cut_id, topic, partition)
        );`,
    },
    {
      version: 3,
      description: 'incomplete runs: tables left out while capture still snapshots their sources',
      sql: `ALTER TABLE tandem.reconcile_run DROP CONSTRAINT reconcile_run_status_check,
          ADD CONSTRAINT reconcile_run_status_check CHECK (status IN ('running', 'clean', 'drift', 'incomplete', 'error'));`,
    },
  ],
};
