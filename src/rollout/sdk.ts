/**
 * The Node SDK services use to ask which schema to read and write:
 *
 *   const gates = await createGateClient({ connectionString, migration: 'customers' });
 *   gates.readFrom(tenantId)  // 'legacy' | 'new', decided locally
 *   gates.writeTo()
 *   gates.reportError('timeout')
 *
 * Decisions are local (no round trip per call); the gate values come from `tandem.rollout_state`
 * and follow every change through LISTEN/NOTIFY. When the control plane is unreachable the client
 * keeps the last known state (legacy before the first), logs a warning and reconnects. Decisions
 * and reported errors are counted and flushed to `tandem.rollout_traffic`, where they are the
 * error-rate evidence of the rollout criteria and triggers.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { createLogger, type Logger } from '../observability/logger.js';
import { bucketer } from './bucketing.js';
import type { GateSnapshot } from './flags.js';
import { describeReadNew } from './plan.js';
import { loadState, notification, recordTraffic, ROLLOUT_CHANNEL, type TrafficCount } from './store.js';

export type Side = 'legacy' | 'new';

export interface GateClientOptions {
  /** The target database, where tandem keeps the rollout state. */
  connectionString: string;
  /** The migration (connector name). */
  migration: string;
  logger?: Logger;
  /** Names this service in the traffic table (default host:pid). */
  clientId?: string;
  /** This service's name: a phase that lists it in readNewServices sends its every read to new. */
  service?: string;
  /** How often counts are flushed and the connection checked (default 5 s). */
  flushIntervalMs?: number;
}

export interface GateClient {
  /** Where this key (tenant, user: the rollout's stickiness key) reads from, for this service (default: the client's `service`). */
  readFrom(key: string, service?: string): Side;
  writeTo(): Side;
  /** Counts an error a service saw (on `side`, default new): the rollout's error-rate evidence. */
  reportError(kind: string, side?: Side): void;
  /** The gate values in use (null before any state was read: legacy everywhere). */
  readonly snapshot: GateSnapshot | null;
  readonly connected: boolean;
  /** The name this service gave (GateClientOptions.service). */
  readonly service: string | undefined;
  /** Called after every change of the gate values. */
  onChange(listener: (snapshot: GateSnapshot) => void): () => void;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 5_000;

class PostgresGateClient implements GateClient {
  snapshot: GateSnapshot | null = null;
  connected = false;
  private client: pg.Client | null = null;
  private readonly listeners = new Set<(snapshot: GateSnapshot) => void>();
  private decisionsNew = 0;
  private decisionsLegacy = 0;
  private errors = new Map<string, number>();
  private flushTimer: NodeJS.Timeout;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = 100;
  private bucket: (key: string) => number = bucketer('');
  private closed = false;
  private warnedNoState = false;
  private readonly logger: Logger;
  private readonly clientId: string;

  constructor(private readonly options: GateClientOptions) {
    this.logger = options.logger ?? createLogger({ name: 'tandem-gates' });
    this.clientId = options.clientId ?? `${hostname()}:${process.pid}`;
    this.flushTimer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 5_000);
    this.flushTimer.unref();
  }

  get service(): string | undefined {
    return this.options.service;
  }

  readFrom(key: string, service = this.options.service): Side {
    const snapshot = this.snapshot;
    // A named service reads new; 0% and 100% need no hash; in between, the bucket of `groupId:key` (the group's prefix hashed once).
    const named = snapshot !== null && service !== undefined && snapshot.readNewServices.includes(service);
    if (named || (snapshot !== null && snapshot.readNew > 0 && (snapshot.readNew >= 100 || this.bucket(key) <= snapshot.readNew))) {
      this.decisionsNew += 1;
      return 'new';
    }
    this.decisionsLegacy += 1;
    return 'legacy';
  }

  writeTo(): Side {
    return this.snapshot?.write ?? 'legacy';
  }

  reportError(kind: string, side: Side = 'new'): void {
    const name = `${side}\u0000${kind}`;
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
  }

