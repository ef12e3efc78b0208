import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../observability/logger.js';
import type { CaptureMetrics } from '../observability/metrics.js';
import { migrate } from '../pg/bookkeeping/migrate.js';
import { SOURCE_BOOKKEEPING } from '../pg/bookkeeping/source.js';
import { connectClient, describeUrl, SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import type { RegistryClient } from '../schema/registry-client.js';
import { ChangeStreamHandler } from './changes.js';
import { TableCodecs } from './codecs.js';
import { assessHealth, observeAcks, slotLagSeconds, type AckClock, type CaptureHealth } from './health.js';
import { startHeartbeat } from './heartbeat.js';
import { IncrementalSnapshots } from './incremental.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';
import { startProducerThread, type BatchProducer } from './producer-thread.js';
import { ensurePublication } from './publication.js';
import { MessageSender } from './sender.js';
import { preflight } from './setup.js';
import { openSlot } from './slot.js';
import { readState } from './state.js';
import { startReplicationStream } from './stream.js';

export interface CaptureOptions {
  logger: Logger;
  metrics: CaptureMetrics;
  registry: RegistryClient;
  /** Stop after the initial snapshot instead of streaming. */
  snapshotOnly?: boolean;
  /**
   * Leave out the changes tandem's translate applied (any replication origin, PostgreSQL 16+), so
   * that forward and reverse sync can run together without echoing writes back and forth. Default:
   * when the connector declares rollout.reverse. Off otherwise, because it would also leave out
   * what other logical replication (a subscription, pglogical) applies to the source tables.
   */
  skipOriginChanges?: boolean;
}

export interface CaptureWorker {
  /** Resolves when capture stops after stop(); rejects with the reason it failed. */
  done: Promise<void>;
  /** The LSN confirmed (or about to be) to the slot. */
  durableLsn(): Lsn;
  /** Unhealthy when no WAL message arrived for `stallAfterMs`, or Kafka has left transactions unacknowledged that long. */
  health(stallAfterMs: number): CaptureHealth;
  stop(): Promise<void>;
}

/**
 * The capture flow: check prerequisites → publication, topics, producer → slot, with the initial
 * snapshot the first time → stream from the slot, finishing pending tables with incremental
 * snapshots meanwhile → heartbeats and health. The slot is confirmed only up to the newest
 * transaction whose every event Kafka acknowledged.
 */
export async function startCapture(connector: Connector, options: CaptureOptions): Promise<CaptureWorker> {
  const { logger, metrics } = options;
  await preflight(connector);
  const control = await connectClient(connector.source.url, 'source', { options: SOURCE_SESSION_OPTIONS });
  let producer: BatchProducer | null = null;
  const closeConnections = async () => {
    await producer?.disconnect().catch(() => undefined);
    await control.end().catch(() => undefined);
  };
  try {
    // Setup. Without saved state, an existing publication is the user's: tandem only verifies it.
    await migrate(control, SOURCE_BOOKKEEPING);
    const saved = await readState(control, connector.name);
    const publication = await ensurePublication(control, connector, saved?.publicationManaged ?? false);
    if (publication.created || publication.added.length > 0 || publication.rootedPartitions) {
      logger.info(publication, `publication ${connector.source.publication} ${publication.created ? 'created' : 'updated'}`);
    }
    producer = await startProducerThread(connector.kafka, logger.level);
    const codecs = new TableCodecs(connector, control, options.registry, logger, publication.generatedColumns);
    await codecs.ensureTopics(createKafka(connector.kafka, logger));
    const sender = new MessageSender(producer, {
      onAcknowledged: (table, op, events) => metrics.events.inc({ table, op }, events),
      onBytesAcknowledged: (bytes) => metrics.bytes.inc(bytes),
    });

    // Snapshot (initial, on a new slot).
    const { book, startLsn } = await openSlot({ connector, control, saved, publicationCreated: publication.created, codecs, sender, metrics, logger });
    if (options.snapshotOnly) {
      await closeConnections();
      return finishedWorker(startLsn);
    }

    // Stream, with incremental snapshots of the tables still pending.
    const snapshots = new IncrementalSnapshots(connector.name, control, codecs, sender, metrics, logger);
    const handler = new ChangeStreamHandler(connector.name, startLsn, codecs, sender, snapshots);
    let lastMessageAt = Date.now();
    let acks: AckClock = { durableLsn: startLsn, at: Date.now() };
    const observeDurable = () => {
      acks = observeAcks(acks, handler.tracker.durableLsn, handler.tracker.inFlight, Date.now());
      return acks.durableLsn;
    };
    const skipOriginChanges = options.skipOriginChanges ?? Object.keys(connector.rollout.reverse).length > 0;
    const warnOriginChangesCaptured = (version: number) =>
      logger.warn(
        { serverVersionNum: version, slot: connector.source.slot },
        `PostgreSQL ${Math.floor(version / 10000)} cannot leave out the changes tandem's translate applied (pgoutput's origin option needs 16): slot ${connector.source.slot} captures them too, so never run this capture while reverse sync applies into ${describeUrl(connector.source.url)}`,
      );
    const stream = startReplicationStream({
      url: connector.source.url,
      slot: connector.source.slot,
      publication: connector.source.publication,
      startLsn,
      durableLsn: () => {
        const durable = observeDurable();
        metrics.durableLsn.set(Number(durable));
        return durable;
      },
      onMessage: (lsn, message) => {
        lastMessageAt = Date.now();
        return handler.handle(lsn, message);
      },
      skipOriginChanges: skipOriginChanges ? warnOriginChangesCaptured : null,
    });
    logger.info({ slot: connector.source.slot, startLsn: formatLsn(startLsn) }, `streaming changes from slot ${connector.source.slot}`);
    const incremental = snapshots.finishPending(connector, book);

    // Heartbeats and health.
    const heartbeat = startHeartbeat({
      control,
      slot: connector.source.slot,
      intervalMs: connector.capture.heartbeatIntervalMs,
      logger,
      onBeat: (lagBytes) => {
        if (lagBytes !== null) metrics.slotLagBytes.set(lagBytes);
        metrics.slotLagSeconds.set(slotLagSeconds(Date.now(), handler.lastCommitTimeMs, handler.tracker.inFlight));
      },
    });
    let stopping = false;
    const stopEverything = async () => {
      heartbeat.stop();
      await stream.stop().catch(() => undefined);
      await closeConnections();
    };
    // Ends with the stream; a finished incremental snapshot keeps it streaming, a failed one stops it.
    const done = Promise.race([stream.done, incremental.then(() => new Promise<never>(() => undefined))]).then(stopEverything, async (error: unknown) => {
      metrics.errors.inc({ kind: error instanceof TandemError ? 'fatal' : 'stream' });
      await stopEverything();
      if (!stopping) throw error;
    });
    // Callers may look at `done` only later (after stop(), or when polling health): not an unhandled rejection.
    done.catch(() => undefined);
    return {
      done,
      durableLsn: () => handler.tracker.durableLsn,
      health: (stallAfterMs) => {
        observeDurable();
        return assessHealth({ now: Date.now(), lastMessageAt, acks, inFlightTransactions: handler.tracker.inFlight, stallAfterMs });
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

/** The worker of a snapshot-only run: the snapshot is complete and nothing streams. */
function finishedWorker(durable: Lsn): CaptureWorker {
  return {
    done: Promise.resolve(),
    durableLsn: () => durable,
    health: () => ({ healthy: true, idleMs: 0, unacknowledgedMs: 0, inFlightTransactions: 0, durableLsn: formatLsn(durable) }),
    stop: async () => undefined,
  };
}
