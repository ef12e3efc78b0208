import type pg from 'pg';
import type { Connector } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { CaptureMetrics } from '../observability/metrics.js';
import type { TableCodecs } from './codecs.js';
import { runInitialSnapshot } from './initial-snapshot.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';
import type { MessageSender } from './sender.js';
import { createSlotWithSnapshot, readSlot } from './setup.js';
import { newState, SnapshotBook, type CaptureState } from './state.js';

/**
 * Where the stream starts. A missing slot is created with an exported snapshot, which the initial
 * snapshot reads before anything streams, so the two meet exactly. A slot created outside tandem
 * has no snapshot to read from: with snapshot 'initial' every table is then snapshotted
 * incrementally while streaming.
 */
export async function openSlot(options: {
  connector: Connector;
  control: pg.Client;
  saved: CaptureState | null;
  /** tandem created the publication just now. */
  publicationCreated: boolean;
  codecs: TableCodecs;
  sender: MessageSender;
  metrics: CaptureMetrics;
  logger: Logger;
}): Promise<{ book: SnapshotBook; startLsn: Lsn }> {
  const { connector, control, logger } = options;
  const slotName = connector.source.slot;
  const publicationManaged = options.publicationCreated || (options.saved?.publicationManaged ?? false);
  const slot = await readSlot(control, slotName);
  if (slot.exists) {
    const book = new SnapshotBook(control, connector.name, options.saved ?? newState(connector, slot.confirmedFlushLsn ?? 0n, publicationManaged));
    if (!options.saved) await book.save();
    return { book, startLsn: slot.confirmedFlushLsn ?? 0n };
  }
  const exported = await createSlotWithSnapshot(connector);
  logger.info({ slot: slotName, consistentPoint: formatLsn(exported.consistentPoint) }, `replication slot ${slotName} created`);
  // A new slot means a new stream: progress of any earlier slot no longer applies.
  const book = new SnapshotBook(control, connector.name, newState(connector, exported.consistentPoint, publicationManaged));
  await book.save();
  try {
    if (connector.capture.snapshot === 'initial') await runInitialSnapshot({ ...options, snapshotName: exported.snapshotName, book });
  } finally {
    await exported.release();
  }
  return { book, startLsn: (await readSlot(control, slotName)).confirmedFlushLsn ?? 0n };
}
