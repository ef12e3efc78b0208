/**
 * The one place mapping SQL is written: a resolved mapping → the statements translate runs over a
 * staged batch (staging table, upsert, delete or soft delete, truncate) and the projection that
 * reconcile runs over the legacy table. Expressions are the user's text, parenthesised, evaluated
 * where only the legacy row's columns are in scope. Pure.
 *
 * Upserts and deletes take two parameters, `$1` and `$2`: the range of staged rows
 * (`tandem$idx >= $1 AND tandem$idx < $2`), so a failing batch can be bisected without staging again.
 */
import { arrayLiteral, quoteIdent, quoteLiteral, quoteQualified } from '../pg/identifiers.js';
import type { ResolvedColumn, ResolvedMapping, ResolvedSource } from './resolve.js';

export const STAGING = {
  index: 'tandem$idx',
  op: 'tandem$op',
  unsent: 'tandem$unsent',
} as const;

export interface CompiledTarget {
  mapping: ResolvedMapping;
  /** Creates and updates whose sent columns cover every column this mapping reads. */
  upsert: string;
  /**
   * Rows with a column that was not sent (unchanged TOAST) that this mapping reads: first inserted
   * when new (ON CONFLICT DO NOTHING), then updated column by column, keeping the current value of
   * each column whose expression reads an unsent column. A row whose `where` reads an unsent column
   * keeps its membership: only updated, if present. Null when no column or `where` reads a column.
   */
  insertUnsent: string | null;
  updateUnsent: string | null;
  /** Deletes, and rows that no longer match `where`: DELETE, or the soft-delete UPDATE. */
  remove: string;
  /** The legacy table was truncated: every target row goes (or gets the soft-delete values). */
  truncate: string;
}

export interface CompiledSource {
  staging: {
    table: string;
    create: string;
    /** COPY … FROM STDIN (text format); columns in `columns` order. */
    copy: string;
    /** Staged columns after the three bookkeeping ones: the source columns, then js columns. */
    columns: readonly string[];
  };
  /** Parents first; delete in reverse. */
  targets: readonly CompiledTarget[];
}

const RANGE = `${quoteIdent(STAGING.index)} >= $1 AND ${quoteIdent(STAGING.index)} < $2`;
const IS_DELETE = `${quoteIdent(STAGING.op)} = 'd'`;

