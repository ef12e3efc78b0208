/**
 * One reconcile run: compile the targets, open both databases at one cut, compare each table chunk
 * by chunk (bisect.ts; js() columns streamed over the same chunks and snapshots, js-columns.ts),
 * then, when the cut was not exact, settle and recheck the keys that differ so changes still in
 * flight are not reported as drift.
 */
import type { Connector } from '../config/index.js';
import { joinedSegmentQuery, type KeyOrdering, type ReconcileTargetSql } from '../mapping/reconcile-sql.js';
import type { Logger } from '../observability/logger.js';
import { connectClient } from '../pg/connect.js';
import { bisect, runPool } from './bisect.js';
import { planChunks } from './chunking.js';
import { PgSide, SnapshotPool, type SessionLimits } from './pg-side.js';
import { diffRows, type RowDifference } from './row-diff.js';
import type { Key, Segment } from './segment.js';
import { JsColumns, mergeDifferences } from './js-columns.js';
import { holdSnapshot, type HeldSnapshot } from './snapshot.js';
import { tablesAwaitingSnapshot, targetsAwaitingSnapshot } from './snapshot-progress.js';
import { compileTargets } from './targets.js';
import { topicFor } from '../kafka/topics.js';

export interface CutReport {
  /** exact: both sides at one WAL position, proven by translate's applied positions; settle: differing keys rechecked. */
  mode: 'exact' | 'settle';
  /** The source snapshot's WAL position. */
  sourceLsn: string;
  /** Why the cut is not exact, when it is not. */
  reason?: string;
  /** Exact cut: translate's applied position per partition at the target snapshot. */
  applied?: Record<string, string>;
  /** Settle: rounds run and the wait before each. */
  settleRounds?: number;
  settleWaitsMs?: number[];
}

/**
 * How far the pipeline (capture, then translate) is from a source position. Settle and recheck
 * uses it to compare the target only once translate has applied what the source snapshot holds.
 */
export interface TranslateProbe {
  /** A pipeline feeds the target: capture's slot exists and translate has stored positions for its group. */
  present(): Promise<boolean>;
  /**
   * Waits up to `waitMs` until capture had Kafka acknowledge through `lsn` and translate consumed
   * every partition to the end offsets read then. Returns what is still behind (empty: caught up).
   */
  behind(lsn: string, waitMs: number): Promise<string[]>;
}

/** Opens the source and target snapshots of a run. */
export interface CutStrategy {
  open(): Promise<{ source: HeldSnapshot; target: HeldSnapshot; cut: CutReport }>;
  /** When the strategy knows the pipeline: settle and recheck waits for translate with it. */
  probe?: TranslateProbe;
}

export interface TableReport {
  table: string;
  sources: string[];
  keyColumns: string[];
  columns: string[];
  notComparable: { column: string; reason: string }[];
  rowsCompared: number;
  chunks: number;
  chunking: 'sample' | 'scan';
  segmentsCompared: number;
  rowsFetched: number;
  missing: Key[];
  extra: Key[];
  different: RowDifference[];
  /** Keys that differed at the first comparison and matched when rechecked (changes in flight). */
  inFlightResolved: number;
  durationMs: number;
  /** Not compared: capture's snapshot of these source tables was still in progress at the cut. */
  awaitingSnapshot?: string[];
  /**
   * Not verified: keys still differed at the last recheck, but translate had not applied what that
   * recheck's source snapshot holds (these partitions were behind), so they may be in flight.
   */
  unverified?: { keys: number; behind: string[] };
}

export interface ReconcileResult {
  connector: string;
  direction: 'forward';
  startedAt: Date;
  finishedAt: Date;
  /** incomplete: no drift in what was verified, but some tables wait for capture's snapshot or for translate. */
  status: 'clean' | 'drift' | 'incomplete';
  cut: CutReport;
  rowsCompared: number;
  /** Rows that differ: missing + extra + different, over all tables. */
  drift: number;
  inFlightResolved: number;
  tables: TableReport[];
  /** The compiled tables (repair writes through them). */
  targets: readonly ReconcileTargetSql[];
}

