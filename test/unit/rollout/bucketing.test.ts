import murmurHash3 from 'murmurhash3js';
import { describe, expect, it } from 'vitest';
import { bucketer, bucketOf, inRollout, murmur3 } from '../../../src/rollout/bucketing.js';
import { mulberry32 } from '../../support/random.js';

const SEED = Number(process.env.ROLLOUT_TEST_SEED ?? 20261129);
console.log(`bucketing property tests: seed ${SEED} (set ROLLOUT_TEST_SEED to replay)`);

function keys(count: number, seed: number): string[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, (_, index) => `tenant-${Math.floor(next() * 1e12).toString(36)}-${index}`);
}

describe('bucketing', () => {
  it('matches the values published by the Unleash clients (node, java and go agree on them)', () => {
    // unleash-client-node test/strategy/util-test: normalizedStrategyValue('123', 'gr1') = 73, ('999', 'groupX') = 25.
    expect(bucketOf('123', 'gr1')).toBe(73);
    expect(bucketOf('999', 'groupX')).toBe(25);
  });

  it('is murmur3 x86 32-bit with seed 0 (reference vectors of the algorithm)', () => {
    expect(murmur3('')).toBe(0);
    expect(murmur3('test')).toBe(0xba6bd213);
    expect(murmur3('Hello, world!')).toBe(0xc0363e43);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
  });

  it('hashes the UTF-8 bytes of non-ASCII keys, as the Java and Go clients do', () => {
    // "é" is C3 A9 in UTF-8: the same as hashing those two bytes.
    expect(murmur3('café')).toBe(murmurHash3.x86.hash32('caf\u00c3\u00a9'));
    expect(murmur3('café')).not.toBe(murmurHash3.x86.hash32('café'));
  });

  it('agrees with murmurhash3js (the Unleash Node client’s hash) on ASCII keys of every length, prefix state included', () => {
    const next = mulberry32(SEED + 4);
    for (let length = 0; length < 40; length += 1) {
      for (let sample = 0; sample < 50; sample += 1) {
        const key = Array.from({ length }, () => String.fromCharCode(32 + Math.floor(next() * 95))).join('');
        for (const groupId of ['', 'a', 'ab', 'abc', 'shop', 'customers-v2']) {
          expect(bucketer(groupId)(key)).toBe((murmurHash3.x86.hash32(`${groupId}:${key}`) % 100) + 1);
        }
        expect(murmur3(key)).toBe(murmurHash3.x86.hash32(key));
      }
    }
  });

  it('gives non-ASCII keys the bucket of their UTF-8 bytes through the fast path too', () => {
    for (const key of ['café', 'Ünïcødé-tenant', '租户-42', '🙂']) {
      expect(bucketOf(key, 'shop')).toBe((murmur3(`shop:${key}`) % 100) + 1);
    }
  });

  it('puts every key in a bucket from 1 to 100 and nobody on new at 0%, everybody at 100%', () => {
    for (const key of keys(5_000, SEED)) {
      const bucket = bucketOf(key, 'shop');
      expect(bucket).toBeGreaterThanOrEqual(1);
      expect(bucket).toBeLessThanOrEqual(100);
      expect(inRollout(key, 'shop', 0)).toBe(false);
      expect(inRollout(key, 'shop', 100)).toBe(true);
    }
  });

  it('is monotonic: a key on new at one percentage stays on new at every higher one', () => {
    const percentages = [1, 5, 10, 25, 50, 75, 99, 100];
    for (const key of keys(20_000, SEED + 1)) {
      let seenNew = false;
      for (const percentage of percentages) {
        const onNew = inRollout(key, 'shop', percentage);
        if (seenNew) expect(onNew, `${key} left new at ${percentage}%`).toBe(true);
        seenNew ||= onNew;
      }
    }
  });

  it('is uniform: each rollout percentage holds that share of 100k keys within ±2%', () => {
    const sample = keys(100_000, SEED + 2);
    const counts = new Array<number>(101).fill(0);
    for (const key of sample) counts[bucketOf(key, 'shop')]! += 1;
    let cumulative = 0;
    for (let percentage = 1; percentage <= 100; percentage += 1) {
      cumulative += counts[percentage]!;
      const share = (cumulative / sample.length) * 100;
      expect(Math.abs(share - percentage), `${percentage}% rollout holds ${share.toFixed(2)}% of keys`).toBeLessThanOrEqual(2);
    }
    for (let bucket = 1; bucket <= 100; bucket += 1) expect(Math.abs(counts[bucket]! / sample.length - 0.01)).toBeLessThan(0.002);
  });

  it('puts a key in independent cohorts for different group ids', () => {
    const sample = keys(10_000, SEED + 3);
    const both = sample.filter((key) => inRollout(key, 'shop', 50) && inRollout(key, 'billing', 50)).length;
    expect(both / sample.length).toBeGreaterThan(0.23);
    expect(both / sample.length).toBeLessThan(0.27);
  });
});
