import type { Connector } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { CaptureMetrics } from '../observability/metrics.js';
import { connectClient, SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import type { TableCodecs } from './codecs.js';
import { emitChange } from './emitter.js';
import { parseLsn } from '../pg/lsn.js';
import { SnapshotProgress } from './progress.js';
import type { MessageSender } from './sender.js';
import { estimateRows, readTableChunks } from './snapshot.js';
import type { SnapshotBook } from './state.js';

/**
 * The initial snapshot: every configured table read in one REPEATABLE READ transaction that
 * imported the slot's exported snapshot, so it shows exactly the state at the slot's consistent
 * point. Progress is saved after each chunk Kafka acknowledged (flush() is the acknowledgement:
 * no transaction to track); if this is interrupted, the rest is finished with incremental
 * snapshots while streaming.
 */
export async function runInitialSnapshot(options: {
  connector: Connector;
  snapshotName: string;
  book: SnapshotBook;
  codecs: TableCodecs;
  sender: MessageSender;
  metrics: CaptureMetrics;
  logger: Logger;
}): Promise<void> {
  const { connector, book, codecs, sender, metrics, logger } = options;
  const reader = await connectClient(connector.source.url, 'source', { options: SOURCE_SESSION_OPTIONS });
  const progress = new SnapshotProgress(logger);
  const consistentPoint = parseLsn(book.state.snapshot.consistentPoint);
  try {
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query(`SET TRANSACTION SNAPSHOT '${options.snapshotName}'`);
    for (const table of book.pending(connector.source.tables)) {
      const codec = await codecs.forSnapshot(table);
      const estimated = await estimateRows(reader, table);
      metrics.snapshotTotalRows.set({ table }, estimated);
      progress.startTable(table, estimated);
      let sequence = 0;
      for await (const chunk of readTableChunks(reader, codec.snapshotTable, null, connector.capture.snapshotChunkSize)) {
        for (const row of chunk.rows) {
          const source = { connector: connector.name, lsn: consistentPoint, commitLsn: null, sequence: sequence++, txId: null, tsMs: Date.now(), schema: codec.schema, table: codec.tableName, snapshot: true };
          const wait = emitChange(sender, codec, { op: 'r', before: null, after: row, source }, null);
          if (wait) await wait;
        }
        await sender.flush();
        metrics.snapshotRows.inc({ table }, chunk.rows.length);
        progress.advance(table, chunk.rows.length);
        await book.chunkDone(table, chunk.lastKey);
      }
      progress.finishTable();
      await book.tableDone(table);
      logger.info({ table, rows: sequence }, `snapshot of ${table} complete`);
    }
    await reader.query('COMMIT');
  } finally {
    progress.finishTable();
    await reader.end().catch(() => undefined);
  }
}
