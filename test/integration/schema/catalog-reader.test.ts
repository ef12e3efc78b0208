import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishesGeneratedColumns, readTableDefinition } from '../../../src/schema/catalog-reader.js';
import { createTestDatabase } from '../../support/postgres.js';

describe('reading a table definition from pg_catalog', () => {
  const client = { current: undefined as pg.Client | undefined };
  const read = (schema: string, table: string) => readTableDefinition(client.current!, schema, table);

  beforeAll(async () => {
    const db = await createTestDatabase('catalog');
    await db.sql(`
      CREATE TYPE size AS ENUM ('S', 'M', 'L');
      CREATE DOMAIN sku AS text NOT NULL;
      CREATE DOMAIN price AS numeric(8,3);
      CREATE TABLE order_lines (
        line int,
        order_id bigint,
        product sku,
        unit_price price,
        sizes size[],
        amounts numeric(6,2)[],
        note varchar(200),
        dropped int,
        PRIMARY KEY (order_id, line)
      );
      ALTER TABLE order_lines DROP COLUMN dropped;
      CREATE TABLE events (id uuid NOT NULL, at timestamptz);
      CREATE UNIQUE INDEX events_id ON events (id);
      ALTER TABLE events REPLICA IDENTITY USING INDEX events_id;
      CREATE TABLE log (line text);
      CREATE TABLE totals (id int PRIMARY KEY, qty int, total int GENERATED ALWAYS AS (qty * 2) STORED, note text);
      CREATE PUBLICATION totals_pub FOR TABLE totals;`);
    client.current = new pg.Client({ connectionString: db.url });
    await client.current.connect();
  });

  afterAll(async () => {
    await client.current?.end();
  });

  it('lists the columns in table order with their resolved types, skipping dropped ones', async () => {
    const table = await read('public', 'order_lines');
    const key = (column: { name: string }) => table.keyColumns.includes(column.name);
    expect(table.columns.map((column) => [column.name, column.declaredType, column.nullable, key(column)])).toEqual([
      ['line', 'integer', false, true],
      ['order_id', 'bigint', false, true],
      ['product', 'sku', false, false],
      ['unit_price', 'price', true, false],
      ['sizes', 'size[]', true, false],
      ['amounts', 'numeric(6,2)[]', true, false],
      ['note', 'character varying(200)', true, false],
    ]);
    const type = (name: string) => table.columns.find((column) => column.name === name)!.type;
    expect(type('product')).toMatchObject({ kind: 'domain', name: 'sku', base: { kind: 'base', name: 'text' } });
    expect(type('unit_price')).toMatchObject({ kind: 'domain', base: { name: 'numeric', precision: 8, scale: 3 } });
    expect(type('sizes')).toMatchObject({ kind: 'array', element: { kind: 'enum', name: 'size', enumValues: ['S', 'M', 'L'] } });
    expect(type('amounts')).toMatchObject({ kind: 'array', element: { name: 'numeric', precision: 6, scale: 2 } });
  });

  it('takes the key from the primary key, in primary key order', async () => {
    expect((await read('public', 'order_lines')).keyColumns).toEqual(['order_id', 'line']);
  });

  it('takes the key from the replica identity index when there is no primary key', async () => {
    expect((await read('public', 'events')).keyColumns).toEqual(['id']);
    expect((await read('public', 'log')).keyColumns).toEqual([]);
  });

  it('leaves generated columns out unless the publication sends them (PostgreSQL 18 publish_generated_columns)', async () => {
    expect((await read('public', 'totals')).columns.map((column) => column.name)).toEqual(['id', 'qty', 'note']);
    const withGenerated = await readTableDefinition(client.current!, 'public', 'totals', { generatedColumns: true });
    expect(withGenerated.columns.map((column) => column.name)).toEqual(['id', 'qty', 'total', 'note']);
    const version = Number((await client.current!.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
    // Before 18 pgoutput never sends them; from 18 on only with the option, which is off by default.
    expect(await publishesGeneratedColumns(client.current!, 'totals_pub'), `server_version_num ${version}`).toBe(false);
  });

  it('says which table is missing and how to fix it', async () => {
    await expect(read('public', 'nope')).rejects.toThrow('table public.nope does not exist in the source database');
  });
});
