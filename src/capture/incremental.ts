import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { CaptureMetrics } from '../observability/metrics.js';
import { connectClient, SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import type { TableCodecs } from './codecs.js';
import { SnapshotProgress } from './progress.js';
import type { MessageSender } from './sender.js';
import { estimateRows, readTableChunks, type TextRow } from './snapshot.js';
import type { SnapshotBook } from './state.js';
import { ChunkWindow } from './watermark.js';

interface OpenChunk {
  window: ChunkWindow;
  /** Settles once the high watermark was handled (the chunk's rows are queued). */
  closed: Promise<void>;
  markClosed(): void;
}

/**
 * DBLog incremental snapshots: chunks of a table are read while the stream runs, between a low and
 * a high watermark row written to `_tandem.signal` (which is published, so the watermarks arrive
 * in the stream in WAL order). Used for tables added to a running connector and to finish an
 * initial snapshot that a crash interrupted.
 */
export class IncrementalSnapshots {
  private current: OpenChunk | null = null;

  constructor(
    private readonly connectorName: string,
    private readonly control: pg.Client,
    private readonly codecs: TableCodecs,
    private readonly sender: MessageSender,
    private readonly metrics: CaptureMetrics,
    private readonly logger: Logger,
  ) {}

  /** Stream side: a row was inserted into the signal table. Returns the rows to emit as reads, if this closed a chunk. */
  onSignal(row: TextRow): { table: string; rows: TextRow[]; done(): void } | null {
    const chunk = this.current;
    if (!chunk || row.connector !== this.connectorName || row.id === null) return null;
    if (row.id === `${chunk.window.id}:low`) chunk.window.open();
    if (row.id !== `${chunk.window.id}:high`) return null;
    return { table: chunk.window.table, rows: chunk.window.close(), done: () => chunk.markClosed() };
  }

  /** Stream side: a change of a captured table (old and new row). */
  onChange(table: string, before: TextRow | null, after: TextRow | null): void {
    this.current?.window.noteChange(table, before);
    this.current?.window.noteChange(table, after);
  }

  /**
   * Snapshots every configured table whose snapshot is not complete, one after the other, each
   * resumed after its last acknowledged key. Runs beside the stream, which emits the chunks' rows.
   */
  async finishPending(connector: Connector, book: SnapshotBook): Promise<void> {
    const tables = book.pending(connector.source.tables);
    if (tables.length === 0) return;
    const reader = await connectClient(connector.source.url, 'source', { options: SOURCE_SESSION_OPTIONS });
    try {
      for (const table of tables) {
        const afterKey = book.resumeAfter(table);
        this.logger.info({ table, resumeAfter: afterKey }, `incremental snapshot of ${table}${afterKey ? ' resumed' : ''} while streaming`);
        await this.run(table, afterKey, connector.capture.snapshotChunkSize, reader, (lastKey) => book.chunkDone(table, lastKey));
        await book.tableDone(table);
        this.logger.info({ table }, `incremental snapshot of ${table} complete`);
      }
    } finally {
      await reader.end().catch(() => undefined);
    }
  }

  /** Snapshots a table chunk by chunk, starting after `afterKey`; `saveProgress` runs once each chunk is acknowledged. */
  private async run(table: string, afterKey: string[] | null, chunkSize: number, reader: pg.Client, saveProgress: (lastKey: string[] | null) => Promise<void>): Promise<void> {
    const codec = await this.codecs.forSnapshot(table);
    const progress = new SnapshotProgress(this.logger);
    const estimated = await estimateRows(reader, table);
    this.metrics.snapshotTotalRows.set({ table }, estimated);
    progress.startTable(table, estimated);
    const chunks = readTableChunks(reader, codec.snapshotTable, afterKey, chunkSize)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const window = new ChunkWindow(randomUUID(), table, codec.definition.keyColumns);
        let markClosed = () => undefined as void;
        const closed = new Promise<void>((resolve) => (markClosed = resolve));
        this.current = { window, closed, markClosed };
        await this.signal(`${window.id}:low`, 'snapshot-window-low', table);
        const next = await chunks.next();
        window.rows = next.done ? [] : next.value.rows;
        await this.signal(`${window.id}:high`, 'snapshot-window-high', table);
        await closed;
        await this.sender.flush();
        await this.control.query('DELETE FROM _tandem.signal WHERE id LIKE $1', [`${window.id}:%`]);
        if (next.done) break;
        this.metrics.snapshotRows.inc({ table }, next.value.rows.length);
        progress.advance(table, next.value.rows.length);
        await saveProgress(next.value.lastKey);
      }
    } finally {
      this.current = null;
      progress.finishTable();
    }
  }

  private async signal(id: string, kind: string, table: string): Promise<void> {
    await this.control.query('INSERT INTO _tandem.signal (id, connector, kind, data) VALUES ($1, $2, $3, $4)', [id, this.connectorName, kind, JSON.stringify({ table })]);
  }
}
