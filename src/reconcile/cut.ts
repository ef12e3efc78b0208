/**
 * The exact consistent cut: the source read at a known WAL position C, and the target read when
 * translate has applied, in every partition, every change committed before C and none after.
 *
 * Protocol (bookkeeping tables in the target's `tandem` schema):
 *   1. reconcile inserts a cut in state `preparing`: from now on a translate batch waits before
 *      its transaction. Batches already past that point were fetched earlier, so they hold only
 *      changes committed before the cut's WAL position.
 *   2. reconcile takes the source snapshot at C (a temporary slot's consistent point) and opens the
 *      cut with C.
 *   3. translate asks `CutGate.enter()` before each batch's transaction: with a cut open it applies
 *      only the changes committed before C and, if it held any back, records `CutGate.hold()` for
 *      the partition in the same transaction, pauses the partition and resumes it when the cut is
 *      released or expires (the held changes are applied then).
 *   4. reconcile waits until capture has had Kafka acknowledge through C (slot confirmed_flush_lsn),
 *      reads each partition's end offset, and waits until every partition is complete through C:
 *      consumed to that end offset, or held at the cut.
 *   5. changes parked at the cut (their parent row was not there yet) committed before C: reconcile
 *      waits until each was retried after every partition reached the cut (applied, or parked for
 *      good: then it is drift at C).
 *   6. reconcile opens the target snapshot and proves the cut in it: every partition's applied
 *      position is before C. Then it releases the cut; translate goes on.
 * When translate does not get there in reconcile.cutTimeoutMs (not running, lagging, not wired),
 * the cut is abandoned, translate is released, and the run settles and rechecks instead.
 */
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { topicFor } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { migrate } from '../pg/bookkeeping/migrate.js';
import { RECONCILE_BOOKKEEPING } from '../pg/bookkeeping/reconcile.js';
import { tableExists } from '../pg/catalog.js';
import { connectClient } from '../pg/connect.js';
import { formatLsn, parseLsn } from '../pg/lsn.js';
import { limitsOf, withClients, type CutReport, type CutStrategy, type TranslateProbe } from './run.js';
import { holdSnapshot, holdSourceSnapshotAtLsn, type HeldSnapshot } from './snapshot.js';

// ─── translate's side ──────────────────────────────────────────────────────────────────────────

export interface OpenCut {
  id: string;
  /**
   * Apply only changes whose commit LSN is before this one. The source snapshot is a temporary
   * slot's, exported at its consistent point C: it holds the transactions whose commit record
   * starts before C, and the slot decodes those starting at C or later (a commit record can start
   * exactly at C, right after the record that made the slot consistent).
   */
  lsn: bigint;
}

/**
 * What translate calls for each batch. `enter`, before the batch's transaction begins (with the
 * batch's messages already fetched), returns the open cut — apply only changes committed before `lsn`
 * — or null; while reconcile prepares a cut it waits (outside any transaction, so it never holds
 * up the temporary slot reconcile is creating), at most until the cut expires. `hold`, inside the
 * transaction, records that this partition stopped at the cut.
 */
export class CutGate {
  private tableExists = false;

  constructor(
    private readonly connector: string,
    private readonly pollMs = 10,
  ) {}

