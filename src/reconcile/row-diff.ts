import { keyId, type Key } from './segment.js';

/**
 * A row as compared: the key and each compared column in canonical text (PostgreSQL's text output
 * of the value cast to the target column's type, under fixed session settings), null for NULL.
 * NULL and '' stay distinct, numeric scale and timestamp precision are part of the text, and text is
 * compared byte for byte whatever the column's collation says.
 */
export interface CanonicalRow {
  readonly key: Key;
  readonly values: readonly (string | null)[];
}

export interface ColumnDifference {
  readonly expected: string | null;
  readonly actual: string | null;
}

export interface RowDifference {
  readonly key: Key;
  /** Only the columns that differ. */
  readonly columns: Readonly<Record<string, ColumnDifference>>;
}

export interface RowDiff {
  /** In the legacy data as mapped, not in the new table. */
  readonly missing: Key[];
  /** In the new table, not in the mapped legacy data. */
  readonly extra: Key[];
  readonly different: RowDifference[];
  /** Distinct keys seen on either side. */
  readonly rows: number;
}

/** Column by column comparison of the rows of one segment from both sides (order does not matter). */
export function diffRows(columns: readonly string[], expected: readonly CanonicalRow[], actual: readonly CanonicalRow[]): RowDiff {
  const actualByKey = new Map<string, CanonicalRow>();
  for (const row of actual) actualByKey.set(keyId(row.key), row);
  const missing: Key[] = [];
  const different: RowDifference[] = [];
  let rows = actual.length;
  for (const row of expected) {
    const id = keyId(row.key);
    const other = actualByKey.get(id);
    if (!other) {
      missing.push(row.key);
      rows += 1;
      continue;
    }
    actualByKey.delete(id);
    let changed: Record<string, ColumnDifference> | null = null;
    for (let index = 0; index < columns.length; index += 1) {
      const want = row.values[index] ?? null;
      const got = other.values[index] ?? null;
      if (want !== got) (changed ??= {})[columns[index]!] = { expected: want, actual: got };
    }
    if (changed) different.push({ key: row.key, columns: changed });
  }
  return { missing, extra: [...actualByKey.values()].map((row) => row.key), different, rows };
}
