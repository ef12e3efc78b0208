import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../pg/identifiers.js';

/** Every value as the text PostgreSQL prints, exactly what pgoutput sends, so one decoder serves both. */
const RAW_TEXT = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;

export type TextRow = Record<string, string | null>;

export interface SnapshotTable {
  /** `schema.table` */
  name: string;
  columns: string[];
  /** Primary key (or replica identity index) columns with their SQL types; empty when rows have no key. */
  key: { name: string; sqlType: string }[];
}

export interface SnapshotChunk {
  rows: TextRow[];
  /** Key of the last row, as text: where a resumed snapshot continues. Null for keyless tables. */
  lastKey: string[] | null;
}

/**
 * Reads a table in primary-key order, `chunkSize` rows at a time, starting after `afterKey`.
 * Run it inside the snapshot transaction so every chunk sees the same consistent state.
 * Keyless tables are read in ctid order (stable within one snapshot) and restart from the
 * beginning when resumed.
 */
export async function* readTableChunks(client: pg.Client, table: SnapshotTable, afterKey: string[] | null, chunkSize: number): AsyncGenerator<SnapshotChunk> {
  const select = table.columns.map(quoteIdent).join(', ');
  const from = quoteQualified(table.name);
  if (table.key.length === 0) {
    let afterCtid = '(0,0)';
    for (;;) {
      const { rows } = await client.query<TextRow & { __ctid: string }>({
        text: `SELECT ${select}, ctid AS __ctid FROM ${from} WHERE ctid > $1::tid ORDER BY ctid LIMIT ${chunkSize}`,
        values: [afterCtid],
        types: RAW_TEXT,
      });
      if (rows.length === 0) return;
      afterCtid = rows[rows.length - 1]!.__ctid;
      for (const row of rows) delete (row as Partial<typeof row>).__ctid;
      yield { rows, lastKey: null };
      if (rows.length < chunkSize) return;
    }
  }
  const keyList = table.key.map((column) => quoteIdent(column.name)).join(', ');
  const keyParams = table.key.map((column, index) => `$${index + 1}::${column.sqlType}`).join(', ');
  let cursor = afterKey;
  for (;;) {
    const where = cursor ? `WHERE (${keyList}) > (${keyParams})` : '';
    const { rows } = await client.query<TextRow>({
      text: `SELECT ${select} FROM ${from} ${where} ORDER BY ${keyList} LIMIT ${chunkSize}`,
      values: cursor ?? [],
      types: RAW_TEXT,
    });
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    cursor = table.key.map((column) => last[column.name]!);
    yield { rows, lastKey: cursor };
    if (rows.length < chunkSize) return;
  }
}

/**
 * Rows of a table for progress and ETA: the planner's estimate, or an exact count when the table
 * was never analyzed (reltuples = -1), which is common right after a bulk load.
 */
export async function estimateRows(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ estimate: string }>(`SELECT reltuples::bigint AS estimate FROM pg_class WHERE oid = $1::regclass`, [quoteQualified(table)]);
  const estimate = Number(rows[0]?.estimate ?? -1);
  if (estimate >= 0) return estimate;
  const counted = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${quoteQualified(table)}`);
  return Number(counted.rows[0]!.count);
}
