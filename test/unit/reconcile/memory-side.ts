import { createHash } from 'node:crypto';
import type { KeyHash, ReconcileSide, SegmentSummary } from '../../../src/reconcile/bisect.js';
import type { CanonicalRow } from '../../../src/reconcile/row-diff.js';
import type { Key, Segment } from '../../../src/reconcile/segment.js';

export type KeyOrder = (a: Key, b: Key) => number;

/** Element-wise: numbers when both parse as numbers, else code point order (like COLLATE "C"). */
export const naturalOrder: KeyOrder = (a, b) => {
  for (let index = 0; index < a.length; index += 1) {
    const x = a[index]!;
    const y = b[index]!;
    const numeric = /^-?\d+(\.\d+)?$/.test(x) && /^-?\d+(\.\d+)?$/.test(y);
    const order = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return 0;
};

/** A side over an array, for the algorithm's unit tests; counts its calls and concurrency. */
export class MemorySide implements ReconcileSide {
  readonly rows: CanonicalRow[];
  calls = { countAndChecksum: 0, fetchRows: 0, fetchHashes: 0, rowsByKey: 0, boundaries: 0 };
  running = 0;
  maxRunning = 0;

  private readonly hashes: bigint[];

  constructor(
    rows: CanonicalRow[],
    private readonly order: KeyOrder = naturalOrder,
  ) {
    this.rows = [...rows].sort((a, b) => order(a.key, b.key));
    this.hashes = this.rows.map((row) => BigInt.asIntN(64, BigInt(`0x${createHash('sha1').update(JSON.stringify([row.key, row.values])).digest('hex').slice(0, 16)}`)));
  }

  /** First index whose key is not below `key` (binary search over the sorted rows). */
  private lowerBound(key: Key): number {
    let low = 0;
    let high = this.rows.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.order(this.rows[middle]!.key, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private range(segment: Segment): [number, number] {
    return [segment.lower === null ? 0 : this.lowerBound(segment.lower), segment.upper === null ? this.rows.length : this.lowerBound(segment.upper)];
  }

  private inSegment(segment: Segment): CanonicalRow[] {
    const [from, to] = this.range(segment);
    return this.rows.slice(from, Math.max(from, to));
  }

  private async track<T>(work: () => T): Promise<T> {
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise((resolve) => setImmediate(resolve));
    try {
      return work();
    } finally {
      this.running -= 1;
    }
  }

  countAndChecksum(segment: Segment): Promise<SegmentSummary> {
    this.calls.countAndChecksum += 1;
    return this.track(() => {
      const [from, to] = this.range(segment);
      let sum = 0n;
      for (let index = from; index < to; index += 1) sum += this.hashes[index]!;
      return { count: Math.max(0, to - from), checksum: sum.toString() };
    });
  }

  fetchRows(segment: Segment): Promise<CanonicalRow[]> {
    this.calls.fetchRows += 1;
    return this.track(() => this.inSegment(segment));
  }

  fetchHashes(segment: Segment): Promise<KeyHash[]> {
    this.calls.fetchHashes += 1;
    return this.track(() => {
      const [from, to] = this.range(segment);
      const out: KeyHash[] = [];
      for (let index = from; index < to; index += 1) out.push({ key: this.rows[index]!.key, hash: this.hashes[index]!.toString() });
      return out;
    });
  }

  rowsByKey(keys: readonly Key[]): Promise<CanonicalRow[]> {
    this.calls.rowsByKey += 1;
    return this.track(() => {
      const wanted = new Set(keys.map((key) => JSON.stringify(key)));
      return this.rows.filter((row) => wanted.has(JSON.stringify(row.key)));
    });
  }

  boundaries(segment: Segment, parts: number, _rows?: number): Promise<Key[]> {
    this.calls.boundaries += 1;
    return this.track(() => {
      const rows = this.inSegment(segment);
      const out: Key[] = [];
      for (let part = 1; part < parts; part += 1) {
        const row = rows[Math.floor((rows.length * part) / parts)];
        if (row && (out.length === 0 || this.order(out.at(-1)!, row.key) < 0) && (segment.lower === null || this.order(row.key, segment.lower) > 0)) out.push(row.key);
      }
      return out;
    });
  }
}
