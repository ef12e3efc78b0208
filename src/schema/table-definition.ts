/**
 * A source table as the schema derivation and the value converter see it: plain data read from
 * pg_catalog by `readTableDefinition` (or built by hand in tests).
 */

export type PgTypeKind = 'base' | 'enum' | 'array' | 'domain' | 'composite' | 'range' | 'other';

/** A column's PostgreSQL type, with what its type modifier says (numeric precision and scale). */
export interface PgType {
  oid: number;
  /** pg_type.typname: `int4`, `numeric`, `_int4` (int4[]), or the name of an enum or domain. */
  name: string;
  kind: PgTypeKind;
  /** numeric(p,s): precision and scale; absent for an unconstrained numeric. */
  precision?: number;
  scale?: number;
  /** Enum labels in their sort order. */
  enumValues?: string[];
  /** Array element type. */
  element?: PgType;
  /** Domain base type. */
  base?: PgType;
}

export interface ColumnDefinition {
  name: string;
  type: PgType;
  /** format_type() text, e.g. `numeric(10,2)`, `character varying(80)`, `mood[]`: for messages. */
  declaredType: string;
  nullable: boolean;
}

export interface TableDefinition {
  schema: string;
  table: string;
  /** In table order. */
  columns: ColumnDefinition[];
  /** Key column names in key order (primary key order, not table order). */
  keyColumns: string[];
}

/** The type a value really has: domains are replaced by their base type, recursively. */
export function resolveDomain(type: PgType): PgType {
  let current = type;
  while (current.kind === 'domain' && current.base) current = current.base;
  return current;
}
