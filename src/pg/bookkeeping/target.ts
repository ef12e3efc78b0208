import type { Bookkeeping } from './migrate.js';

/**
 * The target database's bookkeeping schema. Translate, reconcile and rollout each keep their tables
 * there, declared in a file of their own beside this one (reconcile.ts, rollout.ts) and versioned
 * apart; a shipped migration is never edited, only followed by a new one.
 */
export const TARGET_SCHEMA = 'tandem';

/**
 * Translate's tables: what it applied, where it stands per partition.
 *
 * - `translate_offsets`: per consumer group and partition, the next offset to consume and the source
 *   position applied last; written in the transaction that writes the rows, so it is the truth
 *   translate resumes from (Kafka's committed offsets follow it, for lag tooling only).
 * - `translate_batches`: one row per committed batch (offset range, events applied): shows that
 *   every offset was applied by exactly one transaction; kept for `translate.batchHistory`.
 * - `translate_topics`: per source topic, the position of the newest truncate applied (the barrier).
 * - `translate_parked`: changes whose foreign-key parent had not arrived, retried until the park timeout.
 * - `translate_dead_letters`: changes sent to the dead-letter topic, and whether a replay applied them.
 */
export const TARGET_BOOKKEEPING: Bookkeeping = {
  schema: TARGET_SCHEMA,
  component: 'translate',
  migrations: [
    {
      version: 1,
      description: 'translate offsets, batches, truncate barriers, parked changes and dead letters',
      sql: `CREATE TABLE tandem.translate_offsets (
          group_id text NOT NULL,
          topic text NOT NULL,
          partition integer NOT NULL,
          next_offset bigint NOT NULL DEFAULT 0,
          applied_lsn bigint NOT NULL DEFAULT 0,
          applied_phase smallint NOT NULL DEFAULT 0,
          applied_sequence bigint NOT NULL DEFAULT -1,
          updated_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (group_id, topic, partition)
        );
        CREATE TABLE tandem.translate_batches (
          id bigserial PRIMARY KEY,
          group_id text NOT NULL,
          topic text NOT NULL,
          partition integer NOT NULL,
          first_offset bigint NOT NULL,
          last_offset bigint NOT NULL,
          events integer NOT NULL,
          applied integer NOT NULL,
          skipped integer NOT NULL,
          parked integer NOT NULL,
          dead_lettered integer NOT NULL,
          committed_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX ON tandem.translate_batches (group_id, topic, partition, first_offset);
        CREATE TABLE tandem.translate_topics (
          topic text PRIMARY KEY,
          truncate_lsn bigint NOT NULL DEFAULT 0,
          truncate_phase smallint NOT NULL DEFAULT 0,
          truncate_sequence bigint NOT NULL DEFAULT -1,
          truncated_at timestamptz
        );
        CREATE TABLE tandem.translate_parked (
          topic text NOT NULL,
          key text NOT NULL,
          partition integer NOT NULL,
          kafka_offset bigint NOT NULL,
          op text NOT NULL,
          row_values jsonb NOT NULL,
          unsent text[] NOT NULL,
          schema_id integer NOT NULL,
          position_lsn bigint NOT NULL,
          position_phase smallint NOT NULL,
          position_sequence bigint NOT NULL,
          commit_ts_ms bigint NOT NULL,
          message_key bytea,
          message_value bytea NOT NULL,
          error text NOT NULL,
          parked_at timestamptz NOT NULL DEFAULT now(),
          attempts integer NOT NULL DEFAULT 0,
          PRIMARY KEY (topic, key)
        );
        CREATE INDEX ON tandem.translate_parked (topic, partition);
        CREATE TABLE tandem.translate_dead_letters (
          topic text NOT NULL,
          partition integer NOT NULL,
          kafka_offset bigint NOT NULL,
          key text NOT NULL,
          error text NOT NULL,
          dead_lettered_at timestamptz NOT NULL DEFAULT now(),
          superseded_by_offset bigint,
          replayed_at timestamptz,
          PRIMARY KEY (topic, partition, kafka_offset)
        );
        CREATE INDEX ON tandem.translate_dead_letters (topic, key) WHERE replayed_at IS NULL AND superseded_by_offset IS NULL;`,
    },
    {
      version: 2,
      description: 'batch log pruned by age (translate.batchHistory)',
      sql: `CREATE INDEX translate_batches_committed ON tandem.translate_batches (group_id, committed_at);`,
    },
  ],
};
