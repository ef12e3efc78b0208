import { describe, expect, it } from 'vitest';
import { parseAvroSchema, type AvroRecordJson } from '../../../src/schema/avro-schema.js';
import { createAvroType } from '../../../src/schema/avro-type.js';
import { deriveSchemas } from '../../../src/schema/derive.js';
import type { TableDefinition } from '../../../src/schema/table-definition.js';
import { base, column, everyTypeTable } from './every-type-table.js';

function rowFields(valueSchema: AvroRecordJson): Record<string, unknown> {
  const before = valueSchema.fields.find((field) => field.name === 'before')!;
  const row = (before.type as unknown[])[1] as AvroRecordJson;
  return Object.fromEntries(row.fields.map((field) => [field.name, field.type]));
}

describe('schema derivation from a table definition', () => {
  const derived = deriveSchemas(everyTypeTable, { topicPrefix: 'shop' });

  it('names the topic <prefix>.<schema>.<table> and the records after it', () => {
    expect(derived.topic).toBe('shop.legacy.customers');
    expect(derived.keySchema).toMatchObject({ type: 'record', name: 'Key', namespace: 'shop.legacy.customers' });
    expect(derived.valueSchema).toMatchObject({ type: 'record', name: 'Envelope', namespace: 'shop.legacy.customers' });
  });

  it('keys events by the primary key columns', () => {
    expect(derived.keySchema.fields).toEqual([{ name: 'id', type: 'long' }]);
  });

  it('wraps rows in the Debezium-compatible envelope', () => {
    expect(derived.valueSchema.fields.map((field) => field.name)).toEqual(['before', 'after', 'source', 'op', 'tsMs', 'unchangedToastColumns']);
    expect(derived.valueSchema.fields[1]).toMatchObject({ name: 'after', type: ['null', 'Value'], default: null });
    const source = derived.valueSchema.fields.find((field) => field.name === 'source')!.type as AvroRecordJson;
    expect(source.name).toBe('Source');
    expect(source.namespace).toBe('tandem');
    expect(source.fields.map((field) => field.name)).toEqual(['connector', 'lsn', 'commitLsn', 'sequence', 'txId', 'tsMs', 'schema', 'table', 'snapshot']);
    expect(derived.valueSchema.fields[5]).toMatchObject({ type: { type: 'array', items: 'string' }, default: [] });
  });

  it('maps each PostgreSQL type as the table in src/schema/README.md says', () => {
    const nullable = (type: unknown) => ['null', type];
    expect(rowFields(derived.valueSchema)).toEqual({
      id: 'long',
      small: nullable('int'),
      count: 'int',
      price: nullable({ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }),
      ratio: nullable('string'),
      weight: nullable('float'),
      score: nullable('double'),
      active: nullable('boolean'),
      name: 'string',
      code: nullable('string'),
      grade: nullable('string'),
      born: nullable({ type: 'int', logicalType: 'date' }),
      opens: nullable({ type: 'long', logicalType: 'time-micros' }),
      created: nullable({ type: 'long', logicalType: 'local-timestamp-micros' }),
      updated: nullable('string'),
      trial: nullable('string'),
      token: nullable({ type: 'string', logicalType: 'uuid' }),
      profile: nullable('string'),
      settings: nullable('string'),
      avatar: nullable('bytes'),
      mood: nullable({ type: 'string', allowed: ['sad', 'ok', 'happy'] }),
      tags: nullable({ type: 'array', items: ['null', 'string'] }),
      email: nullable('string'),
      location: nullable('string'),
    });
  });

  it('gives nullable columns a null default so that adding one stays compatible', () => {
    const row = ((derived.valueSchema.fields[0]!.type as unknown[])[1] as AvroRecordJson).fields;
    expect(row.find((field) => field.name === 'small')).toMatchObject({ default: null });
    expect(row.find((field) => field.name === 'name')).not.toHaveProperty('default');
  });

  it('sends an unknown type as text and warns, naming the column', () => {
    expect(derived.warnings).toEqual(['column legacy.customers.location has type point, which tandem does not map: it is sent as its text form (Avro string)']);
  });

  it('produces schemas that the Avro parser and avsc both accept', () => {
    expect(() => parseAvroSchema(derived.valueSchema)).not.toThrow();
    expect(() => parseAvroSchema(derived.keySchema)).not.toThrow();
    expect(() => createAvroType(derived.valueSchema)).not.toThrow();
  });

  it('turns column names Avro forbids into valid field and namespace names', () => {
    const odd: TableDefinition = {
      schema: 'Sales-2024',
      table: 'order items',
      keyColumns: ['order-id'],
      columns: [column('order-id', base('int4'), { nullable: false }), column('1st choice', base('text'))],
    };
    const schemas = deriveSchemas(odd, { topicPrefix: 'erp-db' });
    expect(schemas.keySchema.namespace).toBe('erp_db.Sales_2024.order_items');
    expect(schemas.keySchema.fields).toEqual([{ name: 'order_id', type: 'int' }]);
    expect(Object.keys(rowFields(schemas.valueSchema))).toEqual(['order_id', '_1st_choice']);
  });

  it('refuses two columns that would become the same field', () => {
    const clash: TableDefinition = { schema: 'public', table: 't', keyColumns: [], columns: [column('a-b', base('text')), column('a_b', base('text'))] };
    expect(() => deriveSchemas(clash, { topicPrefix: 'p' })).toThrow('columns "a-b" and "a_b" of public.t both become Avro field a_b');
  });

  it('warns that a table without a key has unkeyed events', () => {
    const unkeyed: TableDefinition = { schema: 'public', table: 'log', keyColumns: [], columns: [column('line', base('text'))] };
    const schemas = deriveSchemas(unkeyed, { topicPrefix: 'p' });
    expect(schemas.keySchema.fields).toEqual([]);
    expect(schemas.warnings[0]).toContain('table public.log has no primary key');
  });
});
