import { describe, expect, it } from 'vitest';
import { cutProgress, parkedPending, type PartitionEnd, type PartitionState } from '../../../src/reconcile/cut.js';

const ends: PartitionEnd[] = [
  { topic: 't', partition: 0, endOffset: 10n },
  { topic: 't', partition: 1, endOffset: 5n },
  { topic: 't', partition: 2, endOffset: 0n },
];
const state = (nextOffset: bigint, appliedLsn: bigint): PartitionState => ({ nextOffset, appliedLsn });

describe('exact cut progress', () => {
  it.each([
    ['every partition consumed to its end', { 't[0]': state(10n, 90n), 't[1]': state(5n, 99n) }, [], { complete: true, waitingFor: [], beyond: [] }],
    ['a partition behind and not held', { 't[0]': state(7n, 80n), 't[1]': state(5n, 99n) }, [], { complete: false, waitingFor: ['t[0]'], beyond: [] }],
    ['a partition behind but held at the cut', { 't[0]': state(7n, 80n), 't[1]': state(5n, 99n) }, ['t[0]'], { complete: true, waitingFor: [], beyond: [] }],
    ['a partition never applied', { 't[0]': state(10n, 90n) }, [], { complete: false, waitingFor: ['t[1]'], beyond: [] }],
    ['a partition applied past the cut', { 't[0]': state(10n, 101n), 't[1]': state(5n, 99n) }, [], { complete: false, waitingFor: [], beyond: ['t[0]'] }],
    // The slot decodes a commit record starting at its consistent point: the snapshot does not hold it.
    ['a partition applied a change committed at the cut itself', { 't[0]': state(10n, 90n), 't[1]': state(5n, 100n) }, [], { complete: false, waitingFor: [], beyond: ['t[1]'] }],
  ] as const)('%s', (_name, applied, held, expected) => {
    expect(cutProgress(ends, new Map(Object.entries(applied)), new Set(held), 100n)).toEqual(expected);
  });

  it('waits for each change parked at the cut until it left the park or failed two more retries', () => {
    const atCut = new Map([['a', 0], ['b', 3], ['c', 1]]);
    expect(parkedPending(atCut, atCut)).toBe(3);
    expect(parkedPending(atCut, new Map([['b', 4], ['c', 2]]))).toBe(2);
    expect(parkedPending(atCut, new Map([['b', 5], ['c', 3]]))).toBe(0);
    expect(parkedPending(atCut, new Map())).toBe(0);
  });
});
