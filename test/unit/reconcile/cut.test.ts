import { describe, expect, it } from 'vitest';
import { cutProgress, formatLsn, lsnToBigInt, type PartitionEnd, type PartitionState } from '../../../src/reconcile/cut.js';

const ends: PartitionEnd[] = [
  { topic: 't', partition: 0, endOffset: 10n },
  { topic: 't', partition: 1, endOffset: 5n },
  { topic: 't', partition: 2, endOffset: 0n },
];
const state = (nextOffset: bigint, appliedLsn: bigint): PartitionState => ({ nextOffset, appliedLsn });

describe('exact cut progress', () => {
  it.each([
    ['every partition consumed to its end', { 't[0]': state(10n, 90n), 't[1]': state(5n, 100n) }, [], { complete: true, waitingFor: [], beyond: [] }],
    ['a partition behind and not held', { 't[0]': state(7n, 80n), 't[1]': state(5n, 100n) }, [], { complete: false, waitingFor: ['t[0]'], beyond: [] }],
    ['a partition behind but held at the cut', { 't[0]': state(7n, 80n), 't[1]': state(5n, 100n) }, ['t[0]'], { complete: true, waitingFor: [], beyond: [] }],
    ['a partition never applied', { 't[0]': state(10n, 90n) }, [], { complete: false, waitingFor: ['t[1]'], beyond: [] }],
    ['a partition applied past the cut', { 't[0]': state(10n, 101n), 't[1]': state(5n, 100n) }, [], { complete: false, waitingFor: [], beyond: ['t[0]'] }],
  ] as const)('%s', (_name, applied, held, expected) => {
    expect(cutProgress(ends, new Map(Object.entries(applied)), new Set(held), 100n)).toEqual(expected);
  });

  it('reads and prints LSNs', () => {
    expect(lsnToBigInt('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(lsnToBigInt('0/0'))).toBe('0/0');
  });
});
