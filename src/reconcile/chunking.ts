/**
 * Chunks from the key distribution, not from min/max arithmetic: boundaries are actual keys, every
 * `chunkRows`-th in key order, so skewed integer keys, text, uuid and composite keys all give chunks
 * of about `chunkRows` rows. A large target table is sampled (TABLESAMPLE SYSTEM, a few dozen keys
 * per chunk) instead of read in full; otherwise one ordered pass over the keys of the larger side.
 */
import { sampledKeysQuery, type KeyOrdering, type ReconcileTargetSql } from '../mapping/reconcile-sql.js';
import type { PgSide, SnapshotPool } from './pg-side.js';
import { chunksFrom, type Key, type Segment } from './segment.js';

/** Keys sampled per chunk when sampling: enough for even chunks, few enough to read quickly. */
const SAMPLE_KEYS_PER_CHUNK = 32;
/**
 * Pages sampled per chunk at least. SYSTEM sampling picks whole pages, and a page holds keys that
 * were inserted together (often one key range): a handful of pages gives lopsided chunks, or no
 * key at all by chance.
 */
const SAMPLE_PAGES_PER_CHUNK = 4;
/** Below this many estimated rows the exact pass is cheap enough. */
const SAMPLE_FROM_ROWS = 200_000;

export interface ChunkPlan {
  chunks: Segment[];
  /** How the boundaries were found. */
  method: 'sample' | 'scan';
  estimatedRows: number;
}

/** `pg_class.reltuples` (-1 when never analysed) and `relpages` of a table. */
async function tableSize(pool: SnapshotPool, table: string): Promise<{ rows: number; pages: number }> {
  const [row] = await pool.query<{ rows: string | null; pages: string | null }>({ text: 'SELECT c.reltuples::bigint::text AS rows, c.relpages::text AS pages FROM pg_class c WHERE c.oid = to_regclass($1)', values: [table] });
  return { rows: Number(row?.rows ?? -1), pages: Number(row?.pages ?? 0) };
}

/** The TABLESAMPLE SYSTEM percentage for `chunks` chunks: enough keys and enough pages per chunk. */
export function samplePercent(size: { rows: number; pages: number }, chunks: number): number {
  const forKeys = (chunks * SAMPLE_KEYS_PER_CHUNK) / size.rows;
  const forPages = size.pages > 0 ? (chunks * SAMPLE_PAGES_PER_CHUNK) / size.pages : 1;
  return Math.min(100, 100 * Math.max(forKeys, forPages));
}

export async function planChunks(target: ReconcileTargetSql, ordering: KeyOrdering, pools: { source: SnapshotPool; target: SnapshotPool }, sides: { expected: PgSide; actual: PgSide }, chunkRows: number): Promise<ChunkPlan> {
  const targetSize = await tableSize(pools.target, target.table);
  const targetRows = targetSize.rows;
  const sourceRows = Math.max(-1, ...(await Promise.all(target.sources.map(async (table) => (await tableSize(pools.source, table)).rows))));
  if (targetRows >= SAMPLE_FROM_ROWS && targetRows * 2 >= sourceRows) {
    const chunks = Math.ceil(targetRows / chunkRows);
    const sample = await pools.target.query<string[]>(sampledKeysQuery(target.table, target.key, ordering, samplePercent(targetSize, chunks)), 'array');
    // A sample with fewer keys than chunks (statistics far off the table) falls through to the exact pass.
    if (sample.length >= chunks) return { chunks: chunksFrom(target.table, pickEvenly(sample, chunks)), method: 'sample', estimatedRows: targetRows };
  }
  // Small or never analysed: an exact pass over the keys of the target (its key index), unless the
  // target holds far fewer rows than the legacy side (a target being filled).
  const side = targetRows * 2 < sourceRows ? sides.expected : sides.actual;
  const boundaries = await side.chunkBoundaries(chunkRows);
  return { chunks: chunksFrom(target.table, boundaries), method: 'scan', estimatedRows: Math.max(targetRows, sourceRows) };
}

/** `parts - 1` keys splitting a sorted sample into `parts` runs of equal size. */
export function pickEvenly(sorted: readonly Key[], parts: number): Key[] {
  const out: Key[] = [];
  for (let part = 1; part < parts; part += 1) {
    const key = sorted[Math.floor((sorted.length * part) / parts)];
    if (key && (out.length === 0 || out.at(-1)!.join('\u0000') !== key.join('\u0000'))) out.push(key);
  }
  return out;
}