  onChange(listener: (snapshot: GateSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.options.connectionString, connectionTimeoutMillis: 5_000, keepAlive: true });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    client.on('notification', (message) => {
      if (message.channel !== ROLLOUT_CHANNEL || !message.payload) return;
      try {
        const payload = JSON.parse(message.payload) as GateSnapshot;
        if (payload.migration === this.options.migration) this.adopt(payload);
      } catch (error) {
        this.logger.warn({ err: error }, 'ignoring a malformed rollout notification');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ROLLOUT_CHANNEL}`);
      this.client = client;
      await this.load();
      if (!this.connected && this.reconnectDelay > 100) this.logger.info({ migration: this.options.migration }, `rollout control plane reachable again; gates of ${this.options.migration} follow it`);
      this.connected = true;
      this.reconnectDelay = 100;
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  private async load(): Promise<void> {
    try {
      const state = await loadState(this.client!, this.options.migration);
      if (state) {
        this.adopt(notification(state));
        return;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== '42P01') throw error;
    }
    if (!this.warnedNoState) {
      this.warnedNoState = true;
      this.logger.warn({ migration: this.options.migration }, `migration ${this.options.migration} has no rollout state yet; reading and writing legacy until it has`);
    }
  }

  private adopt(snapshot: GateSnapshot): void {
    if (this.snapshot && snapshot.version <= this.snapshot.version) return;
    if (this.snapshot?.groupId !== snapshot.groupId) this.bucket = bucketer(snapshot.groupId);
    // A control plane older than named services sends none.
    this.snapshot = Object.freeze({ ...snapshot, readNewServices: snapshot.readNewServices ?? [] });
    for (const listener of this.listeners) listener(this.snapshot);
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== null && this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed) return;
    if (this.connected || this.reconnectDelay === 100) {
      const known = this.snapshot ? `phase ${this.snapshot.phase}, ${describeReadNew(this.snapshot)}, writes to ${this.snapshot.write} (version ${this.snapshot.version})` : 'none yet: legacy everywhere';
      this.logger.warn({ migration: this.options.migration, err: error }, `rollout control plane unreachable (${error.message}); keeping the last known gates of ${this.options.migration}: ${known}`);
    }
    this.connected = false;
    if (this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_RECONNECT_DELAY_MS);
  }

  /** Writes the counts since the last flush; on failure they are kept for the next one. */
  async flush(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const counts: TrafficCount[] = [];
    if (this.decisionsNew > 0) counts.push({ side: 'new', kind: 'decision', count: this.decisionsNew });
    if (this.decisionsLegacy > 0) counts.push({ side: 'legacy', kind: 'decision', count: this.decisionsLegacy });
    for (const [name, count] of this.errors) {
      const [side, kind] = name.split('\u0000') as [Side, string];
      counts.push({ side, kind, count });
    }
    this.decisionsNew = 0;
    this.decisionsLegacy = 0;
    this.errors = new Map();
    try {
      if (counts.length > 0) await recordTraffic(client, this.options.migration, this.clientId, new Date(Math.floor(Date.now() / 60_000) * 60_000), counts);
      else await client.query('SELECT 1');
    } catch (error) {
      for (const count of counts) {
        if (count.kind === 'decision') {
          if (count.side === 'new') this.decisionsNew += count.count;
          else this.decisionsLegacy += count.count;
        } else this.reportErrors(count);
      }
      if ((error as { code?: string }).code !== '42P01') this.lost(client, error as Error);
    }
  }

  private reportErrors(count: TrafficCount): void {
    const name = `${count.side}\u0000${count.kind}`;
    this.errors.set(name, (this.errors.get(name) ?? 0) + count.count);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * Connects to the control plane and reads the migration's gates. Resolves also when the control
 * plane is unreachable (decisions are then legacy, with a warning) and keeps reconnecting.
 */
export async function createGateClient(options: GateClientOptions): Promise<GateClient> {
  const client = new PostgresGateClient(options);
  await client.connect();
  return client;
}