/** A temporary table per source table and shape (the name changes with the shape). */
export function stagingTableName(sourceTable: string, shapeVersion: number): string {
  return `tandem_stage_${sourceTable.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 50) + `_${shapeVersion}`;
}

export function compileSource(resolved: ResolvedSource, shapeVersion: number): CompiledSource {
  const table = stagingTableName(resolved.source.table, shapeVersion);
  const staged = [...resolved.source.columns.map((column) => column.name), ...resolved.jsColumns.map((js) => js.stagingName)];
  const definitions = [
    `${quoteIdent(STAGING.index)} integer NOT NULL`,
    `${quoteIdent(STAGING.op)} text NOT NULL`,
    `${quoteIdent(STAGING.unsent)} text[] NOT NULL`,
    ...resolved.source.columns.map((column) => `${quoteIdent(column.name)} ${column.stagingType}`),
    ...resolved.jsColumns.map((js) => `${quoteIdent(js.stagingName)} text`),
  ];
  const allColumns = [STAGING.index, STAGING.op, STAGING.unsent, ...staged].map(quoteIdent).join(', ');
  const stagingRef = `pg_temp.${quoteIdent(table)}`;
  return {
    staging: {
      table,
      create: `CREATE TEMPORARY TABLE IF NOT EXISTS ${quoteIdent(table)} (${definitions.join(', ')}) ON COMMIT DELETE ROWS`,
      copy: `COPY ${stagingRef} (${allColumns}) FROM STDIN`,
      columns: staged,
    },
    targets: resolved.mappings.map((mapping) => compileTarget(mapping, stagingRef, resolved)),
  };
}

function expression(column: ResolvedColumn): string {
  return `(${column.sql})`;
}

/**
 * In a subquery a bare NULL (or any untyped literal) would resolve to text: values carried out of a
 * subquery into an UPDATE are cast to the target type. Validation checks the same expressions with
 * assignment casts first (an INSERT of the expression alone), so this adds no conversion.
 */
function typed(column: ResolvedColumn): string {
  return `CAST(${expression(column)} AS ${column.type})`;
}

/** `tandem$unsent && '{a,b}'::text[]`: the staged row lacks one of these columns (unchanged TOAST). */
function lacksAnyOf(names: readonly string[]): string {
  return `${quoteIdent(STAGING.unsent)} && ${quoteLiteral(arrayLiteral(names))}::text[]`;
}

function compileTarget(mapping: ResolvedMapping, stagingRef: string, resolved: ResolvedSource): CompiledTarget {
  const target = quoteQualified(mapping.target.table);
  const where = mapping.node.where ? ` AND (${mapping.node.where.sql}) IS TRUE` : '';
  const written = [...mapping.columns.map((column) => ({ name: column.name, sql: expression(column) })), ...mapping.liveValues.map((live) => ({ name: live.name, sql: `(${live.sql})` }))];
  const columnList = written.map((column) => quoteIdent(column.name)).join(', ');
  const keyList = mapping.key.map((column) => quoteIdent(column.name)).join(', ');
  const keyNames = new Set(mapping.key.map((column) => column.name));
  const updatable = written.filter((column) => !keyNames.has(column.name));
  const onConflict = updatable.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updatable.map((column) => `${quoteIdent(column.name)} = EXCLUDED.${quoteIdent(column.name)}`).join(', ')}`;
  const live = `${RANGE} AND NOT ${IS_DELETE}${where}`;
  const touchesUnsent = mapping.reads.length > 0 ? lacksAnyOf(mapping.reads) : null;
  // A row whose `where` reads a column that was not sent cannot be filtered: that value is unchanged,
  // so the row keeps the membership it had. It is updated if present, never inserted nor removed.
  const sourceNames = new Set(resolved.source.columns.map((column) => column.name));
  const whereReads = mapping.node.where?.reads.filter((name) => sourceNames.has(name)) ?? [];
  const whereUnsent = whereReads.length > 0 ? lacksAnyOf(whereReads) : null;
  const partial = [touchesUnsent, whereUnsent].filter((condition) => condition !== null).map((condition) => `(${condition})`).join(' OR ') || null;
  const select = `SELECT ${written.map((column) => column.sql).join(', ')} FROM ${stagingRef}`;

  const upsert = `INSERT INTO ${target} AS t (${columnList}) ${select} WHERE ${live}${partial ? ` AND NOT (${partial})` : ''} ON CONFLICT (${keyList}) ${onConflict}`;
  let insertUnsent: string | null = null;
  let updateUnsent: string | null = null;
  if (touchesUnsent) {
    insertUnsent = `INSERT INTO ${target} AS t (${columnList}) ${select} WHERE ${live} AND ${touchesUnsent}${whereUnsent ? ` AND NOT (${whereUnsent})` : ''} ON CONFLICT (${keyList}) DO NOTHING`;
  }
  const nonKey = mapping.columns.filter((column) => !keyNames.has(column.name));
  if (partial && nonKey.length + mapping.liveValues.length > 0) {
    const staying = `${RANGE} AND NOT ${IS_DELETE} AND (${partial})${mapping.node.where ? ` AND ((${mapping.node.where.sql}) IS TRUE${whereUnsent ? ` OR ${whereUnsent}` : ''})` : ''}`;
    const values = [
      ...nonKey.map((column, index) => `${typed(column)} AS "v${index}", ${column.reads.length > 0 ? `(${lacksAnyOf(column.reads)})` : 'FALSE'} AS "keep${index}"`),
      `${whereUnsent ? `(${whereUnsent})` : 'FALSE'} AS "undecided"`,
    ];
    const sets = [
      ...nonKey.map((column, index) => `${quoteIdent(column.name)} = CASE WHEN s."keep${index}" THEN t.${quoteIdent(column.name)} ELSE s."v${index}" END`),
      // A row that matches `where` is live again (soft delete); an undecided one stays as it was.
      ...mapping.liveValues.map((value) => `${quoteIdent(value.name)} = CASE WHEN s."undecided" THEN t.${quoteIdent(value.name)} ELSE (${value.sql}) END`),
    ];
    // An undecided row that is soft-deleted keeps its values, as a row leaving `where` does.
    const liveRow = mapping.liveValues.map((value) => `t.${quoteIdent(value.name)} IS NOT DISTINCT FROM (${value.sql})`);
    const frozen = whereUnsent && liveRow.length > 0 ? ` AND (NOT s."undecided" OR (${liveRow.join(' AND ')}))` : '';
    updateUnsent = `UPDATE ${target} AS t SET ${sets.join(', ')} FROM (SELECT ${keySelect(mapping)}, ${values.join(', ')} FROM ${stagingRef} WHERE ${staying}) AS s WHERE ${keyMatch(mapping)}${frozen}`;
  }

  const leaving = `${RANGE} AND (${IS_DELETE}${mapping.node.where ? ` OR ((${mapping.node.where.sql}) IS NOT TRUE${whereUnsent ? ` AND NOT (${whereUnsent})` : ''})` : ''})`;
  let remove: string;
  let truncate: string;
  if (mapping.node.onDelete.kind === 'delete') {
    remove = `DELETE FROM ${target} AS t USING (SELECT ${keySelect(mapping)} FROM ${stagingRef} WHERE ${leaving}) AS s WHERE ${keyMatch(mapping)}`;
    truncate = `DELETE FROM ${target}`;
  } else {
    const values = mapping.deleteSets.map((column, index) => `${typed(column)} AS "d${index}"`);
    const sets = mapping.deleteSets.map((column, index) => `${quoteIdent(column.name)} = s."d${index}"`);
    remove = `UPDATE ${target} AS t SET ${sets.join(', ')} FROM (SELECT ${keySelect(mapping)}, ${values.join(', ')} FROM ${stagingRef} WHERE ${leaving}) AS s WHERE ${keyMatch(mapping)}`;
    // No legacy row is left: the soft-delete expressions see a row of NULLs.
    const nullRow = resolved.source.columns.map((column) => `NULL::${column.stagingType} AS ${quoteIdent(column.name)}`).join(', ');
    truncate = `UPDATE ${target} AS t SET ${sets.join(', ')} FROM (SELECT ${values.join(', ')} FROM (SELECT ${nullRow || '1'}) AS legacy_row) AS s`;
  }
  return { mapping, upsert, insertUnsent, updateUnsent, remove, truncate };
}

