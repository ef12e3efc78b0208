import { describe, expect, it } from 'vitest';
import { bisect, type BisectOptions } from '../../../src/reconcile/bisect.js';
import type { CanonicalRow } from '../../../src/reconcile/row-diff.js';
import { chunksFrom, keyId, type Key } from '../../../src/reconcile/segment.js';
import { mulberry32 } from '../../support/random.js';
import { MemorySide } from './memory-side.js';

const seed = Number(process.env.TANDEM_TEST_SEED ?? Date.now() % 1_000_000);
console.log(`bisect.test seed ${seed} (TANDEM_TEST_SEED=${seed} repeats it)`);
const random = mulberry32(seed);

const columns = ['email', 'points'];
const options: BisectOptions = { columns, bisectRows: 200, factor: 8, parallelism: 3 };

function row(key: Key, email: string | null, points: string | null): CanonicalRow {
  return { key, values: [email, points] };
}

/** Skewed integer keys: dense runs and large gaps, like a table with old and new id ranges. */
function skewedRows(count: number): CanonicalRow[] {
  const rows: CanonicalRow[] = [];
  let id = 1;
  for (let index = 0; index < count; index += 1) {
    id += index % 1000 < 900 ? 1 : 1 + Math.floor(random() * 1_000_000);
    rows.push(row([String(id)], `user${id}@example.com`, String(index % 97)));
  }
  return rows;
}

function pick<T>(items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy.slice(0, count);
}

/** Changes one column of `k` rows, deletes `k` others and adds `k` new ones to a copy of `rows`. */
function injectDrift(rows: CanonicalRow[], k: number, newKey: (index: number) => Key) {
  const victims = pick(rows, 2 * k);
  const changed = new Map(victims.slice(0, k).map((item) => [keyId(item.key), item]));
  const deleted = new Set(victims.slice(k).map((item) => keyId(item.key)));
  const extra = Array.from({ length: k }, (_, index) => row(newKey(index), 'extra@example.com', '0'));
  const actual = rows.filter((item) => !deleted.has(keyId(item.key))).map((item) => (changed.has(keyId(item.key)) ? row(item.key, item.values[0]!, `${item.values[1]}9`) : item));
  return { actual: [...actual, ...extra], changed: [...changed.values()].map((item) => item.key), deleted: victims.slice(k).map((item) => item.key), extra: extra.map((item) => item.key) };
}

const sortedIds = (keys: readonly Key[]) => keys.map(keyId).sort();

