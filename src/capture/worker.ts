import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { startProducerThread, type BatchProducer } from './producer-thread.js';
import type { Logger } from '../observability/logger.js';
import type { CaptureMetrics } from '../observability/metrics.js';
import { connectClient, SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import type { RegistryClient } from '../schema/registry-client.js';
import { ChangeStreamHandler } from './changes.js';
import { TableCodecs } from './codecs.js';
import { IncrementalSnapshots } from './incremental.js';
import { runInitialSnapshot } from './initial-snapshot.js';
import { formatLsn, type Lsn } from './lsn.js';
import { EventSender } from './sender.js';
import { createSlotWithSnapshot, ensurePublication, preflight, readSlot } from './setup.js';
import { readState, writeState } from './state.js';
import { migrate } from '../pg/bookkeeping/migrate.js';
import { SOURCE_BOOKKEEPING } from '../pg/bookkeeping/source.js';
import { startReplicationStream } from './stream.js';

export interface CaptureOptions {
  logger: Logger;
  metrics: CaptureMetrics;
  registry: RegistryClient;
  /** Stop after the initial snapshot instead of streaming. */
  snapshotOnly?: boolean;
}

export interface CaptureWorker {
  /** Resolves when capture stops after stop(); rejects with the reason it failed. */
  done: Promise<void>;
  /** The LSN confirmed (or about to be) to the slot. */
  durableLsn(): Lsn;
  /** Unhealthy when no WAL message arrived for `stallAfterMs`, or Kafka has left transactions unacknowledged that long. */
  health(stallAfterMs: number): { healthy: boolean; idleMs: number; unacknowledgedMs: number; inFlightTransactions: number; durableLsn: string };
  stop(): Promise<void>;
}

const HEARTBEAT_PREFIX = 'tandem.heartbeat';

/**
 * The capture flow: check prerequisites → publication → slot, with an exported snapshot the first
 * time → initial snapshot (op r) → stream from the slot, finishing any pending table with
 * incremental snapshots meanwhile. The slot is confirmed only up to the newest transaction whose
 * every event Kafka acknowledged.
 */
export async function startCapture(connector: Connector, options: CaptureOptions): Promise<CaptureWorker> {
  const { logger, metrics } = options;
  await preflight(connector);
  const control = await connectClient(connector.source.url, 'source', { options: SOURCE_SESSION_OPTIONS });
  const kafka = createKafka(connector.kafka, logger);
  let producer: BatchProducer | null = null;
  const closeConnections = async () => {
    await producer?.disconnect().catch(() => undefined);
    await control.end().catch(() => undefined);
  };

  try {
    await migrate(control, SOURCE_BOOKKEEPING);
    let state = await readState(control, connector.name);
    // Without saved state, an existing publication is the user's: tandem only verifies it.
    const publication = await ensurePublication(control, connector, state?.publicationManaged ?? false);
    if (publication.created || publication.added.length > 0) logger.info({ added: publication.added }, `publication ${connector.source.publication} ${publication.created ? 'created' : 'extended'}`);
    producer = await startProducerThread(connector.kafka, logger.level);
    const codecs = new TableCodecs(connector, control, options.registry, logger);
    await codecs.ensureTopics(kafka);
    const sender = new EventSender(producer, {
      onAcknowledged: (table, op, events) => metrics.events.inc({ table, op }, events),
      onBatchSent: (_events, bytes) => metrics.bytes.inc(bytes),
    });
    const saveState = () => writeState(control, connector.name, state!);

    let slot = await readSlot(control, connector.source.slot);
    if (!slot.exists) {
      const exported = await createSlotWithSnapshot(connector);
      logger.info({ slot: connector.source.slot, consistentPoint: formatLsn(exported.consistentPoint) }, `replication slot ${connector.source.slot} created`);
      // A new slot means a new stream: progress of any earlier slot no longer applies.
      state = {
        publicationManaged: publication.created || (state?.publicationManaged ?? false),
        snapshot: { consistentPoint: formatLsn(exported.consistentPoint), done: connector.capture.snapshot === 'initial' ? [] : [...connector.source.tables], lastKey: {} },
      };
      await saveState();
      try {
        if (connector.capture.snapshot === 'initial') await runInitialSnapshot({ connector, snapshotName: exported.snapshotName, state, saveState, codecs, sender, metrics, logger });
      } finally {
        await exported.release();
      }
      slot = await readSlot(control, connector.source.slot);
    }
    if (!state) {
      // A slot created outside tandem: no exported snapshot to read from, so with snapshot
      // 'initial' every table is snapshotted incrementally while streaming.
      state = {
        publicationManaged: publication.created,
        snapshot: { consistentPoint: formatLsn(slot.confirmedFlushLsn ?? 0n), done: connector.capture.snapshot === 'initial' ? [] : [...connector.source.tables], lastKey: {} },
      };
      await saveState();
    }

    if (options.snapshotOnly) {
      await closeConnections();
      const durable = slot.confirmedFlushLsn ?? 0n;
      return {
        done: Promise.resolve(),
        durableLsn: () => durable,
        health: () => ({ healthy: true, idleMs: 0, unacknowledgedMs: 0, inFlightTransactions: 0, durableLsn: formatLsn(durable) }),
        stop: async () => undefined,
      };
    }

    const startLsn = slot.confirmedFlushLsn ?? 0n;
    const snapshots = new IncrementalSnapshots(connector.name, control, codecs, sender, metrics, logger);
    const handler = new ChangeStreamHandler(connector.name, startLsn, codecs, sender, snapshots);
    let activity = Date.now();
    // When the durable LSN last moved, or nothing was waiting for Kafka: a stuck broker shows here.
    let lastDurable = startLsn;
    let acknowledgedAt = Date.now();
    const trackDurable = () => {
      const durable = handler.tracker.durableLsn;
      if (durable !== lastDurable || handler.tracker.inFlight === 0) acknowledgedAt = Date.now();
      lastDurable = durable;
      return durable;
    };
    const stream = startReplicationStream({
      url: connector.source.url,
      slot: connector.source.slot,
      publication: connector.source.publication,
      startLsn,
      durableLsn: () => {
        const durable = trackDurable();
        metrics.durableLsn.set(Number(durable));
        return durable;
      },
      onMessage: (lsn, message) => {
        activity = Date.now();
        return handler.handle(lsn, message);
      },
    });
    logger.info({ slot: connector.source.slot, startLsn: formatLsn(startLsn) }, `streaming changes from slot ${connector.source.slot}`);

    // Heartbeats through the WAL move the slot forward while the captured tables are idle, so the
    // server does not retain WAL for it; they also keep /health honest.
    const heartbeat = setInterval(() => {
      control
        .query(`SELECT pg_logical_emit_message(true, '${HEARTBEAT_PREFIX}', now()::text)`)
        .then(() => control.query<{ lag: string }>('SELECT pg_current_wal_lsn() - confirmed_flush_lsn AS lag FROM pg_replication_slots WHERE slot_name = $1', [connector.source.slot]))
        .then(({ rows }) => {
          if (rows[0]) metrics.slotLagBytes.set(Number(rows[0].lag));
          metrics.slotLagSeconds.set(handler.tracker.inFlight > 0 ? Math.max(0, (Date.now() - handler.lastCommitTimeMs) / 1000) : 0);
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'heartbeat failed'));
    }, connector.capture.heartbeatIntervalMs);

    const pending = connector.source.tables.filter((table) => !state!.snapshot.done.includes(table));
    const incremental = pending.length === 0 ? Promise.resolve() : runIncrementalSnapshots(pending);

    async function runIncrementalSnapshots(tables: string[]): Promise<void> {
      const reader = await connectClient(connector.source.url, 'source', { options: SOURCE_SESSION_OPTIONS });
      try {
        for (const table of tables) {
          const afterKey = state!.snapshot.lastKey[table] ?? null;
          logger.info({ table, resumeAfter: afterKey }, `incremental snapshot of ${table}${afterKey ? ' resumed' : ''} while streaming`);
          await snapshots.run(table, afterKey, connector.capture.snapshotChunkSize, reader, async (lastKey) => {
            if (lastKey) state!.snapshot.lastKey[table] = lastKey;
            await saveState();
          });
          state!.snapshot.done.push(table);
          delete state!.snapshot.lastKey[table];
          await saveState();
          logger.info({ table }, `incremental snapshot of ${table} complete`);
        }
      } finally {
        await reader.end().catch(() => undefined);
      }
    }

    let stopping = false;
    const stopEverything = async () => {
      clearInterval(heartbeat);
      await stream.stop().catch(() => undefined);
      await closeConnections();
    };
    const done = Promise.race([
      stream.done,
      incremental.then(() => new Promise<never>(() => undefined)), // success: keep streaming
    ]).then(
      async () => {
        await stopEverything();
      },
      async (error: unknown) => {
        metrics.errors.inc({ kind: error instanceof TandemError ? 'fatal' : 'stream' });
        await stopEverything();
        if (!stopping) throw error;
      },
    );
    // Callers may look at `done` only later (after stop(), or when polling health): not an unhandled rejection.
    done.catch(() => undefined);
    return {
      done,
      durableLsn: () => handler.tracker.durableLsn,
      health(stallAfterMs) {
        trackDurable();
        const idleMs = Date.now() - activity;
        const unacknowledgedMs = Date.now() - acknowledgedAt;
        return {
          healthy: idleMs < stallAfterMs && unacknowledgedMs < stallAfterMs,
          idleMs,
          unacknowledgedMs,
          inFlightTransactions: handler.tracker.inFlight,
          durableLsn: formatLsn(handler.tracker.durableLsn),
        };
      },
      async stop() {
        stopping = true;
        // Let Kafka acknowledge what is in flight so the last status update confirms it.
        await sender.flush().catch(() => undefined);
        await stopEverything();
        await done.catch(() => undefined);
      },
    };
  } catch (error) {
    await closeConnections();
    throw error;
  }
}

