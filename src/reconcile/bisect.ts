/**
 * The comparison algorithm, with no SQL in it: compare each chunk's count and checksum on both
 * sides; equal chunks are done, unequal ones are split into `factor` segments by the key
 * distribution and compared again, until a segment holds at most `bisectRows` rows on either side;
 * then its rows are fetched from both sides and compared column by column. The sides and the
 * splitter are interfaces: PostgreSQL in `pg-side.ts`, arrays in the unit tests.
 */
import { diffRows, type CanonicalRow, type RowDifference } from './row-diff.js';
import { keyId, splitAt, type Key, type Segment } from './segment.js';

export interface KeyHash {
  readonly key: Key;
  readonly hash: string;
}

export interface SegmentSummary {
  readonly count: number;
  /** Order-independent: the same rows in any order give the same checksum. */
  readonly checksum: string;
}

/** One database's rows of a table (the legacy data as mapped, or the new table), by segment. */
export interface ReconcileSide {
  countAndChecksum(segment: Segment): Promise<SegmentSummary>;
  /** The segment's rows, canonical. Called only for segments of at most `bisectRows` rows. */
  fetchRows(segment: Segment): Promise<CanonicalRow[]>;
  /** Each row's key and 64-bit hash (the one the checksum sums), for segments of at most `hashListRows` rows. */
  fetchHashes(segment: Segment): Promise<KeyHash[]>;
  /** The rows with these keys, canonical (keys without a row are left out). */
  rowsByKey(keys: readonly Key[]): Promise<CanonicalRow[]>;
  /** Up to `parts - 1` distinct keys splitting the segment's `rows` rows into `parts` runs of about equal size, in key order. */
  boundaries(segment: Segment, parts: number, rows: number): Promise<Key[]>;
}

export interface BisectOptions {
  /** Compared columns, in the order of CanonicalRow.values. */
  columns: readonly string[];
  /** A segment with at most this many rows on both sides is compared row by row. */
  bisectRows: number;
  /**
   * A larger unequal segment with at most this many rows is compared by its rows' hashes (one
   * pass per side), then only the rows whose hash differs are fetched; above it, it is bisected.
   */
  hashListRows?: number;
  /** Segments an unequal segment is split into. */
  factor: number;
  /** Segments compared at the same time. */
  parallelism: number;
  /** After each finished segment: rows settled so far (equal chunks count their rows). */
  onProgress?: (progress: { rowsCompared: number; segmentsDone: number; segmentsPending: number }) => void;
  /** Stops handing out segments (the run was cancelled); pending ones reject. */
  signal?: AbortSignal;
}

export interface BisectResult {
  rowsCompared: number;
  missing: Key[];
  extra: Key[];
  different: RowDifference[];
  /** Segments whose checksums were compared, chunks included. */
  segmentsCompared: number;
  /** Segments compared row by row. */
  segmentsFetched: number;
  /** Rows fetched from both sides for row comparison. */
  rowsFetched: number;
}

