import { describe, expect, it } from 'vitest';
import { createAvroType } from '../../../src/schema/avro-type.js';
import { toAvroKey, toAvroRow, toAvroValue } from '../../../src/schema/avro-values.js';
import { bigintToBytes, bytesToDecimal, decimalToBytes } from '../../../src/schema/decimal.js';
import { deriveSchemas } from '../../../src/schema/derive.js';
import type { ColumnDefinition, PgType } from '../../../src/schema/table-definition.js';
import { everyTypeTable } from './every-type-table.js';

const column = (type: PgType, name = 'c'): ColumnDefinition => ({ name, type, declaredType: type.name, nullable: true });
const type = (name: string, extra: Partial<PgType> = {}): PgType => ({ oid: 0, name, kind: 'base', ...extra });
const convert = (typeName: string, value: unknown, extra: Partial<PgType> = {}) => toAvroValue(column(type(typeName, extra)), value);

describe('value converter (pgoutput text → Avro)', () => {
  it('keeps int8 values above 2^53 exact as bigint', () => {
    expect(convert('int8', '9007199254740993')).toBe(9007199254740993n);
    expect(convert('int8', -9223372036854775808n)).toBe(-9223372036854775808n);
    expect(convert('int8', 42)).toBe(42n);
    expect(() => convert('int8', 2 ** 60)).toThrow('numbers above 2^53 are not exact');
    expect(() => convert('int8', '9223372036854775808')).toThrow('not a 64-bit integer');
  });

  it('reads int2 and int4 from text or numbers, within 32 bits', () => {
    expect(convert('int4', '-17')).toBe(-17);
    expect(convert('int2', 5)).toBe(5);
    expect(() => convert('int4', '2147483648')).toThrow('not a 32-bit integer');
  });

  it('encodes numeric(p,s) as the unscaled two-s complement at the column scale', () => {
    expect(convert('numeric', '12.3', { precision: 10, scale: 2 })).toEqual(Buffer.from([0x04, 0xce])); // 1230
    expect(convert('numeric', '-0.01', { precision: 10, scale: 2 })).toEqual(Buffer.from([0xff])); // -1
    expect(convert('numeric', '128', { precision: 5, scale: 0 })).toEqual(Buffer.from([0x00, 0x80]));
    expect(() => convert('numeric', '1.234', { precision: 10, scale: 2 })).toThrow('more than 2 decimal places');
    expect(() => convert('numeric', 'NaN', { precision: 10, scale: 2 })).toThrow('not a decimal number');
    expect(() => convert('numeric', '123456789.00', { precision: 10, scale: 2 })).toThrow('does not fit decimal(10,2)');
  });

  it('round-trips decimals of any size exactly', () => {
    for (const text of ['0.00', '-1.50', '99999999999999999999999999.99', '-99999999999999999999999999.99', '0.01']) {
      expect(bytesToDecimal(decimalToBytes(text, 28, 2), 2)).toBe(text);
    }
  });

  it('gives every written form of a decimal the bytes of its exact unscaled value', () => {
    // [text, scale, unscaled]: plain text of up to 15 digits and other forms (exponents, a plus sign, blanks, many digits) alike.
    const cases: [string, number, bigint][] = [
      ['0', 2, 0n], ['-0', 2, 0n], ['-0.00', 2, 0n], ['.5', 2, 50n], ['5.', 2, 500n], ['-.01', 2, -1n], ['12.3', 2, 1230n],
      ['9999999999999.99', 2, 999999999999999n], ['-9999999999999.99', 2, -999999999999999n], ['99999999999999.99', 2, 9999999999999999n],
      ['1.500', 2, 150n], ['+1.5', 2, 150n], [' 1.5 ', 2, 150n], ['1.5e2', 2, 15000n], ['-1E-2', 2, -1n], ['0000000000000000001.25', 2, 125n],
      ['123', 0, 123n], ['-128', 0, -128n], ['127', 0, 127n], ['32768', 0, 32768n], ['1', 12, 10n ** 12n], ['123456.123456789', 9, 123456123456789n],
    ];
    for (const [text, scale, unscaled] of cases) expect(decimalToBytes(text, 20, scale), `${text} at scale ${scale}`).toEqual(bigintToBytes(unscaled));
    for (let value = -70000; value <= 70000; value += 7) {
      const text = (value / 100).toFixed(2);
      expect(decimalToBytes(text, 12, 2), text).toEqual(bigintToBytes(BigInt(value)));
    }
  });

  it('refuses decimals over the precision or the scale, however written', () => {
    expect(() => decimalToBytes('1000.00', 5, 2)).toThrow('1000.00 does not fit decimal(5,2)');
    expect(decimalToBytes('-999.999', 6, 3)).toEqual(bigintToBytes(-999999n));
    expect(() => decimalToBytes('-1000.000', 6, 3)).toThrow('does not fit decimal(6,3)');
    expect(() => decimalToBytes('1.005', 12, 2)).toThrow('1.005 has more than 2 decimal places');
    for (const text of ['', '.', '-', '1.2.3', '1,5', '0x10', '--1']) expect(() => decimalToBytes(text, 12, 2), JSON.stringify(text)).toThrow('not a decimal number');
  });

  it('keeps an unconstrained numeric as its exact text, NaN included', () => {
    expect(convert('numeric', '3.14159265358979323846264338327950288')).toBe('3.14159265358979323846264338327950288');
    expect(convert('numeric', 'NaN')).toBe('NaN');
  });

  it('reads floats, booleans and strings', () => {
    expect(convert('float8', '1.5e-3')).toBe(0.0015);
    expect(convert('float4', 'Infinity')).toBe(Number.POSITIVE_INFINITY);
    expect(convert('float8', 'NaN')).toBeNaN();
    expect(convert('bool', 't')).toBe(true);
    expect(convert('bool', false)).toBe(false);
    expect(convert('text', 'hé')).toBe('hé');
  });

  it('turns dates into days since the epoch, BC and infinity included', () => {
    expect(convert('date', '1970-01-01')).toBe(0);
    expect(convert('date', '2024-02-29')).toBe(19_782);
    expect(convert('date', '1969-12-31')).toBe(-1);
    expect(convert('date', '0001-12-31 BC')).toBe(-719_163);
    expect(convert('date', 'infinity')).toBe(2 ** 31 - 1);
  });

  it('turns times and timestamps into microseconds without losing any', () => {
    expect(convert('time', '13:45:07.123456')).toBe(49_507_123_456n);
    expect(convert('time', '24:00:00')).toBe(86_400_000_000n);
    expect(convert('timestamp', '2024-01-02 03:04:05.123456')).toBe(1_704_164_645_123_456n);
    expect(convert('timestamp', '1969-12-31 23:59:59.999999')).toBe(-1n);
    expect(convert('timestamp', '-infinity')).toBe(-(2n ** 63n));
  });

  it('writes timestamptz as ISO-8601 in UTC with microseconds', () => {
    expect(convert('timestamptz', '2024-01-02 03:04:05.123456+05:30')).toBe('2024-01-01T21:34:05.123456Z');
    expect(convert('timestamptz', '2024-01-02 03:04:05+00')).toBe('2024-01-02T03:04:05Z');
    expect(convert('timestamptz', '1900-01-01 00:00:00-00:09:21')).toBe('1900-01-01T00:09:21Z');
    expect(convert('timestamptz', 'infinity')).toBe('infinity');
  });

  it('writes intervals as ISO-8601 durations', () => {
    expect(convert('interval', '1 year 2 mons 3 days 04:05:06.5')).toBe('P1Y2M3DT4H5M6.5S');
    expect(convert('interval', '-1 days +02:00:00')).toBe('P-1DT2H');
    expect(convert('interval', '-00:00:01.25')).toBe('PT-1.25S');
    expect(convert('interval', '00:00:00')).toBe('PT0S');
    expect(convert('interval', 'P1D')).toBe('P1D');
  });

  it('reads uuid, json and bytea', () => {
    expect(convert('uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(convert('jsonb', '{"a": 1}')).toBe('{"a": 1}');
    expect(convert('json', { a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(convert('bytea', '\\xdeadbeef')).toEqual(Buffer.from('deadbeef', 'hex'));
    expect(convert('bytea', 'a\\000\\\\')).toEqual(Buffer.from([0x61, 0, 0x5c]));
  });

  it('converts array literals element by element, NULL elements included', () => {
    const intArray = type('_int8', { kind: 'array', element: type('int8') });
    expect(toAvroValue(column(intArray), '{1,NULL,9007199254740993}')).toEqual([1n, null, 9007199254740993n]);
    const textArray = type('_text', { kind: 'array', element: type('text') });
    expect(toAvroValue(column(textArray), '{"a,b","say \\"hi\\"",plain,""}')).toEqual(['a,b', 'say "hi"', 'plain', '']);
    expect(toAvroValue(column(textArray), ['x', null])).toEqual(['x', null]);
    expect(() => toAvroValue(column(intArray), '{{1,2},{3,4}}')).toThrow('multi-dimensional arrays are not supported');
  });

  it('converts a domain as its base type and an unknown type as its text', () => {
    expect(toAvroValue(column({ oid: 0, name: 'positive', kind: 'domain', base: type('int8') }), '7')).toBe(7n);
    expect(convert('point', '(1,2)')).toBe('(1,2)');
  });

  it('refuses a JavaScript Date and names the column', () => {
    expect(() => toAvroValue(column(type('timestamptz'), 'updated_at'), new Date())).toThrow(/column updated_at \(timestamptz\): got a JavaScript Date/);
  });
});

describe('change event rows', () => {
  const derived = deriveSchemas(everyTypeTable, { topicPrefix: 'shop' });
  const textRow = {
    id: '9007199254740993',
    small: '1',
    count: '2',
    price: '1234.50',
    ratio: '0.333333333333333333333',
    weight: '1.5',
    score: '2.25',
    active: 't',
    name: 'Ada',
    code: 'A1',
    grade: 'B ',
    born: '1990-05-01',
    opens: '08:30:00',
    created: '2024-01-02 03:04:05.123456',
    updated: '2024-01-02 03:04:05.123456+01',
    trial: '14 days',
    token: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    profile: '{"vip": true}',
    settings: '{}',
    avatar: '\\x00ff',
    mood: 'happy',
    tags: '{new,"big spender"}',
    email: 'ada@example.com',
    location: '(1,2)',
  };

  it('encodes a whole row with avsc and decodes it back exactly', () => {
    const { row, unchangedToastColumns } = toAvroRow(everyTypeTable, textRow);
    expect(unchangedToastColumns).toEqual([]);
    const valueType = createAvroType(derived.valueSchema);
    const event = {
      before: null,
      after: row,
      source: { connector: 'customers', lsn: 23_456_789n, commitLsn: 23_456_800n, sequence: 0n, txId: 771n, tsMs: 1_704_164_645_123n, schema: 'legacy', table: 'customers', snapshot: false },
      op: 'c',
      tsMs: 1_704_164_645_200n,
      unchangedToastColumns,
    };
    const decoded = valueType.fromBuffer(valueType.toBuffer(event)) as { after: Record<string, unknown> };
    expect({ ...decoded.after }).toEqual({
      ...row,
      id: 9007199254740993n,
      price: '1234.50',
      created: 1_704_164_645_123_456n,
      updated: '2024-01-02T02:04:05.123456Z',
      trial: 'P14D',
      tags: ['new', 'big spender'],
    });
  });

  it('marks values PostgreSQL did not send (unchanged TOAST) instead of passing them off as NULL', () => {
    const { row, unchangedToastColumns } = toAvroRow(everyTypeTable, { ...textRow, name: undefined, profile: undefined });
    expect(unchangedToastColumns).toEqual(['name', 'profile']);
    expect(row.name).toBe(''); // NOT NULL: the empty value of its type, listed above
    expect(row.profile).toBeNull();
    const valueType = createAvroType(derived.valueSchema);
    expect(valueType.isValid({ before: null, after: row, source: { connector: 'c', lsn: 1n, commitLsn: null, sequence: 1, txId: null, tsMs: 1n, schema: 's', table: 't', snapshot: true }, op: 'u', tsMs: 1n, unchangedToastColumns })).toBe(true);
  });

  it('builds the key record from the key columns', () => {
    expect(toAvroKey(everyTypeTable, textRow)).toEqual({ id: 9007199254740993n });
  });
});
