import type { TextRow } from './snapshot.js';

/**
 * One chunk of a DBLog incremental snapshot. Between the low and the high watermark the stream
 * tells the window which keys of the table changed; at the high watermark the chunk's rows whose
 * keys did not change are emitted. The stream already carries a newer (or equal) state for the
 * others, so the output stays in order per key without pausing the stream.
 */
export class ChunkWindow {
  private readonly changedKeys = new Set<string>();
  private opened = false;
  rows: TextRow[] | null = null;

  constructor(
    readonly id: string,
    readonly table: string,
    private readonly keyColumns: string[],
  ) {}

  /** The low watermark came through the stream. */
  open(): void {
    this.opened = true;
  }

  /** A change of `table` came through the stream: drop that key from the chunk if the window is open. */
  noteChange(table: string, row: Record<string, string | null | undefined> | null): void {
    if (!this.opened || table !== this.table || !row) return;
    this.changedKeys.add(keyText(this.keyColumns, row));
  }

  /** The high watermark came through the stream: the rows to emit at this position. */
  close(): TextRow[] {
    if (!this.opened) throw new Error(`high watermark of chunk ${this.id} arrived before its low watermark`);
    if (!this.rows) throw new Error(`high watermark of chunk ${this.id} arrived before the chunk was read`);
    return this.rows.filter((row) => !this.changedKeys.has(keyText(this.keyColumns, row)));
  }
}

/** A row's key as one string, from the text values (the same in snapshot reads and the stream). */
export function keyText(keyColumns: string[], row: Record<string, string | null | undefined>): string {
  return JSON.stringify(keyColumns.map((column) => row[column] ?? null));
}