  /**
   * `keepWaiting` runs at each poll while the cut is prepared (translate heartbeats its consumer
   * group there); when it says no, enter returns undefined: the batch is not applied now.
   */
  async enter(client: pg.ClientBase, keepWaiting: () => Promise<boolean> = async () => true): Promise<OpenCut | null | undefined> {
    if (!this.tableExists) {
      // Reconcile never ran against this target: no table, no cut.
      if (!(await tableExists(client, 'tandem.reconcile_cut'))) return null;
      this.tableExists = true;
    }
    for (;;) {
      const { rows } = await client.query<{ id: string; status: string; lsn: string | null }>(
        `SELECT cut.id::text AS id, cut.status, cut.source_lsn::text AS lsn FROM tandem.reconcile_cut AS cut
          WHERE cut.connector = $1 AND cut.status IN ('preparing', 'open') AND cut.expires_at > now() ORDER BY cut.id DESC LIMIT 1`,
        [this.connector],
      );
      const cut = rows[0];
      if (!cut) return null;
      if (cut.status === 'open' && cut.lsn) return { id: cut.id, lsn: parseLsn(cut.lsn) };
      if (!(await keepWaiting())) return undefined;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  async hold(client: pg.ClientBase, cut: OpenCut, topic: string, partition: number): Promise<void> {
    await client.query('INSERT INTO tandem.reconcile_cut_hold (cut_id, topic, partition) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [cut.id, topic, partition]);
  }

  /**
   * Waits (outside any transaction) until the cut is released, abandoned or expired: a partition
   * held at it is paused until then. Returns false when `cancelled` said to stop waiting.
   */
  async waitUntilClosed(client: pg.ClientBase, cut: OpenCut, cancelled: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      if (cancelled()) return false;
      const { rows } = await client.query<{ open: boolean }>(`SELECT status IN ('preparing', 'open') AND expires_at > now() AS open FROM tandem.reconcile_cut WHERE id = $1`, [cut.id]);
      if (!rows[0]?.open) return true;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }
}

// ─── reconcile's side ──────────────────────────────────────────────────────────────────────────

export interface PartitionEnd {
  topic: string;
  partition: number;
  /** The offset after the last message (Kafka's high watermark). */
  endOffset: bigint;
}

/** Where each partition of the connector's topics ends now (Kafka admin in production). */
export interface EndOffsets {
  read(topics: readonly string[]): Promise<PartitionEnd[]>;
}

export interface PartitionState {
  nextOffset: bigint;
  appliedLsn: bigint;
}

const partitionKey = (topic: string, partition: number) => `${topic}[${partition}]`;

/**
 * Whether translate stands exactly at the cut: each partition consumed to its end offset (read
 * after capture flushed through C, so every change committed before C is below it) or held at the cut,
 * and none applied past C.
 */
export function cutProgress(ends: readonly PartitionEnd[], applied: ReadonlyMap<string, PartitionState>, held: ReadonlySet<string>, cutLsn: bigint): { complete: boolean; waitingFor: string[]; beyond: string[] } {
  const waitingFor: string[] = [];
  const beyond: string[] = [];
  for (const end of ends) {
    const key = partitionKey(end.topic, end.partition);
    const state = applied.get(key);
    // A change committed at C itself is not in the source snapshot (its commit record starts at the
    // slot's consistent point, the first position the slot decodes): applied at C is past the cut.
    if (state && state.appliedLsn >= cutLsn) beyond.push(key);
    const consumed = end.endOffset === 0n || (state !== undefined && state.nextOffset >= end.endOffset);
    if (!consumed && !held.has(key)) waitingFor.push(key);
  }
  return { complete: waitingFor.length === 0 && beyond.length === 0, waitingFor, beyond };
}

async function readApplied(client: pg.ClientBase, groupId: string): Promise<Map<string, PartitionState>> {
  const { rows } = await client.query<{ topic: string; partition: number; next_offset: string; applied_lsn: string }>(
    'SELECT topic, partition, next_offset::text, applied_lsn::text FROM tandem.translate_offsets WHERE group_id = $1',
    [groupId],
  );
  return new Map(rows.map((row) => [partitionKey(row.topic, row.partition), { nextOffset: BigInt(row.next_offset), appliedLsn: BigInt(row.applied_lsn) }]));
}

/** Changes parked (waiting for a foreign-key parent) that committed before the cut: topic + key → retries so far. */
async function readParked(client: pg.ClientBase, topics: readonly string[], cutLsn: bigint): Promise<Map<string, number>> {
  const { rows } = await client.query<{ topic: string; key: string; attempts: number }>('SELECT topic, key, attempts FROM tandem.translate_parked WHERE topic = ANY($1::text[]) AND position_lsn < $2', [topics, cutLsn.toString()]);
  return new Map(rows.map((row) => [`${row.topic}\u0000${row.key}`, row.attempts]));
}

/**
 * Parked changes at the cut are in flight: their parent may have been applied by another partition
 * on its way to the cut. Each is waited for until it left the park or failed two more retries
 * (the second began after the first failure was seen, so after every partition reached the cut);
 * then what is still parked cannot be written at C and is drift. Returns how many are still awaited.
 */
export function parkedPending(atCut: ReadonlyMap<string, number>, now: ReadonlyMap<string, number>): number {
  let pending = 0;
  for (const [key, attempts] of atCut) {
    const current = now.get(key);
    if (current !== undefined && current < attempts + 2) pending += 1;
  }
  return pending;
}

/**
 * Waits until capture's slot confirmed `lsn` (Kafka acknowledged every change committed before it),
 * or the deadline passes. A committed logical message first, so that an idle source does not leave
 * the slot behind until capture's next heartbeat (best effort: it needs the REPLICATION privilege).
 */
async function waitForCaptureFlush(source: pg.ClientBase, slot: string, lsn: string, deadline: number, pollMs: number, logger: Logger): Promise<'flushed' | 'no slot' | 'timeout'> {
  await source.query(`SELECT pg_logical_emit_message(true, 'tandem.position', $1)`, [lsn]).catch((error: Error) => logger.debug({ err: error }, 'could not write a marker to the source WAL'));
  for (;;) {
    const { rows } = await source.query<{ flushed: boolean | null }>('SELECT confirmed_flush_lsn >= $2::pg_lsn AS flushed FROM pg_replication_slots WHERE slot_name = $1', [slot, lsn]);
    if (rows.length === 0) return 'no slot';
    if (rows[0]!.flushed) return 'flushed';
    if (Date.now() > deadline) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The pipeline's progress, from capture's slot, Kafka's end offsets and translate's stored positions. */
export function translateProbe(connector: Connector, options: ExactCutOptions): TranslateProbe {
  const pollMs = options.pollMs ?? 50;
  const topics = connector.source.tables.map((table) => topicFor(connector.kafka.topicPrefix, table));
  return {
    present: () =>
      withClients(connector, async (source, target) => {
        const { rows: slot } = await source.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [connector.source.slot]);
        return slot.length > 0 && (await tableExists(target, 'tandem.translate_offsets')) && (await readApplied(target, options.groupId)).size > 0;
      }),
    behind: (lsn, waitMs) =>
      withClients(connector, async (source, target) => {
        const deadline = Date.now() + waitMs;
        const flush = await waitForCaptureFlush(source, connector.source.slot, lsn, deadline, pollMs, options.logger);
        if (flush !== 'flushed') return [`capture (slot ${connector.source.slot}: ${flush === 'no slot' ? 'gone' : `Kafka has not acknowledged through ${lsn}`})`];
        const ends = await options.endOffsets.read(topics);
        for (;;) {
          // Consumed to the end offsets, whatever was applied since: nothing is held at a settle.
          const { waitingFor } = cutProgress(ends, await readApplied(target, options.groupId), new Set(), 1n << 64n);
          if (waitingFor.length === 0 || Date.now() > deadline) return waitingFor;
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
      }),
  };
}

async function readHeld(client: pg.ClientBase, cutId: string): Promise<Set<string>> {
  const { rows } = await client.query<{ topic: string; partition: number }>('SELECT topic, partition FROM tandem.reconcile_cut_hold WHERE cut_id = $1', [cutId]);
  return new Set(rows.map((row) => partitionKey(row.topic, row.partition)));
}

export interface ExactCutOptions {
  logger: Logger;
  endOffsets: EndOffsets;
  /** translate's consumer group (whose applied positions prove the cut). */
  groupId: string;
  /** Waits between looks at translate's progress (tests pass small ones). */
  pollMs?: number;
}

/** The exact cut when translate gets there in time; otherwise settle and recheck, with the reason. */
export function exactCut(connector: Connector, options: ExactCutOptions): CutStrategy {
  return {
    probe: translateProbe(connector, options),
    async open() {
      const limits = limitsOf(connector);
      const timeoutMs = connector.reconcile.cutTimeoutMs;
      const pollMs = options.pollMs ?? 50;
      const control = await connectClient(connector.target.url, 'target', { application_name: 'tandem reconcile cut' });
      let source: HeldSnapshot | null = null;
      let cutId: string | null = null;
      const close = async (status: 'released' | 'abandoned') => {
        if (cutId) await control.query(`UPDATE tandem.reconcile_cut SET status = $2, closed_at = now() WHERE id = $1`, [cutId, status]);
      };
      const settle = async (reason: string): Promise<{ source: HeldSnapshot; target: HeldSnapshot; cut: CutReport }> => {
        await close('abandoned');
        options.logger.warn({ reason }, `no exact cut (${reason}): reconcile settles and rechecks instead`);
        source ??= await holdSnapshot(connector.source.url, 'source', limits);
        const target = await holdSnapshot(connector.target.url, 'target', limits);
        return { source, target, cut: { mode: 'settle', sourceLsn: source.lsn, reason } };
      };
      try {
        await migrate(control, RECONCILE_BOOKKEEPING);
        if (!(await tableExists(control, 'tandem.translate_offsets'))) return await settle('translate has no bookkeeping in the target database (it never ran)');
        const { rows } = await control.query<{ id: string }>(`INSERT INTO tandem.reconcile_cut (connector, status, expires_at) VALUES ($1, 'preparing', now() + $2 * interval '1 millisecond') RETURNING id::text`, [connector.name, timeoutMs]);
        cutId = rows[0]!.id;
        try {
          // Half the cut's time for the slot: the other half is for translate to reach the cut.
          source = await holdSourceSnapshotAtLsn(connector.source.url, limits, Math.floor(timeoutMs / 2));
        } catch (error) {
          return await settle((error as Error).message);
        }
        const cutLsn = parseLsn(source.lsn);
        // The time taken by the slot does not shorten the cut: it expires cutTimeoutMs after it opens.
        await control.query(`UPDATE tandem.reconcile_cut SET status = 'open', source_lsn = $2::pg_lsn, expires_at = now() + $3 * interval '1 millisecond' WHERE id = $1`, [cutId, source.lsn, timeoutMs]);
        const deadline = Date.now() + timeoutMs;
        const sourceControl = await connectClient(connector.source.url, 'source');
        const flush = await waitForCaptureFlush(sourceControl, connector.source.slot, source.lsn, deadline, pollMs, options.logger).finally(() => sourceControl.end().catch(() => undefined));
        if (flush === 'no slot') return await settle(`capture's replication slot ${connector.source.slot} does not exist`);
        if (flush === 'timeout') return await settle(`capture did not have Kafka acknowledge through ${source.lsn} within ${timeoutMs} ms`);
        let ends: PartitionEnd[];
        const topics = connector.source.tables.map((table) => topicFor(connector.kafka.topicPrefix, table));
        try {
          ends = await options.endOffsets.read(topics);
        } catch (error) {
          return await settle(`the end offsets of the connector's topics could not be read from Kafka (${(error as Error).message})`);
        }
        let progress = cutProgress(ends, await readApplied(control, options.groupId), await readHeld(control, cutId), cutLsn);
        while (!progress.complete) {
          if (progress.beyond.length > 0) return await settle(`translate applied past the cut in ${progress.beyond.join(', ')} (it does not honour the cut barrier)`);
          if (Date.now() > deadline) return await settle(`translate did not reach the cut ${source.lsn} within ${timeoutMs} ms in ${progress.waitingFor.slice(0, 5).join(', ')}${progress.waitingFor.length > 5 ? ' …' : ''}`);
          await new Promise((resolve) => setTimeout(resolve, pollMs));
          progress = cutProgress(ends, await readApplied(control, options.groupId), await readHeld(control, cutId), cutLsn);
        }
        const parkedAtCut = await readParked(control, topics, cutLsn);
        for (;;) {
          const pending = parkedAtCut.size === 0 ? 0 : parkedPending(parkedAtCut, await readParked(control, topics, cutLsn));
          if (pending === 0) break;
          if (Date.now() > deadline) return await settle(`${pending} change(s) parked at the cut (waiting for a parent row) were not retried within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
        const target = await holdSnapshot(connector.target.url, 'target', limits);
        // The proof, read in the target snapshot itself: nothing past C is applied anywhere.
        const applied = await readApplied(target.client, options.groupId);
        const proof = cutProgress(ends, applied, await readHeld(target.client, cutId), cutLsn);
        if (!proof.complete) {
          await target.close();
          return await settle(`the target snapshot is not at the cut (${[...proof.beyond, ...proof.waitingFor].join(', ')})`);
        }
        await close('released');
        const positions = Object.fromEntries(ends.map((end) => [partitionKey(end.topic, end.partition), formatLsn(applied.get(partitionKey(end.topic, end.partition))?.appliedLsn ?? 0n)]));
        options.logger.info({ cut: source.lsn, applied: positions }, `exact cut at ${source.lsn}: translate held every partition at it`);
        return { source, target, cut: { mode: 'exact', sourceLsn: source.lsn, applied: positions } };
      } catch (error) {
        await close('abandoned').catch(() => undefined);
        await source?.close();
        throw error;
      } finally {
        await control.end().catch(() => undefined);
      }
    },
  };
}

/** End offsets from Kafka (the connector's brokers), through kafkajs admin. */
export function kafkaEndOffsets(connector: Connector, logger: Logger): EndOffsets {
  return {
    async read(topics) {
      const { createKafka } = await import('../kafka/client.js');
      const admin = createKafka(connector.kafka, logger).admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const out: PartitionEnd[] = [];
        for (const topic of topics.filter((name) => existing.has(name))) {
          for (const item of await admin.fetchTopicOffsets(topic)) out.push({ topic, partition: item.partition, endOffset: BigInt(item.high) });
        }
        return out;
      } finally {
        await admin.disconnect();
      }
    },
  };
}
