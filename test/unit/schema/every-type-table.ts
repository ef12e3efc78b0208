import type { ColumnDefinition, PgType, TableDefinition } from '../../../src/schema/table-definition.js';

/** A table with a column of every type the type mapping names (and one it does not: point). */
export const base = (name: string, extra: Partial<PgType> = {}): PgType => ({ oid: 0, name, kind: 'base', ...extra });
export const column = (name: string, type: PgType, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({
  name,
  type,
  declaredType: type.name,
  nullable: true,
  ...extra,
});

export const everyTypeTable: TableDefinition = {
  schema: 'legacy',
  table: 'customers',
  keyColumns: ['id'],
  columns: [
    column('id', base('int8'), { nullable: false }),
    column('small', base('int2')),
    column('count', base('int4'), { nullable: false }),
    column('price', base('numeric', { precision: 10, scale: 2 })),
    column('ratio', base('numeric')),
    column('weight', base('float4')),
    column('score', base('float8')),
    column('active', base('bool')),
    column('name', base('text'), { nullable: false }),
    column('code', base('varchar')),
    column('grade', base('bpchar')),
    column('born', base('date')),
    column('opens', base('time')),
    column('created', base('timestamp')),
    column('updated', base('timestamptz')),
    column('trial', base('interval')),
    column('token', base('uuid')),
    column('profile', base('jsonb')),
    column('settings', base('json')),
    column('avatar', base('bytea')),
    column('mood', { oid: 0, name: 'mood', kind: 'enum', enumValues: ['sad', 'ok', 'happy'] }),
    column('tags', { oid: 0, name: '_text', kind: 'array', element: base('text') }),
    column('email', { oid: 0, name: 'email_address', kind: 'domain', base: base('varchar') }),
    column('location', base('point'), { declaredType: 'point' }),
  ],
};
