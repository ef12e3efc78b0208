import { describe, expect, it } from 'vitest';
import { collapseByKey } from '../../../src/translate/collapse.js';
import type { SourceChange } from '../../../src/translate/event-reader.js';
import { comparePositions, positionOf } from '../../../src/translate/position.js';
import { copyField, stagingTypeOfAvro, textConverterOf } from '../../../src/translate/pg-text.js';

let offset = 0;
function change(key: string, op: SourceChange['op'], values: Record<string, string | null>, unsent: string[] = []): SourceChange {
  offset += 1;
  return { topic: 't', partition: 0, offset: String(offset), op, position: { lsn: 1n, phase: 1, sequence: BigInt(offset) }, key, values, unsent, fields: [], schemaId: 1, commitTsMs: 0, message: { offset: String(offset) } as never };
}

describe('collapsing a batch per key', () => {
  it('keeps each key’s final state, in the order of each key’s last change', () => {
    const rows = collapseByKey([change('1', 'c', { v: 'a' }), change('2', 'c', { v: 'b' }), change('1', 'u', { v: 'c' }), change('2', 'd', { v: null }), change('3', 'r', { v: 'x' })]);
    expect(rows.map((row) => [row.key, row.op, row.values.v, row.changes])).toEqual([
      ['1', 'u', 'c', 2],
      ['2', 'd', null, 2],
      ['3', 'u', 'x', 1],
    ]);
  });

  it('fills a column not sent (unchanged TOAST) from an earlier change of the batch, and keeps it unsent otherwise', () => {
    const [row] = collapseByKey([change('1', 'u', { a: '1', big: 'BIG' }), change('1', 'u', { a: '2', big: null }, ['big'])]);
    expect(row).toMatchObject({ values: { a: '2', big: 'BIG' }, unsent: [] });
    const [alone] = collapseByKey([change('1', 'u', { a: '2', big: null }, ['big'])]);
    expect(alone!.unsent).toEqual(['big']);
    const [afterDelete] = collapseByKey([change('1', 'd', { a: '1' }), change('1', 'c', { a: '3', big: 'B' })]);
    expect(afterDelete).toMatchObject({ op: 'u', values: { a: '3', big: 'B' } });
  });
});

describe('source positions', () => {
  it('puts initial snapshot reads before every streamed change of the slot, then orders by commit LSN and sequence', () => {
    const snapshot = positionOf({ lsn: 100n, commitLsn: null, sequence: 5n });
    const streamedAtPoint = positionOf({ lsn: 90n, commitLsn: 100n, sequence: 0n });
    const later = positionOf({ lsn: 150n, commitLsn: 200n, sequence: 0n });
    expect(comparePositions(snapshot, streamedAtPoint)).toBeLessThan(0);
    expect(comparePositions(streamedAtPoint, later)).toBeLessThan(0);
    expect(comparePositions(positionOf({ lsn: 100n, commitLsn: null, sequence: 4n }), snapshot)).toBeLessThan(0);
    expect(comparePositions(later, positionOf({ lsn: 1n, commitLsn: 200n, sequence: 0n }))).toBe(0);
  });
});

describe('Avro values → PostgreSQL text', () => {
  it('writes each logical type as PostgreSQL reads it back', () => {
    expect(textConverterOf(['null', { type: 'int', logicalType: 'date' }])(19782)).toBe('2024-02-29');
    expect(textConverterOf({ type: 'int', logicalType: 'date' })(2 ** 31 - 1)).toBe('infinity');
    expect(textConverterOf({ type: 'long', logicalType: 'time-micros' })(49507123456n)).toBe('13:45:07.123456');
    expect(textConverterOf({ type: 'long', logicalType: 'local-timestamp-micros' })(1704164645123456n)).toBe('2024-01-02 03:04:05.123456');
    expect(textConverterOf({ type: 'long', logicalType: 'local-timestamp-micros' })(-62167219200000000n - 86400000000n)).toBe('0002-12-31 00:00:00 BC');
    expect(textConverterOf('boolean')(false)).toBe('f');
    expect(textConverterOf('double')(Number.NaN)).toBe('NaN');
    expect(textConverterOf('double')(-Infinity)).toBe('-Infinity');
    expect(textConverterOf('bytes')(Buffer.from([0, 255]))).toBe('\\x00ff');
    expect(textConverterOf('long')(9223372036854775807n)).toBe('9223372036854775807');
    expect(textConverterOf({ type: 'array', items: ['null', 'string'] })(['a"b', null, 'c\\d'])).toBe('{"a\\"b",NULL,"c\\\\d"}');
    expect(textConverterOf(['null', 'string'])(null)).toBeNull();
  });

  it('derives a staging type from the Avro type when the legacy catalog has none', () => {
    expect(stagingTypeOfAvro(['null', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }])).toBe('numeric(10,2)');
    expect(stagingTypeOfAvro({ type: 'array', items: ['null', 'long'] })).toBe('bigint[]');
    expect(stagingTypeOfAvro({ type: 'string', logicalType: 'uuid' })).toBe('uuid');
    expect(stagingTypeOfAvro('double')).toBe('double precision');
  });

  it('escapes COPY text fields', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
  });
});