export async function bisect(chunks: readonly Segment[], expected: ReconcileSide, actual: ReconcileSide, options: BisectOptions): Promise<BisectResult> {
  if (options.factor < 2) throw new RangeError(`bisect: factor must be at least 2 (got ${options.factor})`);
  const result: BisectResult = { rowsCompared: 0, missing: [], extra: [], different: [], segmentsCompared: 0, segmentsFetched: 0, rowsFetched: 0 };
  let done = 0;

  const compareRows = async (segment: Segment): Promise<void> => {
    const [want, got] = await Promise.all([expected.fetchRows(segment), actual.fetchRows(segment)]);
    const diff = diffRows(options.columns, want, got);
    result.segmentsFetched += 1;
    result.rowsFetched += want.length + got.length;
    result.rowsCompared += diff.rows;
    result.missing.push(...diff.missing);
    result.extra.push(...diff.extra);
    result.different.push(...diff.different);
  };

  const compareHashes = async (segment: Segment): Promise<void> => {
    const [want, got] = await Promise.all([expected.fetchHashes(segment), actual.fetchHashes(segment)]);
    const actualHashes = new Map(got.map((item) => [keyId(item.key), item]));
    const differing: Key[] = [];
    let rows = got.length;
    for (const item of want) {
      const id = keyId(item.key);
      const other = actualHashes.get(id);
      if (!other) {
        result.missing.push(item.key);
        rows += 1;
      } else {
        actualHashes.delete(id);
        if (other.hash !== item.hash) differing.push(item.key);
      }
    }
    for (const item of actualHashes.values()) result.extra.push(item.key);
    result.rowsCompared += rows;
    result.segmentsFetched += 1;
    result.rowsFetched += want.length + got.length;
    for (let start = 0; start < differing.length; start += options.bisectRows) {
      const keys = differing.slice(start, start + options.bisectRows);
      const [wantRows, gotRows] = await Promise.all([expected.rowsByKey(keys), actual.rowsByKey(keys)]);
      const diff = diffRows(options.columns, wantRows, gotRows);
      result.different.push(...diff.different);
      // A hash that differs while the row text is equal cannot happen; a row gone meanwhile cannot either (one snapshot).
      result.missing.push(...diff.missing);
      result.extra.push(...diff.extra);
    }
  };

  const compare = async (segment: Segment): Promise<Segment[]> => {
    const [want, got] = await Promise.all([expected.countAndChecksum(segment), actual.countAndChecksum(segment)]);
    result.segmentsCompared += 1;
    if (want.count === got.count && want.checksum === got.checksum) {
      result.rowsCompared += want.count;
      return [];
    }
    const larger = Math.max(want.count, got.count);
    if (larger <= options.bisectRows) {
      await compareRows(segment);
      return [];
    }
    if (larger <= (options.hashListRows ?? 0)) {
      await compareHashes(segment);
      return [];
    }
    const splitter = want.count >= got.count ? expected : actual;
    const parts = Math.min(options.factor, Math.ceil(larger / Math.max(1, Math.floor(options.bisectRows / 2))));
    const boundaries = await splitter.boundaries(segment, Math.max(2, parts), larger);
    if (boundaries.length === 0) {
      // Cannot split further (should not happen with unique keys): compare what is there.
      await compareRows(segment);
      return [];
    }
    return splitAt(segment, boundaries);
  };

  await runPool(chunks, compare, options.parallelism, options.signal, (pending) => {
    done += 1;
    options.onProgress?.({ rowsCompared: result.rowsCompared, segmentsDone: done, segmentsPending: pending });
  });
  return result;
}

/**
 * Runs `work` over the items with at most `parallelism` at a time; work returns follow-up items
 * (the halves of an unequal segment), which join the queue. Depth first, so follow-ups of a
 * segment are compared before new chunks and memory stays bounded by the queue of chunks.
 */
export async function runPool<T>(initial: readonly T[], work: (item: T) => Promise<T[]>, parallelism: number, signal?: AbortSignal, onDone?: (pending: number) => void): Promise<void> {
  const queue = [...initial].reverse();
  let running = 0;
  let failure: unknown;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failure !== undefined) return;
      if (signal?.aborted) {
        failure = signal.reason ?? new Error('cancelled');
        reject(failure);
        return;
      }
      while (running < parallelism && queue.length > 0) {
        const item = queue.pop()!;
        running += 1;
        work(item).then(
          (more) => {
            running -= 1;
            for (let index = more.length - 1; index >= 0; index -= 1) queue.push(more[index]!);
            onDone?.(queue.length + running);
            pump();
          },
          (error: unknown) => {
            running -= 1;
            if (failure === undefined) {
              failure = error;
              reject(error);
            }
          },
        );
      }
      if (running === 0 && queue.length === 0) resolve();
    };
    pump();
  });
}
