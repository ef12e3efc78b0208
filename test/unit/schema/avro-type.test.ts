import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createAvroType } from '../../../src/schema/avro-type.js';

const record = createAvroType({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }, { name: 'm', type: ['null', 'long'] }] });
// avsc's own long (numbers up to 2^52): the reference encoding.
const plainLong = avro.Type.forSchema('long');

const edges = [0, 1, -1, 63, -64, 64, -65, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31, -(2 ** 31), 2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 52, -(2 ** 52)];

describe('Avro long as bigint', () => {
  it("writes every long with the bytes of avsc's long, from a number or a bigint, plain or in a union", () => {
    for (const value of edges) {
      const expected = plainLong.toBuffer(value);
      for (const input of [value, BigInt(value)]) {
        const encoded = record.toBuffer({ n: input, m: input });
        expect(encoded.subarray(0, expected.length), `${value}`).toEqual(expected);
        expect(encoded.subarray(expected.length + 1), `${value} in the union`).toEqual(expected);
        expect(record.fromBuffer(encoded)).toEqual({ n: BigInt(value), m: BigInt(value) });
      }
    }
  });

  it('round-trips longs beyond 2^52 exactly, to the ends of the range', () => {
    for (const value of [BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MIN_SAFE_INTEGER), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect(record.fromBuffer(record.toBuffer({ n: value, m: value }))).toEqual({ n: value, m: value });
    }
    expect(record.fromBuffer(record.toBuffer({ n: Number.MAX_SAFE_INTEGER, m: Number.MIN_SAFE_INTEGER }))).toEqual({ n: BigInt(Number.MAX_SAFE_INTEGER), m: BigInt(Number.MIN_SAFE_INTEGER) });
  });

  it('refuses what is no 64-bit integer', () => {
    for (const value of [1.5, 2n ** 63n, -(2n ** 63n) - 1n, 2 ** 53, '1', null]) expect(() => record.toBuffer({ n: value, m: null }), String(value)).toThrow();
  });

  it('tells that the buffer is too small instead of writing past it', () => {
    const buffer = Buffer.alloc(12, 0xee);
    const end = record.encode({ n: 2n ** 40n, m: 2n ** 40n }, buffer.subarray(0, 8), 0);
    expect(end).toBeLessThan(0);
    expect(buffer.subarray(8)).toEqual(Buffer.alloc(4, 0xee));
    const fits = Buffer.alloc(16);
    expect(record.encode({ n: 2n ** 40n, m: 2n ** 40n }, fits, 0)).toBe(13);
  });
});
