import { describe, expect, it } from 'vitest';
import { describeType, parseAvroSchema, parseAvroSchemaText, type RecordNode } from '../../../src/schema/avro-schema.js';

const record = (fields: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'record', name: 'Order', namespace: 'shop', fields, ...extra });
const parseError = (json: unknown) => {
  try {
    parseAvroSchema(json);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the schema to be refused');
};

describe('Avro schema parsing', () => {
  it('resolves named types by full name, within their namespace', () => {
    const schema = parseAvroSchema(
      record([
        { name: 'billing', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] } },
        { name: 'shipping', type: ['null', 'Address'], default: null },
        { name: 'status', type: { type: 'enum', name: 'Status', namespace: 'shop.enums', symbols: ['OPEN', 'PAID'] } },
        { name: 'previous', type: ['null', 'shop.enums.Status'], default: null },
      ]),
    ) as RecordNode;
    expect(schema.name).toBe('shop.Order');
    const [billing, shipping, status, previous] = schema.fields;
    expect(describeType(billing!.type)).toBe('record Address');
    expect(shipping!.type).toEqual({ kind: 'union', branches: [{ kind: 'primitive', type: 'null' }, billing!.type] });
    expect((status!.type as { name: string }).name).toBe('shop.enums.Status');
    expect((previous!.type as { branches: unknown[] }).branches[1]).toBe(status!.type);
  });

  it('allows a record to refer to itself', () => {
    const node = parseAvroSchema({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'], default: null }] }) as RecordNode;
    expect((node.fields[0]!.type as { branches: unknown[] }).branches[1]).toBe(node);
  });

  it('gives the line and column of a JSON syntax error', () => {
    expect(() => parseAvroSchemaText('{\n  "type": "record",\n  "name": "Order"\n  "fields": []\n}')).toThrow(/^invalid JSON at line 4, column 3: /);
    expect(() => parseAvroSchemaText('{"type": "record"')).toThrow(/^invalid JSON at line 1, column \d+: /);
  });

  it('names the path of a reference to an unknown type', () => {
    expect(parseError(record([{ name: 'lines', type: { type: 'array', items: 'OrderLine' } }]))).toBe('lines[]: unknown type "OrderLine" (defined so far: shop.Order)');
  });

  it('refuses what the specification forbids, saying where', () => {
    expect(parseError(record([{ name: 'a', type: 'int' }, { name: 'a', type: 'long' }]))).toBe('a: record shop.Order has two fields named a');
    expect(parseError(record([{ name: 'total', type: 'int', default: 'zero' }]))).toBe('total: default "zero" does not match int');
    expect(parseError(record([{ name: 'note', type: ['null', 'string'], default: 'none' }]))).toBe('note: default "none" does not match its first union branch, null');
    expect(parseError(record([{ name: 'u', type: ['string', 'string'] }]))).toBe('u: union has two branches of type string, which Avro forbids');
    expect(parseError(record([{ name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'A'] } }]))).toBe('e: enum shop.E lists a symbol twice');
    expect(parseError(record([{ name: 'd', type: { type: 'bytes', logicalType: 'decimal', precision: 4, scale: 6 } }]))).toBe('d: decimal scale 6 must be an integer between 0 and the precision 4');
    expect(parseError(record([{ name: '1st', type: 'int' }]))).toBe('fields[0]: invalid field name "1st" (letters, digits and _, not starting with a digit)');
    expect(parseError({ type: 'record', name: 'A', fields: [{ name: 'b', type: { type: 'record', name: 'A', fields: [] } }] })).toBe('b: type "A" is defined twice');
    expect(parseError({ type: 'wat' })).toBe('unknown type "wat"');
  });

  it('describes types for messages', () => {
    expect(describeType(parseAvroSchema({ type: 'long', logicalType: 'timestamp-micros' }))).toBe('long (timestamp-micros)');
    expect(describeType(parseAvroSchema({ type: 'map', values: ['null', 'int'] }))).toBe('map<[null, int]>');
  });
});
