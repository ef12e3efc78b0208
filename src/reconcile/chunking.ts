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
/** Below this many estimated rows the exact pass is cheap enough. */
const SAMPLE_FROM_ROWS = 200_000;

export interface ChunkPlan {
  chunks: Segment[];
  /** How the boundaries were found. */
  method: 'sample' | 'scan';
  estimatedRows: number;
}

/** `pg_class.reltuples` of a table (-1 when never analysed). */
export async function estimatedRows(pool: SnapshotPool, table: string): Promise<number> {
  const [row] = await pool.query<{ n: string | null }>({ text: 'SELECT c.reltuples::bigint::text AS n FROM pg_class c WHERE c.oid = to_regclass($1)', values: [table] });
  return Number(row?.n ?? -1);
}

export async function planChunks(target: ReconcileTargetSql, ordering: KeyOrdering, pools: { source: SnapshotPool; target: SnapshotPool }, sides: { expected: PgSide; actual: PgSide }, chunkRows: number): Promise<ChunkPlan> {
  const targetRows = await estimatedRows(pools.target, target.table);
  const sourceRows = Math.max(-1, ...(await Promise.all(target.sources.map((table) => estimatedRows(pools.source, table)))));
  if (targetRows >= SAMPLE_FROM_ROWS && targetRows * 2 >= sourceRows) {
    const chunks = Math.ceil(targetRows / chunkRows);
    const percent = (100 * chunks * SAMPLE_KEYS_PER_CHUNK) / targetRows;
    const sample = await pools.target.query<string[]>(sampledKeysQuery(target.table, target.key, ordering, percent), 'array');
    const boundaries = pickEvenly(sample, chunks);
    return { chunks: chunksFrom(target.table, boundaries), method: 'sample', estimatedRows: targetRows };
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
