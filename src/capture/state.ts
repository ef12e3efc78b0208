import type pg from 'pg';

/** Capture's own progress, in `_tandem.capture_state` (pg/bookkeeping/source.ts). */
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
