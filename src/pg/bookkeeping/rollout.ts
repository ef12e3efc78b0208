import type { Bookkeeping } from './migrate.js';
import { TARGET_SCHEMA } from './target.js';

/**
 * Rollout's tables in the target's bookkeeping schema.
 *
 * - `rollout_state`: per migration the current phase, its gate values (read_new_services: the
 *   services whose every read goes to new), pending approvals and a
 *   version that grows with every change (optimistic concurrency; NOTIFY `tandem_rollout`).
 * - `rollout_audit`: append-only (a trigger refuses UPDATE, DELETE, TRUNCATE): who, what, when, why
 *   and the evidence evaluated.
 * - `rollout_traffic`: decisions and errors reported by services (SDK), per minute, client, side, kind.
 * - `rollout_sample`: evidence sampled by `rollout watch` (lag, source LSN, drift, error rate) for trends.
 */
export const ROLLOUT_BOOKKEEPING: Bookkeeping = {
  schema: TARGET_SCHEMA,
  component: 'rollout',
  migrations: [
    {
      version: 1,
      description: 'rollout state, append-only audit log, service traffic and evidence samples',
      sql: `CREATE TABLE ${TARGET_SCHEMA}.rollout_state (
          migration text PRIMARY KEY,
          group_id text NOT NULL,
          phase text NOT NULL,
          entered_at timestamptz NOT NULL,
          read_new smallint NOT NULL CHECK (read_new BETWEEN 0 AND 100),
          write_to text NOT NULL CHECK (write_to IN ('legacy', 'new')),
          reverse_sync boolean NOT NULL,
          approvals jsonb NOT NULL DEFAULT '[]',
          version bigint NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE ${TARGET_SCHEMA}.rollout_audit (
          id bigserial PRIMARY KEY,
          migration text NOT NULL,
          at timestamptz NOT NULL DEFAULT now(),
          action text NOT NULL,
          from_phase text NOT NULL,
          to_phase text NOT NULL,
          actor_kind text NOT NULL CHECK (actor_kind IN ('cli', 'api-key', 'watch')),
          actor text NOT NULL,
          os_user text,
          reason text,
          forced boolean NOT NULL DEFAULT false,
          state_version bigint NOT NULL,
          evidence jsonb NOT NULL
        );
        CREATE INDEX rollout_audit_migration ON ${TARGET_SCHEMA}.rollout_audit (migration, id DESC);
        CREATE FUNCTION ${TARGET_SCHEMA}.rollout_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'tandem.rollout_audit is append-only: % refused', TG_OP;
          END $$;
        CREATE TRIGGER rollout_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${TARGET_SCHEMA}.rollout_audit
          FOR EACH STATEMENT EXECUTE FUNCTION ${TARGET_SCHEMA}.rollout_audit_append_only();
        CREATE TABLE ${TARGET_SCHEMA}.rollout_traffic (
          migration text NOT NULL,
          minute timestamptz NOT NULL,
          client text NOT NULL,
          side text NOT NULL CHECK (side IN ('legacy', 'new')),
          kind text NOT NULL,
          count bigint NOT NULL,
          PRIMARY KEY (migration, minute, client, side, kind)
        );
        CREATE TABLE ${TARGET_SCHEMA}.rollout_sample (
          migration text NOT NULL,
          at timestamptz NOT NULL,
          lag_seconds double precision,
          source_lsn pg_lsn,
          applied_position text,
          drift_rows bigint,
          error_rate double precision,
          PRIMARY KEY (migration, at)
        );`,
    },
    {
      version: 2,
      description: 'services named to read from new (a canary by service)',
      sql: `ALTER TABLE ${TARGET_SCHEMA}.rollout_state ADD COLUMN read_new_services text[] NOT NULL DEFAULT '{}'`,
    },
  ],
};