export interface TableProgress {
  table: string;
  rowsCompared: number;
  estimatedRows: number;
  rowsPerSecond: number;
  /** Seconds left at the current rate, null when unknown. */
  etaSeconds: number | null;
  done: boolean;
}

export interface ReconcileOptions {
  tables?: readonly string[];
  logger: Logger;
  cut?: CutStrategy;
  onProgress?: (progress: TableProgress) => void;
  signal?: AbortSignal;
  /** Waits between settle rounds (tests pass a deterministic one). */
  sleep?: (ms: number) => Promise<void>;
}

export function limitsOf(connector: Connector): SessionLimits {
  return { statementTimeoutMs: connector.reconcile.statementTimeoutMs, lockTimeoutMs: connector.reconcile.lockTimeoutMs };
}

/** Both snapshots taken now, source first: the target is at least as new, and differences are settled and rechecked. */
export function settleCut(connector: Connector, reason = 'no cut requested'): CutStrategy {
  return {
    async open() {
      const limits = limitsOf(connector);
      const source = await holdSnapshot(connector.source.url, 'source', limits);
      try {
        const target = await holdSnapshot(connector.target.url, 'target', limits);
        return { source, target, cut: { mode: 'settle', sourceLsn: source.lsn, reason } };
      } catch (error) {
        await source.close();
        throw error;
      }
    },
  };
}

/** Text keys are compared in byte order on both sides when the databases' default collations differ. */
async function keyOrdering(source: HeldSnapshot, target: HeldSnapshot): Promise<KeyOrdering> {
  const query = 'SELECT datcollate FROM pg_database WHERE datname = current_database()';
  const [a, b] = await Promise.all([source.client.query<{ datcollate: string }>(query), target.client.query<{ datcollate: string }>(query)]);
  return { collateC: a.rows[0]!.datcollate !== b.rows[0]!.datcollate };
}

export async function runReconcile(connector: Connector, options: ReconcileOptions): Promise<ReconcileResult> {
  const settings = connector.reconcile;
  const { logger } = options;
  const startedAt = new Date();
  const limits = limitsOf(connector);
  // The target client is opened as translate opens its sessions (no options): js() casts use its settings.
  const { targets, js } = await withClients(connector, async (source, target) => {
    const compiled = await compileTargets(connector, source, target, options.tables);
    return { targets: compiled, js: await prepareJs(compiled, source, target) };
  });
  for (const target of targets) {
    for (const item of target.notComparable) logger.warn({ table: target.table, column: item.column }, `${target.table}.${item.column} is not compared: ${item.reason}`);
  }

  const { source, target, cut } = await (options.cut ?? settleCut(connector)).open();
  let ordering: KeyOrdering;
  let awaiting: Map<string, string[]>;
  try {
    ordering = await keyOrdering(source, target);
    // Read in the run's legacy snapshot: which tables capture had snapshotted in full at this cut.
    awaiting = targetsAwaitingSnapshot(targets, await tablesAwaitingSnapshot(source.client, connector));
  } catch (error) {
    await Promise.all([source.close(), target.close()]);
    throw error;
  }
  for (const [table, sources] of awaiting) logger.warn({ table, sources }, `${table} is not compared: capture's snapshot of ${sources.join(', ')} is still in progress`);
  let pools: { source: SnapshotPool; target: SnapshotPool };
  try {
    const sourcePool = await SnapshotPool.open('source', connector.source.url, source.snapshot, settings.parallelism, limits);
    const targetPool = await SnapshotPool.open('target', connector.target.url, target.snapshot, settings.parallelism, limits).catch(async (error: unknown) => {
      await sourcePool.close();
      throw error;
    });
    pools = { source: sourcePool, target: targetPool };
  } finally {
    // The pool's transactions hold the snapshots now.
    await Promise.all([source.close(), target.close()]);
  }
  logger.info({ cut }, `reconcile ${connector.name}: comparing ${targets.length} table(s) at source ${cut.sourceLsn} (${cut.mode} cut)`);

  // One database and one snapshot for both sides: a join per chunk is cheaper than two checksums.
  const joined = cut.mode === 'settle' && settings.joinSameDatabase && sameDatabase(connector.source.url, connector.target.url);
  const tables: TableReport[] = [];
  try {
    for (const table of targets) {
      const waitingFor = awaiting.get(table.table);
      tables.push(waitingFor ? notCompared(table, waitingFor) : await compareTable(table, ordering, pools, connector, options, joined, js.get(table.table) ?? null));
    }
  } finally {
    await Promise.all([pools.source.close(), pools.target.close()]);
  }

  if (cut.mode === 'settle' && tables.some((table) => differing(table).length > 0)) {
    await settle(connector, targets, tables, ordering, cut, options, js, options.cut?.probe);
  }
  const drift = tables.reduce((sum, table) => sum + differing(table).length, 0);
  return {
    connector: connector.name,
    direction: 'forward',
    startedAt,
    finishedAt: new Date(),
    status: drift > 0 ? 'drift' : tables.some((table) => table.awaitingSnapshot || table.unverified) ? 'incomplete' : 'clean',
    cut,
    rowsCompared: tables.reduce((sum, table) => sum + table.rowsCompared, 0),
    drift,
    inFlightResolved: tables.reduce((sum, table) => sum + table.inFlightResolved, 0),
    tables,
    targets,
  };
}

