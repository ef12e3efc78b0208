import { describe, expect, it } from 'vitest';
import { pickEvenly, samplePercent } from '../../../src/reconcile/chunking.js';

describe('chunk boundaries from a key sample', () => {
  it('samples enough pages per chunk that a mid-size table never yields a handful of pages (or none)', () => {
    // 250,000 rows on 1,600 pages in 25 chunks: 800 keys would be 0.32% (about 5 pages); 4 pages per chunk is 6.25%.
    expect(samplePercent({ rows: 250_000, pages: 1_600 }, 25)).toBeCloseTo(6.25);
    // Wide rows (few per page): the key count decides.
    expect(samplePercent({ rows: 1_000_000, pages: 500_000 }, 100)).toBeCloseTo(0.32);
    expect(samplePercent({ rows: 300_000, pages: 40 }, 30)).toBe(100);
  });

  it('picks parts - 1 distinct keys splitting the sorted sample evenly', () => {
    const sample = Array.from({ length: 100 }, (_, index) => [String(index).padStart(3, '0')]);
    expect(pickEvenly(sample, 4)).toEqual([['025'], ['050'], ['075']]);
    expect(pickEvenly([['a'], ['a'], ['a'], ['b']], 4)).toEqual([['a'], ['b']]);
  });
});
