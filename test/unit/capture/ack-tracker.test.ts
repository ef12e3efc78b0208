import { describe, expect, it } from 'vitest';
import { AckTracker, type TrackedTransaction } from '../../../src/capture/ack-tracker.js';
import { seededRandom } from '../../support/random.js';

describe('AckTracker: how far the slot may be confirmed', () => {
  it('starts at the slot position and confirms a transaction once it is committed and every event acknowledged', () => {
    const tracker = new AckTracker(100n);
    const transaction = tracker.begin();
    transaction.sent();
    transaction.sent();
    transaction.commit(200n);
    expect(tracker.durableLsn).toBe(100n);
    transaction.acknowledge(1);
    expect(tracker.durableLsn).toBe(100n);
    transaction.acknowledge(1);
    expect(tracker.durableLsn).toBe(200n);
    expect(tracker.inFlight).toBe(0);
  });

  it('does not confirm a transaction that is fully acknowledged but not yet committed (still being read)', () => {
    const tracker = new AckTracker(0n);
    const transaction = tracker.begin();
    transaction.sent();
    transaction.acknowledge(1);
    expect(tracker.durableLsn).toBe(0n);
    expect(tracker.inFlight).toBe(1);
  });

  it('never confirms past an older transaction that Kafka has not acknowledged, even when newer ones are', () => {
    const tracker = new AckTracker(0n);
    const older = tracker.begin();
    older.sent();
    older.commit(10n);
    const newer = tracker.begin();
    newer.sent();
    newer.commit(20n);
    newer.acknowledge(1);
    expect(tracker.durableLsn).toBe(0n);
    older.acknowledge(1);
    expect(tracker.durableLsn).toBe(20n);
  });

  it('confirms a transaction without events (a heartbeat) at its commit', () => {
    const tracker = new AckTracker(5n);
    tracker.begin().commit(7n);
    expect(tracker.durableLsn).toBe(7n);
  });

  it('refuses more acknowledgements than events sent', () => {
    const transaction = new AckTracker(0n).begin();
    transaction.sent();
    expect(() => transaction.acknowledge(2)).toThrow('acknowledged more events than were sent');
  });

  it('always equals the commit of the longest fully acknowledged prefix, over random interleavings', () => {
    const random = seededRandom('AckTracker interleavings');
    for (let round = 0; round < 200; round++) {
      const tracker = new AckTracker(0n);
      const transactions: { handle: TrackedTransaction; events: number; acknowledged: number; committed: boolean; lsn: bigint }[] = [];
      for (let index = 0; index < 1 + Math.floor(random() * 6); index++) {
        const handle = tracker.begin();
        const events = Math.floor(random() * 4);
        for (let event = 0; event < events; event++) handle.sent();
        transactions.push({ handle, events, acknowledged: 0, committed: false, lsn: BigInt((index + 1) * 10) });
      }
      // Commit in order (pgoutput's order); acknowledgements arrive in any order and any grouping.
      let nextCommit = 0;
      for (;;) {
        const pending = transactions.filter((transaction) => transaction.acknowledged < transaction.events);
        if (nextCommit === transactions.length && pending.length === 0) break;
        if (nextCommit < transactions.length && (pending.length === 0 || random() < 0.4)) {
          const transaction = transactions[nextCommit++]!;
          transaction.committed = true;
          transaction.handle.commit(transaction.lsn);
        } else {
          const transaction = pending[Math.floor(random() * pending.length)]!;
          const count = 1 + Math.floor(random() * (transaction.events - transaction.acknowledged));
          transaction.acknowledged += count;
          transaction.handle.acknowledge(count);
        }
        let expected = 0n;
        for (const transaction of transactions) {
          if (!transaction.committed || transaction.acknowledged < transaction.events) break;
          expected = transaction.lsn;
        }
        expect(tracker.durableLsn, `round ${round} (the seed is printed above)`).toBe(expected);
      }
      expect(tracker.inFlight).toBe(0);
    }
  });
});
