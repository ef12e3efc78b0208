import type { Lsn } from './lsn.js';

export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** Where a change came from: the `source` block of the envelope. */
export interface SourceInfo {
  connector: string;
  /** WAL position of the change itself (of the slot's consistent point for snapshot reads). */
  lsn: Lsn;
  /** Commit LSN of its transaction; with `sequence` it identifies a change, so consumers can drop replays. */
  commitLsn: Lsn | null;
  /** Position of the change within its transaction (snapshot: row number within the table). */
  sequence: number;
  txId: number | null;
  tsMs: number;
  schema: string;
  table: string;
  snapshot: boolean;
}

/**
 * A change as capture understands it, before Avro: values are PostgreSQL's text output (null for
 * NULL, undefined for "unchanged TOAST, not sent").
 */
export interface ChangeEvent {
  op: Op;
  before: Record<string, string | null | undefined> | null;
  after: Record<string, string | null | undefined> | null;
  source: SourceInfo;
}