/** Same server and database (user and password aside). */
export function sameDatabase(a: string, b: string): boolean {
  const where = (url: string) => {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  };
  return where(a) === where(b);
}

/** The js() columns of each table that has some. */
export async function prepareJs(targets: readonly ReconcileTargetSql[], source: import('pg').ClientBase, plainTarget: import('pg').ClientBase): Promise<Map<string, JsColumns>> {
  const out = new Map<string, JsColumns>();
  for (const table of targets) {
    const js = await JsColumns.prepare(table, source, plainTarget);
    if (js) out.set(table.table, js);
  }
  return out;
}

async function compareTable(table: ReconcileTargetSql, ordering: KeyOrdering, pools: { source: SnapshotPool; target: SnapshotPool }, connector: Connector, options: ReconcileOptions, joined: boolean, js: JsColumns | null): Promise<TableReport> {
  const settings = connector.reconcile;
  const started = Date.now();
  const expected = new PgSide(pools.source, table, table.expected, ordering);
  const actual = new PgSide(pools.target, table, table.actual, ordering);
  const plan = await planChunks(table, ordering, pools, { expected, actual }, settings.chunkRows);
  options.logger.debug({ table: table.table, chunks: plan.chunks.length, method: plan.method }, `${table.table}: ${plan.chunks.length} chunks (${plan.method})`);
  const progress = (rowsCompared: number, done: boolean) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? rowsCompared / seconds : 0;
    const estimatedRows = Math.max(plan.estimatedRows, rowsCompared);
    options.onProgress?.({ table: table.table, rowsCompared, estimatedRows, rowsPerSecond: rate, etaSeconds: done ? 0 : rate > 0 ? (estimatedRows - rowsCompared) / rate : null, done });
  };
  const result = joined
    ? await compareJoined(plan.chunks, table, ordering, pools.source, expected, new PgSide(pools.source, table, table.actual, ordering), settings.parallelism, settings.bisectRows, options.signal, (rows) => progress(rows, false))
    : await bisect(plan.chunks, expected, actual, {
        columns: table.columns,
        bisectRows: settings.bisectRows,
        hashListRows: settings.hashListRows,
        factor: settings.bisectFactor,
        parallelism: settings.parallelism,
        signal: options.signal,
        onProgress: (state) => progress(state.rowsCompared, false),
      });
  let different = result.different;
  if (js) {
    // The same chunks and snapshots, streamed: the js() columns of each chunk's rows, merged by key.
    const found: RowDifference[] = [];
    const source = pools.source.jsRunner();
    const target = pools.target.jsRunner();
    await runPool(
      plan.chunks,
      async (chunk) => {
        found.push(...(await js.compareSegment(source, target, chunk, ordering)));
        return [];
      },
      settings.parallelism,
      options.signal,
    );
    different = mergeDifferences(different, found);
  }
  progress(result.rowsCompared, true);
  return {
    table: table.table,
    sources: [...table.sources],
    keyColumns: table.key.map((column) => column.name),
    columns: [...table.columns, ...(js?.columns ?? [])],
    notComparable: table.notComparable.map((item) => ({ ...item })),
    rowsCompared: result.rowsCompared,
    chunks: plan.chunks.length,
    chunking: plan.method,
    segmentsCompared: result.segmentsCompared,
    rowsFetched: result.rowsFetched,
    missing: result.missing,
    extra: result.extra,
    different,
    inFlightResolved: 0,
    durationMs: Date.now() - started,
  };
}

