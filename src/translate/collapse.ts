/**
 * A batch's changes → one staged row per source key, in order of each key's last change: the
 * key's final state (upsert or delete) after all its changes. Columns a later change did not send
 * (unchanged TOAST) take the value an earlier change of the batch sent, when there is one. Pure.
 */
import type { SourceChange } from './event-reader.js';

export interface StagedRow {
  key: string;
  /** u: the row exists (upsert); d: it does not (delete). */
  op: 'u' | 'd';
  values: Record<string, string | null>;
  /** Columns still not sent after merging the batch's changes. */
  unsent: string[];
  /** The key's last change: its message goes to the DLQ if the row cannot be written. */
  last: SourceChange;
  /** Changes of the batch folded into this row. */
  changes: number;
}

export function collapseByKey(changes: readonly SourceChange[]): StagedRow[] {
  const byKey = new Map<string, StagedRow>();
  for (const change of changes) {
    const previous = byKey.get(change.key);
    if (previous) byKey.delete(change.key); // re-inserted below: Map order = order of each key's last change
    if (change.op === 'd' || !previous || previous.op === 'd' || change.unsent.length === 0) {
      byKey.set(change.key, { key: change.key, op: change.op === 'd' ? 'd' : 'u', values: change.values, unsent: [...change.unsent], last: change, changes: (previous?.changes ?? 0) + 1 });
      continue;
    }
    const values = { ...change.values };
    const unsent: string[] = [];
    for (const column of change.unsent) {
      if (column in previous.values && !previous.unsent.includes(column)) values[column] = previous.values[column]!;
      else unsent.push(column);
    }
    byKey.set(change.key, { key: change.key, op: 'u', values, unsent, last: change, changes: previous.changes + 1 });
  }
  return [...byKey.values()];
}
