/**
 * Reverse sync as "the same machinery with source and target swapped": capture on the new tables
 * that have a reverse mapping → Kafka (`<topicPrefix>.reverse.*`) → translate through the reverse
 * mappings (SQL over the new row) into the legacy tables.
 *
 * The reverse capture starts with an initial snapshot of the new tables: whatever was written to new
 * between the cutover's commit and the slot's creation is in the snapshot, everything after it in
 * the stream, so legacy misses nothing. stop() drains first: it waits until capture has had Kafka
 * acknowledge everything up to the WAL position at the time of the stop, and translate has applied
 * every event of the reverse topics, so a rollback loses none of the writes made on new.
 *
 * While it runs, the forward pipeline (capture on legacy) must not run: writes go to new only, and
 * forward capture would send the reverse writes back (`tandem rollout watch` says so in its log).
 */
import pg from 'pg';
import { startCapture, type CaptureWorker } from '../capture/worker.js';
import { parseConnector, type Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { topicFor } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { createCaptureMetrics } from '../observability/metrics.js';
import { createRegistryClient } from '../schema/registry-client.js';
import { createTranslateMetrics } from '../translate/metrics.js';
import { startTranslate, translateGroupId, type TranslateWorker } from '../translate/worker.js';
import type { ReverseSync } from './reverse-sync.js';

/** The connector of the reverse direction: new → legacy through rollout.reverse. */
export function reverseConnector(connector: Connector): Connector {
  const reverse = connector.rollout.reverse;
  const tables = Object.keys(reverse).map((table) => (table.includes('.') ? table : `${connector.target.schema}.${table}`));
  if (tables.length === 0) {
    throw new TandemError(`connector ${connector.name} declares no reverse mappings (rollout.reverse)`, { fix: 'declare, per new table, the legacy table and its columns as SQL over the new row' });
  }
  const name = `${connector.name}-reverse`;
  const slot = `tandem_${connector.name.replace(/-/g, '_')}_reverse`;
  return parseConnector(
    {
      name,
      source: { url: connector.target.url, schema: connector.target.schema, tables, publication: slot, slot },
      kafka: { ...connector.kafka, topicPrefix: `${connector.kafka.topicPrefix}.reverse` },
      registry: connector.registry,
      target: { url: connector.source.url, schema: connector.source.schema },
      mappings: Object.fromEntries(Object.entries(reverse).map(([table, mapping]) => [table.includes('.') ? table : `${connector.target.schema}.${table}`, mapping])),
      translate: { ...connector.translate, groupId: `${translateGroupId(connector)}-reverse`, metricsPort: 0 },
      capture: { ...connector.capture, snapshot: 'initial', heartbeatIntervalMs: Math.min(connector.capture.heartbeatIntervalMs, 1_000), metricsPort: 0 },
    },
    `${connector.name}: rollout.reverse`,
  );
}

export class PipelineReverseSync implements ReverseSync {
  private capture: CaptureWorker | null = null;
  private translate: TranslateWorker | null = null;
  private readonly reverse: Connector;

  constructor(
    forward: Connector,
    private readonly logger: Logger,
    private readonly drainTimeoutMs = 120_000,
  ) {
    this.reverse = reverseConnector(forward);
  }

  get running(): boolean {
    return this.capture !== null && this.translate !== null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const capture = await startCapture(this.reverse, { logger: this.logger.child({ pipeline: 'reverse capture' }), metrics: createCaptureMetrics(), registry: createRegistryClient(this.reverse.registry) });
    let translate: TranslateWorker;
    try {
      translate = await startTranslate(this.reverse, { logger: this.logger.child({ pipeline: 'reverse translate' }), metrics: createTranslateMetrics() });
    } catch (error) {
      await capture.stop().catch(() => undefined);
      throw error;
    }
    this.capture = capture;
    this.translate = translate;
    const lost = (part: string) => (error: unknown) => {
      this.logger.error({ err: error }, `reverse sync ${part} stopped: ${(error as Error).message}`);
      void this.halt();
    };
    capture.done.catch(lost('capture'));
    translate.done.catch(lost('translate'));
  }

  /** Stops after everything written to new so far is in legacy. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.drain();
    await this.halt();
  }

  async close(): Promise<void> {
    await this.halt();
  }

  private async halt(): Promise<void> {
    const { capture, translate } = this;
    this.capture = null;
    this.translate = null;
    await translate?.stop().catch(() => undefined);
    await capture?.stop().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    const deadline = Date.now() + this.drainTimeoutMs;
    const waitFor = async (what: string, done: () => Promise<boolean>) => {
      while (!(await done())) {
        if (Date.now() > deadline) throw new TandemError(`reverse sync of ${this.reverse.name} did not drain within ${this.drainTimeoutMs / 1000} s: ${what}`, { fix: 'check the reverse capture and translate in the log; legacy may miss the latest writes made on new' });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const source = new pg.Client({ connectionString: this.reverse.source.url });
    const target = new pg.Client({ connectionString: this.reverse.target.url });
    await source.connect();
    await target.connect();
    const admin = createKafka(this.reverse.kafka, this.logger).admin();
    await admin.connect();
    try {
      const { rows } = await source.query<{ lsn: string }>("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn");
      const stopLsn = BigInt(rows[0]!.lsn);
      await waitFor('capture has not had Kafka acknowledge the latest changes', async () => (this.capture?.durableLsn() ?? 0n) >= stopLsn);
      const topics = this.reverse.source.tables.map((table) => topicFor(this.reverse.kafka.topicPrefix, table));
      const ends = new Map<string, bigint>();
      for (const topic of topics) for (const partition of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${partition.partition}`, BigInt(partition.high));
      await waitFor('translate has not applied every reverse event', async () => {
        const { rows: offsets } = await target.query<{ topic: string; partition: number; next_offset: string }>('SELECT topic, partition, next_offset::text FROM tandem.translate_offsets WHERE group_id = $1', [translateGroupId(this.reverse)]);
        const applied = new Map(offsets.map((row) => [`${row.topic}/${row.partition}`, BigInt(row.next_offset)]));
        return [...ends].every(([partition, end]) => end === 0n || (applied.get(partition) ?? 0n) >= end);
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
      await Promise.all([source.end(), target.end()]);
    }
  }
}
