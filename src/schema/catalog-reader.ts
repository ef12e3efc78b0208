/**
 * Reads a table's definition from pg_catalog: columns with their types (domains, enums and arrays
 * resolved, numeric precision and scale from the type modifier), nullability and the key columns.
 *
 * Generated columns (GENERATED ALWAYS AS … STORED) are left out unless `generatedColumns` says the
 * publication sends them: pgoutput sends them only from PostgreSQL 18 on, with the publication's
 * publish_generated_columns = stored. Leaving them out keeps the snapshot's schema equal to the
 * stream's, so their first streamed change does not register a new schema version.
 */
import type pg from 'pg';
import { TandemError } from '../errors.js';
import type { ColumnDefinition, PgType, PgTypeKind, TableDefinition } from './table-definition.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

interface TypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typcategory: string;
  typelem: number;
  typbasetype: number;
  typtypmod: number;
  typnotnull: boolean;
}

export interface ReadTableOptions {
  /** Include generated columns: the publication publishes them (see publishesGeneratedColumns). */
  generatedColumns?: boolean;
}

export async function readTableDefinition(client: Queryable, schema: string, table: string, options: ReadTableOptions = {}): Promise<TableDefinition> {
  const relation = await client.query<{ oid: number; relreplident: string }>(
    `SELECT c.oid, c.relreplident
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, table],
  );
  if (relation.rows.length === 0) {
    throw new TandemError(`table ${schema}.${table} does not exist in the source database`, {
      fix: 'create the table, or correct source.tables in the connector',
    });
  }
  const { oid, relreplident } = relation.rows[0]!;
  const attributes = await client.query<{ name: string; type_oid: number; typmod: number; not_null: boolean; declared_type: string }>(
    `SELECT a.attname AS name, a.atttypid::int AS type_oid, a.atttypmod AS typmod, a.attnotnull AS not_null,
            format_type(a.atttypid, a.atttypmod) AS declared_type
       FROM pg_attribute a
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND ($2 OR a.attgenerated = '')
      ORDER BY a.attnum`,
    [oid, options.generatedColumns ?? false],
  );
  const keyColumns = await readKeyColumns(client, oid, relreplident);
  const types = new TypeReader(client);
  const columns: ColumnDefinition[] = [];
  for (const attribute of attributes.rows) {
    const { type, notNullDomain } = await types.read(attribute.type_oid, attribute.typmod);
    columns.push({
      name: attribute.name,
      type,
      declaredType: attribute.declared_type,
      nullable: !attribute.not_null && !notNullDomain,
    });
  }
  return { schema, table, columns, keyColumns };
}

/**
 * Whether pgoutput sends a publication's generated columns: PostgreSQL 18's publish_generated_columns
 * (pg_publication.pubgencols = 's'). Read through to_jsonb so that servers before 18, which lack
 * the column, answer false instead of failing.
 */
export async function publishesGeneratedColumns(client: Queryable, publication: string): Promise<boolean> {
  const { rows } = await client.query<{ setting: string | null }>(`SELECT to_jsonb(p) ->> 'pubgencols' AS setting FROM pg_publication p WHERE p.pubname = $1`, [publication]);
  const setting = rows[0]?.setting ?? null;
  return setting === 's' || setting === 'true';
}

/**
 * A column type as a WAL Relation message states it (type oid and modifier), which may differ from
 * the catalog's current definition when the table changed after the change was written.
 */
export async function readColumnType(client: Queryable, oid: number, typmod: number): Promise<{ type: PgType; declaredType: string; notNullDomain: boolean }> {
  const { type, notNullDomain } = await new TypeReader(client).read(oid, typmod);
  const { rows } = await client.query<{ declared: string }>('SELECT format_type($1, $2) AS declared', [oid, typmod]);
  return { type, declaredType: rows[0]!.declared, notNullDomain };
}

/** The primary key, else the REPLICA IDENTITY USING INDEX columns, in index order. */
async function readKeyColumns(client: Queryable, relationOid: number, replicaIdentity: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string; is_primary: boolean }>(
    `SELECT a.attname AS name, i.indisprimary AS is_primary
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident)
      ORDER BY i.indisprimary DESC, k.position`,
    [relationOid],
  );
  const primary = rows.filter((row) => row.is_primary).map((row) => row.name);
  if (primary.length > 0) return primary;
  return replicaIdentity === 'i' ? rows.map((row) => row.name) : [];
}

class TypeReader {
  constructor(private readonly client: Queryable) {}

  async read(oid: number, typmod: number): Promise<{ type: PgType; notNullDomain: boolean }> {
    const { rows } = await this.client.query<TypeRow>(
      `SELECT oid::int, typname, typtype, typcategory, typelem::int, typbasetype::int, typtypmod, typnotnull FROM pg_type WHERE oid = $1`,
      [oid],
    );
    const row = rows[0];
    if (!row) throw new TandemError(`type oid ${oid} is not in pg_type`);
    const type: PgType = { oid: row.oid, name: row.typname, kind: kindOf(row) };
    let notNullDomain = false;
    if (type.kind === 'domain') {
      const base = await this.read(row.typbasetype, row.typtypmod);
      type.base = base.type;
      notNullDomain = row.typnotnull || base.notNullDomain;
    } else if (type.kind === 'array') {
      // An array column's type modifier is its element's (numeric(10,2)[]).
      type.element = (await this.read(row.typelem, typmod)).type;
    } else if (type.kind === 'enum') {
      const labels = await this.client.query<{ label: string }>('SELECT enumlabel AS label FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder', [oid]);
      type.enumValues = labels.rows.map((label) => label.label);
    } else if (row.typname === 'numeric' && typmod >= 0) {
      // typmod = ((precision << 16) | scale) + 4, the scale as 11-bit two's complement (negative since PostgreSQL 15).
      type.precision = ((typmod - 4) >> 16) & 0xffff;
      type.scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
    }
    return { type, notNullDomain };
  }
}

function kindOf(row: TypeRow): PgTypeKind {
  switch (row.typtype) {
    case 'd':
      return 'domain';
    case 'e':
      return 'enum';
    case 'c':
      return 'composite';
    case 'r':
    case 'm':
      return 'range';
    case 'b':
      return row.typcategory === 'A' && row.typelem !== 0 ? 'array' : 'base';
    default:
      return 'other';
  }
}
