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
 * The forward pipeline may keep running beside it: each translate marks what it applies with its
 * replication origin (`tandem_<name>` into new, `tandem_<name>_reverse` into legacy) and each capture
 * streams with pgoutput's `origin 'none'` (the forward one because the connector declares
 * rollout.reverse), so a write is carried across once and never echoed back.
 * That option needs PostgreSQL 16 on both databases; on an older one, start() refuses while the
 * forward capture's slot is active, since the two captures would pass every write back and forth.
 */
import type pg from 'pg';
import { startCapture, type CaptureWorker } from '../capture/worker.js';
import { parseConnector, type Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { createCaptureMetrics } from '../observability/metrics.js';
import { createRegistryClient } from '../schema/registry-client.js';
import { createTranslateMetrics } from '../translate/metrics.js';
import { startTranslate, translateGroupId, type TranslateWorker } from '../translate/worker.js';
import { ORIGIN_OPTION_MIN_VERSION } from '../capture/pgoutput-plugin.js';
import { connectClient, describeUrl } from '../pg/connect.js';
import { kafkaEndOffsets, translateProbe } from '../reconcile/cut.js';
import { withClients } from '../reconcile/run.js';
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
    private readonly forward: Connector,
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
    await this.refuseEchoBelowPostgres16();
    const capture = await startCapture(this.reverse, { logger: this.logger.child({ pipeline: 'reverse capture' }), metrics: createCaptureMetrics(), registry: createRegistryClient(this.reverse.registry), skipOriginChanges: true });
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

  /**
   * Below PostgreSQL 16 capture cannot leave out what translate applied, so reverse and forward
   * capture together would echo every write between the databases (and an echo arriving late
   * overwrites a newer value). Refuses while the forward capture's slot is active.
   */
  private async refuseEchoBelowPostgres16(): Promise<void> {
    await withClients(this.forward, async (legacy, fresh) => {
      const version = async (client: pg.Client) => Number((await client.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version_num'])).rows[0]!.v);
      const old = [
        { url: this.forward.source.url, version: await version(legacy) },
        { url: this.forward.target.url, version: await version(fresh) },
      ].filter((db) => db.version < ORIGIN_OPTION_MIN_VERSION);
      if (old.length === 0) return;
      const slot = this.forward.source.slot;
      const { rows } = await legacy.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      const where = old.map((db) => `${describeUrl(db.url)} runs PostgreSQL ${Math.floor(db.version / 10000)}`).join(', ');
      if (rows[0]?.active) {
        throw new TandemError(`reverse sync of ${this.forward.name} cannot run beside the forward capture (slot ${slot} is active): ${where}, and capture leaves out tandem's own changes only from PostgreSQL 16 on, so every write would echo between legacy and new`, {
          fix: `stop the forward capture and translate of ${this.forward.name} (writes go to new now), then start reverse sync again; or upgrade both databases to PostgreSQL 16 or later`,
        });
      }
      this.logger.warn({ slot }, `reverse sync of ${this.forward.name} on older PostgreSQL (${where}): do not start the forward capture (slot ${slot}) while it runs, or every write echoes between legacy and new`);
    });
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

  /** Everything written to new so far: capture had Kafka acknowledge it, and translate consumed every reverse partition to its end. */
  private async drain(): Promise<void> {
    const source = await connectClient(this.reverse.source.url, 'new');
    const { rows } = await source.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn').finally(() => source.end().catch(() => undefined));
    const probe = translateProbe(this.reverse, { logger: this.logger, endOffsets: kafkaEndOffsets(this.reverse, this.logger), groupId: translateGroupId(this.reverse), pollMs: 100 });
    const behind = await probe.behind(rows[0]!.lsn, this.drainTimeoutMs);
    if (behind.length > 0) {
      throw new TandemError(`reverse sync of ${this.reverse.name} did not drain within ${this.drainTimeoutMs / 1000} s: still behind in ${behind.join(', ')}`, { fix: 'check the reverse capture and translate in the log; legacy may miss the latest writes made on new' });
    }
  }
}
