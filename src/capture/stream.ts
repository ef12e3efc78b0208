import type pg from 'pg';
import { LogicalReplicationService, type Pgoutput } from 'pg-logical-replication';
import { SOURCE_SESSION_OPTIONS } from '../pg/connect.js';
import { formatLsn, parseLsn, type Lsn } from '../pg/lsn.js';
import { CapturePgoutputPlugin } from './pgoutput-plugin.js';

export type PgoutputMessage = Pgoutput.Message;

export interface ReplicationStreamOptions {
  url: string;
  slot: string;
  publication: string;
  /** Where to resume: the LSN persisted as durable (never the last *received* one). */
  startLsn: Lsn;
  /** The LSN that may be confirmed right now: only what Kafka acknowledged. */
  durableLsn: () => Lsn;
  /** Handles one message; a returned promise pauses reading until it settles (backpressure). */
  onMessage: (lsn: Lsn, message: PgoutputMessage) => Promise<void> | void;
  /**
   * Leave out the changes applied under a replication origin (tandem's translate, in either
   * direction), or null to stream every change. Called instead on a server older than PostgreSQL
   * 16, which cannot leave them out (pgoutput's `origin` option): they are captured like any other.
   */
  skipOriginChanges: ((unavailableOnServerVersionNum: number) => void) | null;
}

/** How often a standby status update reports the durable LSN. */
const STATUS_INTERVAL_MS = 1000;

export interface ReplicationStream {
  /** Resolves when the stream ends: stopped, or failed (rejects). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Streams a slot with pg-logical-replication, avoiding its traps: no auto-acknowledge (it would
 * confirm LSNs before Kafka acknowledged them, even mid-transaction), no periodic acknowledge of the
 * last *received* LSN, and resubscription from the LSN we pass rather than the last one received.
 * Keepalives and status updates always report the durable LSN.
 */
export function startReplicationStream(options: ReplicationStreamOptions): ReplicationStream {
  const service = new LogicalReplicationService({ connectionString: options.url, options: SOURCE_SESSION_OPTIONS } as pg.ClientConfig, {
    acknowledge: { auto: false, timeoutSeconds: 0 },
    flowControl: { enabled: true },
  });
  const plugin = new CapturePgoutputPlugin(options.publication, options.skipOriginChanges);
  let stopped = false;
  let failure: Error | null = null;
  let confirmed = -1n;

  const confirm = (force: boolean) => {
    const durable = options.durableLsn();
    if (!force && durable === confirmed) return;
    confirmed = durable;
    void service.acknowledge(formatLsn(durable)).catch(() => undefined);
  };

  let rejectDone: (error: Error) => void = () => undefined;
  const failed = new Promise<void>((_, reject) => (rejectDone = reject));
  failed.catch(() => undefined);
  // The library's subscribe() promise may never settle when stopped before replication started.
  let resolveStopped: () => void = () => undefined;
  const stoppedByUs = new Promise<void>((resolve) => (resolveStopped = resolve));

  service.on('data', async (lsn: string, message: PgoutputMessage) => {
    // The library keeps delivering queued messages after a handler failed: ignore them.
    if (failure || stopped) return;
    try {
      await options.onMessage(parseLsn(lsn), message);
    } catch (error) {
      failure = error as Error;
      // Confirm what Kafka did acknowledge, so a restart does not replay it.
      confirm(true);
      rejectDone(failure);
      await service.stop().catch(() => undefined);
    }
  });
  service.on('heartbeat', (_lsn: string, _timestamp: number, shouldRespond: boolean) => {
    if (shouldRespond) confirm(true);
  });
  service.on('error', (error: Error) => {
    if (stopped || failure) return;
    failure = error;
    rejectDone(error);
  });

  const timer = setInterval(() => confirm(false), STATUS_INTERVAL_MS);
  timer.unref();

  const subscribed = service.subscribe(plugin, options.slot, formatLsn(options.startLsn)).then(() => {
    if (!stopped && !failure) throw new Error('the replication connection closed');
  });
  const done = Promise.race([subscribed, failed, stoppedByUs]).finally(() => clearInterval(timer));
  return {
    done,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // A last status update so the slot reflects everything acknowledged.
      confirm(true);
      await service.stop();
      resolveStopped();
      await done.catch(() => undefined);
    },
  };
}
