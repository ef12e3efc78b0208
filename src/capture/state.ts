import type pg from 'pg';

/**
 * Capture's own progress, kept in the source database (schema `_tandem`) so it survives the
 * worker's container. The stream position itself lives in the replication slot.
 */
export interface CaptureState {
  /** tandem created the publication, so it may add tables to it when the connector gains some. */
  publicationManaged: boolean;
  snapshot: {
    /** LSN of the slot's consistent point: source.lsn of the initial snapshot's rows. */
    consistentPoint: string;
    /** Tables whose snapshot is complete; configured tables not listed here still need one. */
    done: string[];
    /** Last key (as text values) whose row Kafka acknowledged, per table in progress. */
    lastKey: Record<string, string[]>;
  };
}

/**
 * `_tandem.capture_state` holds the progress; `_tandem.signal` is published with the captured
 * tables: capture writes the low and high watermarks of incremental snapshot chunks there and
 * recognises them in the stream.
 */
export async function ensureTandemSchema(client: pg.Client): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS _tandem;
    CREATE TABLE IF NOT EXISTS _tandem.capture_state (
      connector text PRIMARY KEY,
      state jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS _tandem.signal (
      id text PRIMARY KEY,
      connector text NOT NULL,
      kind text NOT NULL,
      data jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );`);
}

export const SIGNAL_TABLE = '_tandem.signal';

export async function readState(client: pg.Client, connector: string): Promise<CaptureState | null> {
  const { rows } = await client.query<{ state: CaptureState }>('SELECT state FROM _tandem.capture_state WHERE connector = $1', [connector]);
  return rows[0]?.state ?? null;
}

export async function writeState(client: pg.Client, connector: string, state: CaptureState): Promise<void> {
  await client.query(
    `INSERT INTO _tandem.capture_state (connector, state) VALUES ($1, $2)
     ON CONFLICT (connector) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [connector, JSON.stringify(state)],
  );
}

export async function deleteState(client: pg.Client, connector: string): Promise<void> {
  await client.query('DELETE FROM _tandem.capture_state WHERE connector = $1', [connector]).catch(() => undefined);
}
