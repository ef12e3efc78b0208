import { describe, expect, it } from 'vitest';
import { assessHealth, observeAcks, slotLagSeconds } from '../../../src/capture/health.js';

describe('capture health', () => {
  it('moves the acknowledgement clock when the durable LSN moves or nothing waits for Kafka, and only then', () => {
    const start = { durableLsn: 10n, at: 0 };
    expect(observeAcks(start, 10n, 2, 500)).toBe(start);
    expect(observeAcks(start, 11n, 2, 500)).toEqual({ durableLsn: 11n, at: 500 });
    expect(observeAcks(start, 10n, 0, 500)).toEqual({ durableLsn: 10n, at: 500 });
  });

  it('is healthy while WAL messages arrive and Kafka keeps up, unhealthy once either stalls for stallAfterMs', () => {
    const acks = { durableLsn: 0x1_0000_00a0n, at: 1000 };
    const healthy = assessHealth({ now: 1500, lastMessageAt: 1400, acks, inFlightTransactions: 1, stallAfterMs: 1000 });
    expect(healthy).toEqual({ healthy: true, idleMs: 100, unacknowledgedMs: 500, inFlightTransactions: 1, durableLsn: '1/A0' });
    expect(assessHealth({ now: 2000, lastMessageAt: 1900, acks, inFlightTransactions: 1, stallAfterMs: 1000 }).healthy).toBe(false);
    expect(assessHealth({ now: 2000, lastMessageAt: 1000, acks: { ...acks, at: 1999 }, inFlightTransactions: 0, stallAfterMs: 1000 }).healthy).toBe(false);
  });

  it('measures slot lag in seconds from the newest commit read, only while transactions wait for Kafka', () => {
    expect(slotLagSeconds(10_000, 7_500, 3)).toBe(2.5);
    expect(slotLagSeconds(10_000, 7_500, 0)).toBe(0);
    expect(slotLagSeconds(10_000, 12_000, 1)).toBe(0);
  });
});
