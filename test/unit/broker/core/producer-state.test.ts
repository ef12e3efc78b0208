import { describe, expect, it } from 'vitest';
import { ProducerStateTable } from '../../../../src/embedded/broker/producer-state.js';
import { ErrorCode } from '../../../../src/embedded/broker/protocol/index.js';

describe('idempotent producer state of a partition', () => {
  it('accepts consecutive sequences', () => {
    const table = new ProducerStateTable();
    expect(table.check(7, 0, 0, 10)).toEqual({ kind: 'append' });
    table.record(7, 0, 0, 10, 100);
    expect(table.check(7, 0, 10, 5)).toEqual({ kind: 'append' });
  });

  it('recognises a retried batch and answers with its original offset', () => {
    const table = new ProducerStateTable();
    table.record(7, 0, 0, 10, 100);
    table.record(7, 0, 10, 10, 110);
    expect(table.check(7, 0, 0, 10)).toEqual({ kind: 'duplicate', baseOffset: 100 });
    expect(table.check(7, 0, 10, 10)).toEqual({ kind: 'duplicate', baseOffset: 110 });
  });

  it('refuses a gap in the sequence with OUT_OF_ORDER_SEQUENCE_NUMBER', () => {
    const table = new ProducerStateTable();
    table.record(7, 0, 0, 10, 100);
    expect(table.check(7, 0, 11, 1)).toEqual({ kind: 'reject', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('fences an older epoch and restarts sequences with a newer one', () => {
    const table = new ProducerStateTable();
    table.record(7, 1, 0, 10, 100);
    expect(table.check(7, 0, 10, 1)).toEqual({ kind: 'reject', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(table.check(7, 2, 0, 1)).toEqual({ kind: 'append' });
    expect(table.check(7, 2, 5, 1).kind).toBe('reject');
  });

  it('remembers only the last five batches of a producer', () => {
    const table = new ProducerStateTable();
    for (let i = 0; i < 6; i++) table.record(7, 0, i * 10, 10, i * 10);
    expect(table.check(7, 0, 0, 10).kind).toBe('reject');
    expect(table.check(7, 0, 10, 10)).toEqual({ kind: 'duplicate', baseOffset: 10 });
  });

  it('wraps sequence numbers after 2^31 - 1', () => {
    const table = new ProducerStateTable();
    table.record(7, 0, 2 ** 31 - 5, 5, 0);
    expect(table.check(7, 0, 0, 3)).toEqual({ kind: 'append' });
  });
});
