import type { Logger } from '../../observability/logger.js';
import { TandemError } from '../../errors.js';

/** When appended data is forced to disk; see the main README.md ("Durability"). */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface BrokerTestHooks {
  /**
   * Return true to close the connection instead of sending this response (the request has been
   * fully processed). Used to prove that a retrying idempotent producer creates no duplicates.
   */
  dropResponse?: (apiKey: number, request: unknown) => boolean;
  /**
   * Milliseconds to hold this response back (the request has been processed; order is kept). Makes
   * a slow broker, so tests can prove that clients never count on what Kafka has not acknowledged.
   */
  delayResponseMs?: (apiKey: number) => number;
}

export interface BrokerOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  host?: string;
  dataDir: string;
  /** `user:pass`: require SASL/PLAIN with these credentials. */
  saslPlain?: string;
  autoCreateTopics?: boolean;
  defaultPartitions?: number;
  /** Largest record batch accepted by Produce. */
  maxMessageBytes?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** A partition rolls to a new segment file once the active one reaches this size. */
  segmentBytes?: number;
  logger?: Logger;
  testHooks?: BrokerTestHooks;
}

export interface ResolvedBrokerOptions {
  port: number;
  host: string;
  /** Host written into Metadata/FindCoordinator answers (a wildcard bind is not dialable). */
  advertisedHost: string;
  dataDir: string;
  sasl: { username: string; password: string } | null;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  maxMessageBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  segmentBytes: number;
  /** Largest request frame read from a socket; bigger length prefixes close the connection. */
  maxFrameBytes: number;
  testHooks: BrokerTestHooks;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588; // Apache Kafka's message.max.bytes
const MIN_FRAME_CAP = 100 * 1024 * 1024; // Apache Kafka's socket.request.max.bytes

/** Validates options once, at the edge, so the rest of the broker works with plain values. */
export function resolveBrokerOptions(options: BrokerOptions): ResolvedBrokerOptions {
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  requireInteger('port', options.port, 0, 65_535);
  requireInteger('max message bytes', maxMessageBytes, 1, 1024 * 1024 * 1024);
  const defaultPartitions = options.defaultPartitions ?? 1;
  requireInteger('default partitions', defaultPartitions, 1, 10_000);
  const fsync = options.fsync ?? 'interval';
  if (!['always', 'interval', 'never'].includes(fsync)) {
    throw new TandemError(`Broker fsync policy "${fsync}" is not known.`, {
      fix: 'Use --fsync always, --fsync interval or --fsync never.',
    });
  }
  const fsyncIntervalMs = options.fsyncIntervalMs ?? 1000;
  requireInteger('fsync interval', fsyncIntervalMs, 1, 3_600_000);
  const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  requireInteger('segment bytes', segmentBytes, 1024, 2 ** 31 - 1);
  if (!options.dataDir) {
    throw new TandemError('The broker needs a data directory.', { fix: 'Pass --data-dir DIR.' });
  }
  return {
    port: options.port,
    host,
    advertisedHost: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
    dataDir: options.dataDir,
    sasl: options.saslPlain === undefined ? null : parseSaslPlain(options.saslPlain),
    autoCreateTopics: options.autoCreateTopics ?? false,
    defaultPartitions,
    maxMessageBytes,
    fsync,
    fsyncIntervalMs,
    segmentBytes,
    maxFrameBytes: Math.max(MIN_FRAME_CAP, maxMessageBytes * 2),
    testHooks: options.testHooks ?? {},
  };
}

function parseSaslPlain(value: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new TandemError('The broker SASL/PLAIN credentials must look like user:pass.', {
      fix: 'Pass --sasl-plain USER:PASSWORD with a non-empty user and password.',
    });
  }
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

function requireInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TandemError(`Broker ${what} ${value} is out of range.`, {
      fix: `Use a whole number from ${min} to ${max}.`,
    });
  }
}