/** A table left out of the run because capture is still snapshotting a table that feeds it. */
function notCompared(table: ReconcileTargetSql, awaitingSnapshot: string[]): TableReport {
  return {
    table: table.table,
    sources: [...table.sources],
    keyColumns: table.key.map((column) => column.name),
    columns: [...table.columns],
    notComparable: table.notComparable.map((item) => ({ ...item })),
    rowsCompared: 0,
    chunks: 0,
    chunking: 'scan',
    segmentsCompared: 0,
    rowsFetched: 0,
    missing: [],
    extra: [],
    different: [],
    inFlightResolved: 0,
    durationMs: 0,
    awaitingSnapshot,
  };
}

/** Each chunk joined in one query (both sides in one database and snapshot); the differing rows then fetched by key. */
async function compareJoined(chunks: readonly Segment[], table: ReconcileTargetSql, ordering: KeyOrdering, pool: SnapshotPool, expected: PgSide, actual: PgSide, parallelism: number, batch: number, signal: AbortSignal | undefined, onProgress: (rows: number) => void) {
  const result = { rowsCompared: 0, missing: [] as Key[], extra: [] as Key[], different: [] as RowDifference[], segmentsCompared: 0, rowsFetched: 0 };
  await runPool(
    chunks,
    async (chunk) => {
      const [row] = await pool.query<{ n: string; d: [string, ...string[]][] }>(joinedSegmentQuery(table, ordering, chunk.lower, chunk.upper));
      result.segmentsCompared += 1;
      result.rowsCompared += Number(row!.n);
      const changed: Key[] = [];
      for (const [kind, ...key] of row!.d) (kind === 'missing' ? result.missing : kind === 'extra' ? result.extra : changed).push(key);
      for (let start = 0; start < changed.length; start += batch) {
        const keys = changed.slice(start, start + batch);
        const [want, got] = await Promise.all([expected.rowsByKey(keys), actual.rowsByKey(keys)]);
        result.rowsFetched += want.length + got.length;
        result.different.push(...diffRows(table.columns, want, got).different);
      }
      onProgress(result.rowsCompared);
      return [];
    },
    parallelism,
    signal,
  );
  return result;
}

export function differing(table: Pick<TableReport, 'missing' | 'extra' | 'different'>): Key[] {
  return [...table.missing, ...table.extra, ...table.different.map((item) => item.key)];
}

/**
 * Settle and recheck: the keys that differ are compared again in fresh snapshots after a wait
 * (doubling each round); those that now match were in flight. A key still differing after the last
 * round is drift, whether or not it keeps changing: constant churn cannot hide a real difference.
 */