function keySelect(mapping: ResolvedMapping): string {
  return mapping.key.map((column, index) => `${expression(column)} AS "k${index}"`).join(', ');
}

function keyMatch(mapping: ResolvedMapping): string {
  return mapping.key.map((column, index) => `t.${quoteIdent(column.name)} = s."k${index}"`).join(' AND ');
}

export interface Projection {
  /** `SELECT <key>, <columns> FROM <legacy table> WHERE <filter>`: the target rows the legacy table maps to, each cast to its target type. */
  sql: string;
  /** Result column names: the key columns first. */
  columns: readonly string[];
  key: readonly string[];
  /** js columns: not computable in the database, compared by streaming. */
  notComparable: readonly string[];
}

/** The projection reconcile runs on the legacy database: the same expressions, over the legacy table itself. */
export function compileProjection(mapping: ResolvedMapping): Projection {
  const comparable = mapping.columns.filter((column) => column.kind === 'sql');
  const keyNames = new Set(mapping.key.map((column) => column.name));
  const ordered = [...mapping.key, ...comparable.filter((column) => !keyNames.has(column.name))];
  const select = ordered.map((column) => `CAST(${expression(column)} AS ${column.type}) AS ${quoteIdent(column.name)}`).join(', ');
  const where = mapping.node.where ? ` WHERE (${mapping.node.where.sql}) IS TRUE` : '';
  return {
    sql: `SELECT ${select} FROM ${quoteQualified(mapping.node.source)}${where}`,
    columns: ordered.map((column) => column.name),
    key: mapping.key.map((column) => column.name),
    notComparable: mapping.columns.filter((column) => column.kind === 'js').map((column) => column.name),
  };
}
