/**
 * The shapes the mapping is resolved against: the target tables from the target catalog, and the
 * legacy row as translate stages it (the writer schema's fields, typed as in the legacy catalog
 * where the target database knows the type, else from the Avro type).
 */
import type pg from 'pg';
import type { SourceShape, TargetShape } from '../mapping/resolve.js';
import { quoteQualified } from '../pg/identifiers.js';
import type { TableDefinition, ColumnDefinition } from '../schema/table-definition.js';
import { resolveDomain } from '../schema/table-definition.js';
import type { RowField } from './schema-cache.js';

/** First oid of user-defined objects: types below it are built in, so the target database has them too. */
const FIRST_NORMAL_OBJECT_ID = 16384;

export async function readTargetShapes(client: pg.ClientBase, tables: readonly string[]): Promise<Map<string, TargetShape | undefined>> {
  const shapes = new Map<string, TargetShape | undefined>();
  for (const table of new Set(tables)) {
    const { rows: found } = await client.query<{ oid: number | null }>('SELECT to_regclass($1)::oid::int AS oid', [quoteQualified(table)]);
    const oid = found[0]?.oid;
    if (!oid) {
      shapes.set(table, undefined);
      continue;
    }
    const { rows: columns } = await client.query<{ name: string; type: string; not_null: boolean; default: string | null; generated: boolean }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
              CASE WHEN a.attidentity = 'd' THEN 'DEFAULT' ELSE pg_get_expr(d.adbin, d.adrelid) END AS default,
              (a.attgenerated <> '' OR a.attidentity = 'a') AS generated
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    );
    const { rows: key } = await client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.position`,
      [oid],
    );
    const { rows: parents } = await client.query<{ parent: string }>(
      `SELECT n.nspname || '.' || c.relname AS parent FROM pg_constraint f
         JOIN pg_class c ON c.oid = f.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE f.conrelid = $1 AND f.contype = 'f'`,
      [oid],
    );
    shapes.set(table, {
      table,
      columns: columns.map((column) => ({ name: column.name, type: column.type, notNull: column.not_null, default: column.default, generated: column.generated })),
      key: key.map((row) => row.name),
      parents: parents.map((row) => row.parent),
    });
  }
  return shapes;
}

/** The staging type of a legacy column: its declared type when built in, a domain's built-in base, else text. */
export function stagingTypeOf(column: ColumnDefinition): string | null {
  if (column.type.kind === 'base' && column.type.oid < FIRST_NORMAL_OBJECT_ID) return column.declaredType;
  const resolved = resolveDomain(column.type);
  if (resolved.kind === 'base' && resolved.oid < FIRST_NORMAL_OBJECT_ID) return resolved.name === 'numeric' && resolved.precision !== undefined ? `numeric(${resolved.precision},${resolved.scale ?? 0})` : resolved.name;
  if (resolved.kind === 'array' && resolved.element) {
    const element = resolveDomain(resolved.element);
    return element.kind === 'base' && element.oid < FIRST_NORMAL_OBJECT_ID ? `${element.name}[]` : 'text[]';
  }
  return null;
}

/** The staged shape of rows written with these fields (the union over a batch's writer schemas). */
export function sourceShapeOf(table: string, fields: readonly RowField[], catalog: TableDefinition | null, keyFallback: readonly string[]): SourceShape {
  const byName = new Map(catalog?.columns.map((column) => [column.name, column]) ?? []);
  return {
    table,
    columns: fields.map((field) => {
      const column = byName.get(field.name);
      return { name: field.name, stagingType: (column && stagingTypeOf(column)) ?? field.avroStagingType };
    }),
    key: catalog && catalog.keyColumns.length > 0 ? catalog.keyColumns : keyFallback,
  };
}