async function settle(connector: Connector, targets: readonly ReconcileTargetSql[], tables: TableReport[], ordering: KeyOrdering, cut: CutReport, options: ReconcileOptions, js: ReadonlyMap<string, JsColumns>, probe: TranslateProbe | undefined): Promise<void> {
  const settings = connector.reconcile;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const initial = new Map(tables.map((table) => [table.table, differing(table).length]));
  cut.settleRounds = 0;
  cut.settleWaitsMs = [];
  // With a pipeline, a recheck reads the target once translate applied what its source snapshot
  // holds (waiting at most the round's time); without one, it rechecks after the round's time.
  const pipeline = probe && (await probe.present()) ? probe : null;
  let behind: string[] = [];
  for (let round = 1; round <= settings.settleRounds; round += 1) {
    const pending = tables.filter((table) => differing(table).length > 0);
    if (pending.length === 0) break;
    const wait = settings.settleDelayMs * 2 ** (round - 1);
    options.logger.info({ round, waitMs: wait, keys: pending.reduce((sum, table) => sum + differing(table).length, 0) }, `settle round ${round}: rechecking differing keys ${pipeline ? `once translate caught up (at most ${wait} ms)` : `after ${wait} ms`}`);
    if (!pipeline) await sleep(wait);
    cut.settleRounds = round;
    cut.settleWaitsMs.push(wait);
    const limits = limitsOf(connector);
    const source = await holdSnapshot(connector.source.url, 'source', limits);
    let target: HeldSnapshot;
    try {
      if (pipeline) behind = await pipeline.behind(source.lsn, wait);
      target = await holdSnapshot(connector.target.url, 'target', limits);
    } catch (error) {
      await source.close();
      throw error;
    }
    const sourcePool = await SnapshotPool.open('source', connector.source.url, source.snapshot, 1, limits).finally(() => source.close());
    const targetPool = await SnapshotPool.open('target', connector.target.url, target.snapshot, 1, limits).finally(() => target.close());
    try {
      for (const table of pending) {
        const sql = targets.find((item) => item.table === table.table)!;
        const keys = differing(table);
        const [want, got] = await Promise.all([new PgSide(sourcePool, sql, sql.expected, ordering).rowsByKey(keys), new PgSide(targetPool, sql, sql.actual, ordering).rowsByKey(keys)]);
        const diff = diffRows(sql.columns, want, got);
        let different = diff.different;
        const jsColumns = js.get(table.table);
        if (jsColumns) {
          for (let start = 0; start < keys.length; start += settings.bisectRows) {
            different = mergeDifferences(different, await jsColumns.compareKeys(sourcePool.jsRunner(), targetPool.jsRunner(), keys.slice(start, start + settings.bisectRows)));
          }
        }
        table.missing = diff.missing;
        table.extra = diff.extra;
        table.different = different;
      }
    } finally {
      await Promise.all([sourcePool.close(), targetPool.close()]);
    }
  }
  for (const table of tables) table.inFlightResolved = initial.get(table.table)! - differing(table).length;
  if (behind.length > 0) markUnverified(connector, tables, behind);
}

/** Tables whose keys still differ while translate was behind on a topic feeding them: not drift, not verified. */
function markUnverified(connector: Connector, tables: TableReport[], behind: readonly string[]): void {
  const captureBehind = behind.some((item) => item.startsWith('capture'));
  for (const table of tables) {
    const keys = differing(table).length;
    const fedBehind = captureBehind || table.sources.some((source) => behind.some((partition) => partition.startsWith(`${topicFor(connector.kafka.topicPrefix, source)}[`)));
    if (keys === 0 || !fedBehind) continue;
    table.unverified = { keys, behind: [...behind] };
    table.missing = [];
    table.extra = [];
    table.different = [];
  }
}

/** A plain connection to each database (not in a snapshot), closed after `work`. */
export async function withClients<T>(connector: Connector, work: (source: import('pg').Client, target: import('pg').Client) => Promise<T>): Promise<T> {
  const source = await connectClient(connector.source.url, 'source');
  try {
    const target = await connectClient(connector.target.url, 'target');
    try {
      return await work(source, target);
    } finally {
      await target.end().catch(() => undefined);
    }
  } finally {
    await source.end().catch(() => undefined);
  }
}