describe('bisect', () => {
  it('finds nothing in equal tables and fetches no rows', async () => {
    const rows = skewedRows(5_000);
    const expected = new MemorySide(rows);
    const actual = new MemorySide(rows);
    const chunks = chunksFrom('app.customer', await expected.boundaries(chunksFrom('app.customer', [])[0]!, 10));
    const result = await bisect(chunks, expected, actual, options);
    expect(result).toMatchObject({ rowsCompared: 5_000, missing: [], extra: [], different: [], segmentsFetched: 0, rowsFetched: 0 });
    expect(result.segmentsCompared).toBe(chunks.length);
  });

  for (const [k, mode] of [1, 10, 100, 1000].flatMap((k) => [[k, 'bisection'], [k, 'hash lists']] as const)) {
    it(`reports exactly k=${k} changed, deleted and extra rows of skewed integer keys, no more, no fewer (${mode})`, async () => {
      const settings = mode === 'hash lists' ? { ...options, hashListRows: 5_000 } : options;
      const rows = skewedRows(20_000);
      const drift = injectDrift(rows, k, (index) => [String(10_000_000_000 + index)]);
      const expected = new MemorySide(rows);
      const actual = new MemorySide(drift.actual);
      const chunks = chunksFrom('app.customer', await expected.boundaries(chunksFrom('app.customer', [])[0]!, 20));
      const result = await bisect(chunks, expected, actual, settings);
      if (mode === 'hash lists') expect(expected.calls.fetchHashes).toBeGreaterThan(0);
      expect(sortedIds(result.missing)).toEqual(sortedIds(drift.deleted));
      expect(sortedIds(result.extra)).toEqual(sortedIds(drift.extra));
      expect(sortedIds(result.different.map((item) => item.key))).toEqual(sortedIds(drift.changed));
      for (const difference of result.different) expect(Object.keys(difference.columns)).toEqual(['points']);
      expect(result.rowsCompared).toBe(20_000 + k);
      // Bisection, not a full fetch: rows fetched stay near (drifted rows × segment size).
      if (k <= 10 && mode === 'bisection') expect(result.rowsFetched).toBeLessThan(3 * k * 2 * options.bisectRows);
    });
  }

  it('handles composite text keys (tenant, code) with drift in several tenants', async () => {
    const rows: CanonicalRow[] = [];
    for (const tenant of ['acme', 'globex', 'initech', 'umbrella']) for (let index = 0; index < 2_500; index += 1) rows.push(row([tenant, `c-${index.toString(36)}`], `${tenant}${index}@x.org`, String(index)));
    const drift = injectDrift(rows, 25, (index) => ['hooli', `c-${index}`]);
    const expected = new MemorySide(rows);
    const actual = new MemorySide(drift.actual);
    const chunks = chunksFrom('app.account', await actual.boundaries(chunksFrom('app.account', [])[0]!, 7));
    const result = await bisect(chunks, expected, actual, options);
    expect(sortedIds(result.missing)).toEqual(sortedIds(drift.deleted));
    expect(sortedIds(result.extra)).toEqual(sortedIds(drift.extra));
    expect(sortedIds(result.different.map((item) => item.key))).toEqual(sortedIds(drift.changed));
  });

  it('tells NULL from the empty string and reports the column with both values', async () => {
    const rows = [row(['1'], '', '1'), row(['2'], null, '2'), row(['3'], 'a', null)];
    const result = await bisect(chunksFrom('t', []), new MemorySide(rows), new MemorySide([row(['1'], null, '1'), row(['2'], '', '2'), row(['3'], 'a', '')]), options);
    expect(result.different).toEqual([
      { key: ['1'], columns: { email: { expected: '', actual: null } } },
      { key: ['2'], columns: { email: { expected: null, actual: '' } } },
      { key: ['3'], columns: { points: { expected: null, actual: '' } } },
    ]);
  });

  it('detects rows moved between keys when counts are equal', async () => {
    const rows = skewedRows(3_000);
    const swapped = rows.map((item, index) => (index === 10 ? row(item.key, rows[11]!.values[0]!, item.values[1]!) : index === 11 ? row(item.key, rows[10]!.values[0]!, item.values[1]!) : item));
    const result = await bisect(chunksFrom('t', []), new MemorySide(rows), new MemorySide(swapped), options);
    expect(sortedIds(result.different.map((item) => item.key))).toEqual(sortedIds([rows[10]!.key, rows[11]!.key]));
  });

  it('keeps at most `parallelism` segments in flight on each side', async () => {
    const rows = skewedRows(10_000);
    const drift = injectDrift(rows, 50, (index) => [String(20_000_000_000 + index)]);
    const expected = new MemorySide(rows);
    const actual = new MemorySide(drift.actual);
    const chunks = chunksFrom('t', await expected.boundaries(chunksFrom('t', [])[0]!, 30));
    await bisect(chunks, expected, actual, { ...options, parallelism: 2 });
    expect(expected.maxRunning).toBeLessThanOrEqual(2);
    expect(actual.maxRunning).toBeLessThanOrEqual(2);
    expect(expected.maxRunning).toBe(2);
  });

  it('fails the run with the first error of a side', async () => {
    const expected = new MemorySide(skewedRows(100));
    const actual = new MemorySide([]);
    actual.countAndChecksum = () => Promise.reject(new Error('canceling statement due to statement timeout'));
    await expect(bisect(chunksFrom('t', []), expected, actual, options)).rejects.toThrow('statement timeout');
  });
});
