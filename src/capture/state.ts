import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';

/** Capture's own progress, in `_tandem.capture_state` (pg/bookkeeping/source.ts). */
export interface CaptureState {
  /** tandem created the publication, so it may change it (add tables, set options). */
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

/** The state of a new stream from `consistentPoint`: every table still to snapshot, unless snapshots are off. */
export function newState(connector: Connector, consistentPoint: Lsn, publicationManaged: boolean): CaptureState {
  return {
    publicationManaged,
    snapshot: { consistentPoint: formatLsn(consistentPoint), done: connector.capture.snapshot === 'initial' ? [] : [...connector.source.tables], lastKey: {} },
  };
}

export async function readState(client: pg.ClientBase, connector: string): Promise<CaptureState | null> {
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

/** Snapshot progress as the snapshots record it: each change saved at once. */
export class SnapshotBook {
  constructor(
    private readonly client: pg.Client,
    private readonly connector: string,
    readonly state: CaptureState,
  ) {}

  save(): Promise<void> {
    return writeState(this.client, this.connector, this.state);
  }

  /** Configured tables whose snapshot is not complete, in configured order. */
  pending(tables: readonly string[]): string[] {
    return tables.filter((table) => !this.state.snapshot.done.includes(table));
  }

  /** Where a table's snapshot resumes: after this key (null: from the start). */
  resumeAfter(table: string): string[] | null {
    return this.state.snapshot.lastKey[table] ?? null;
  }

  /** Kafka acknowledged the rows up to `lastKey` (null for keyless tables, which restart from the start). */
  async chunkDone(table: string, lastKey: string[] | null): Promise<void> {
    if (!lastKey) return;
    this.state.snapshot.lastKey[table] = lastKey;
    await this.save();
  }

  async tableDone(table: string): Promise<void> {
    this.state.snapshot.done.push(table);
    delete this.state.snapshot.lastKey[table];
    await this.save();
  }
}
