/**
 * Reconcile's SQL from the plan: for one target table, the expected rows (the legacy data as the
 * connector maps it: each mapping's projection from `compile.ts`, merges joined on the key) and the
 * actual rows (the target table, soft-deleted rows left out), with the same columns in the same
 * order and types; and over either of them the segment queries the bisection runs: count and
 * order-independent checksum, rows, split boundaries, rows by key. Pure: text and parameters only.
 *
 * Canonical values: every expected value is cast to its target column's type, so numeric scale and
 * timestamp precision are those of the target column; a row's checksum hashes each value by its type
 * where that is exact, else its text in byte order (rowHashExpression), so NULL and '' differ and
 * text is compared byte for byte whatever a collation would call equal; rows are fetched as text.
 * Both sessions use the same DateStyle, TimeZone, extra_float_digits, IntervalStyle and
 * bytea_output, so equal values print equal.
 */
import { arrayLiteral, quoteIdent, quoteQualified } from '../pg/identifiers.js';
import { compileProjection } from './compile.js';
import type { ResolvedMapping, TargetShape } from './resolve.js';

export interface KeyColumn {
  readonly name: string;
  /** format_type() of the target column: key values travel as text and are cast back with it. */
  readonly type: string;
}

export interface NotComparable {
  readonly column: string;
  readonly reason: string;
}

export interface ReconcileTargetSql {
  readonly table: string;
  /** The legacy tables that feed it, in declaration order. */
  readonly sources: readonly string[];
  readonly key: readonly KeyColumn[];
  /** Compared non-key columns, in row order (after the key). */
  readonly columns: readonly string[];
  /** `SELECT <key>, <columns>` over the legacy tables (run on the source database). */
  readonly expected: string;
  /** `SELECT <key>, <columns>` over the target table, live rows only (run on the target database). */
  readonly actual: string;
  readonly notComparable: readonly NotComparable[];
  /** Mappings' connector paths, for messages. */
  readonly paths: readonly string[];
  /** Soft delete: what the delete rule sets, and what a live row holds in those columns (repair writes both). */
  /** format_type() of every target column. */
  readonly columnTypes: Readonly<Record<string, string>>;
  readonly softDelete: { readonly set: readonly { name: string; sql: string }[]; readonly live: readonly { name: string; sql: string }[] } | null;
  /** js() columns, compared by streaming (one entry per mapping that provides some). */
  readonly js: readonly JsSourceSql[];
  /** `SELECT <key>, <js columns>` over the target table, live rows only (empty when there are none). */
  readonly actualJs: string;
}

/**
 * The js() columns one mapping provides, and the legacy rows their function reads: per row the
 * target key (cast to its type, as the projection computes it) and every legacy column, under the
 * mapping's `where`. The legacy columns are selected as they are, so that a reader with no type
 * parsing sees PostgreSQL's text output (what capture reads), not a cast to text.
 */
export interface JsSourceSql {
  readonly source: string;
  readonly path: string;
  /** Legacy columns in the row handed to the function, aliased `c0…` in `legacy` after the key. */
  readonly legacyColumns: readonly string[];
  readonly legacy: string;
  readonly columns: readonly { readonly name: string; readonly type: string; readonly path: string; readonly compute: (row: Readonly<Record<string, string | null>>) => unknown }[];
}

export interface SqlQuery {
  readonly text: string;
  readonly values: readonly string[];
}

/** Key comparisons in a fixed byte order when the two databases could order text differently. */
export interface KeyOrdering {
  readonly collateC: boolean;
}

const COLLATABLE = /^(text|character varying|varchar|character|char|bpchar|name|citext)\b/;

/**
 * The expected and actual projections of one target from its resolved mappings (one: a plain
 * projection; several: a merge, their projections joined on the key — a row exists when any source
 * has it, and a column whose source has no row holds what translate's insert leaves there, the
 * column's default, when that default is a constant).
 */
export function compileReconcileTarget(target: TargetShape, mappings: readonly ResolvedMapping[]): ReconcileTargetSql {
  if (mappings.length === 0) throw new Error(`compileReconcileTarget: no mapping feeds ${target.table}`);
  const typeOf = new Map(target.columns.map((column) => [column.name, column]));
  const key: KeyColumn[] = target.key.map((name) => ({ name, type: typeOf.get(name)!.type }));
  const keyNames = new Set(target.key);
  const projections = mappings.map((mapping) => compileProjection(mapping));
  const notComparable: NotComparable[] = [];
  const js = jsSources(target, mappings);
  // Which mapping provides each compared column: the first that declares it (in target column order).
  const provider = new Map<string, number>();
  projections.forEach((projection, index) => {
    for (const column of projection.columns) if (!keyNames.has(column) && !provider.has(column)) provider.set(column, index);
  });
  const jsNames = new Set(mappings.flatMap((mapping) => mapping.columns.filter((column) => column.kind === 'js').map((column) => column.name)));
  let columns = target.columns.map((column) => column.name).filter((name) => provider.has(name) && !jsNames.has(name));
  const soft = softDeleteFilter(mappings);

  let expected: string;
  if (projections.length === 1) {
    const projection = projections[0]!;
    expected = `SELECT ${[...target.key, ...columns].map(quoteIdent).join(', ')} FROM (${projection.sql}) AS m0`;
  } else {
    const alias = (index: number) => `m${index}`;
    const keySelect = target.key.map((name) => `COALESCE(${projections.map((_, index) => `${alias(index)}.${quoteIdent(name)}`).join(', ')}) AS ${quoteIdent(name)}`);
    const kept: string[] = [];
    const values: string[] = [];
    for (const name of columns) {
      const index = provider.get(name)!;
      const column = typeOf.get(name)!;
      const present = `${alias(index)}.${quoteIdent(target.key[0]!)} IS NOT NULL`;
      const absent = column.default === null ? `NULL::${column.type}` : isConstant(column.default) ? `CAST(${column.default} AS ${column.type})` : null;
      if (absent === null) {
        notComparable.push({ column: name, reason: `merged from ${mappings[index]!.node.path}, and rows without that source hold the column default ${column.default}, which is not a constant` });
        continue;
      }
      kept.push(name);
      values.push(`CASE WHEN ${present} THEN ${alias(index)}.${quoteIdent(name)} ELSE ${absent} END AS ${quoteIdent(name)}`);
    }
    columns = kept;
    let from = `(${projections[0]!.sql}) AS ${alias(0)}`;
    for (let index = 1; index < projections.length; index += 1) {
      const on = target.key.map((name) => `${alias(index)}.${quoteIdent(name)} = COALESCE(${projections.slice(0, index).map((_, earlier) => `${alias(earlier)}.${quoteIdent(name)}`).join(', ')})`).join(' AND ');
      from += ` FULL JOIN (${projections[index]!.sql}) AS ${alias(index)} ON ${on}`;
    }
    expected = `SELECT ${[...keySelect, ...values].join(', ')} FROM ${from}`;
  }
  const actual = `SELECT ${[...target.key, ...columns].map(quoteIdent).join(', ')} FROM ${quoteQualified(target.table)}${soft ? ` WHERE ${soft}` : ''}`;
  return Object.freeze({
    table: target.table,
    sources: mappings.map((mapping) => mapping.node.source),
    key: Object.freeze(key),
    columns: Object.freeze(columns),
    expected,
    actual,
    notComparable: Object.freeze(notComparable),
    paths: mappings.map((mapping) => mapping.node.path),
    columnTypes: Object.freeze(Object.fromEntries(target.columns.map((column) => [column.name, column.type]))),
    softDelete: softDeleteOf(mappings),
    js: Object.freeze(js),
    actualJs: js.length === 0 ? '' : `SELECT ${[...target.key, ...js.flatMap((item) => item.columns.map((column) => column.name))].map(quoteIdent).join(', ')} FROM ${quoteQualified(target.table)}${soft ? ` WHERE ${soft}` : ''}`,
  });
}

/** js() columns by the mapping that provides them (the first declaring each, as for SQL columns). */
function jsSources(target: TargetShape, mappings: readonly ResolvedMapping[]): JsSourceSql[] {
  const seen = new Set<string>();
  const out: JsSourceSql[] = [];
  for (const mapping of mappings) {
    const columns = mapping.columns.filter((column) => column.kind === 'js' && !seen.has(column.name));
    if (columns.length === 0) continue;
    for (const column of columns) seen.add(column.name);
    const computes = new Map(mapping.node.columns.flatMap((column) => (column.kind === 'js' ? [[column.name, column.compute] as const] : [])));
    const legacyColumns = columns[0]!.reads;
    const keys = mapping.key.map((column) => `CAST(${expression(column)} AS ${column.type}) AS ${quoteIdent(column.name)}`);
    const values = legacyColumns.map((name, index) => `${quoteIdent(name)} AS "c${index}"`);
    const where = mapping.node.where ? ` WHERE (${mapping.node.where.sql}) IS TRUE` : '';
    out.push({
      source: mapping.node.source,
      path: mapping.node.path,
      legacyColumns,
      legacy: `SELECT ${[...keys, ...values].join(', ')} FROM ${quoteQualified(mapping.node.source)}${where}`,
      columns: columns.map((column) => ({ name: column.name, type: target.columns.find((item) => item.name === column.name)!.type, path: column.path, compute: computes.get(column.name)! })),
    });
  }
  return out;
}

function expression(column: { sql: string }): string {
  return `(${column.sql})`;
}

/** A js source's legacy rows of a segment in key order: the key as text, then each legacy column as it is (read it without type parsing). */
export function jsLegacyRowsQuery(js: JsSourceSql, key: readonly KeyColumn[], ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null): SqlQuery {
  const where = segmentWhere(key, ordering, lower, upper);
  return { text: `SELECT ${jsLegacySelect(js, key)} FROM (${js.legacy}) AS p${where.text} ORDER BY ${orderBy(key, ordering)}`, values: where.values };
}

/** The same rows for given keys (recheck, repair). */
export function jsLegacyRowsByKeyQuery(js: JsSourceSql, key: readonly KeyColumn[], keys: readonly (readonly string[])[]): SqlQuery {
  return { text: `SELECT ${jsLegacySelect(js, key)} FROM (${js.legacy}) AS p WHERE ${byKeyCondition(key)}`, values: byKeyValues(key, keys) };
}

function jsLegacySelect(js: JsSourceSql, key: readonly KeyColumn[]): string {
  return [...key.map((column) => `p.${quoteIdent(column.name)}::text`), ...js.legacyColumns.map((_, index) => `p."c${index}"`)].join(', ');
}

/**
 * The js() results as translate writes them: each text cast to its target column's type (the
 * explicit CAST of translate's upsert), printed as text; one row per input row, in input order.
 */
export function jsCastQuery(types: readonly string[], rows: readonly (readonly (string | null)[])[]): SqlQuery {
  const columns = types.map((_, index) => `c${index}`);
  const select = types.map((type, index) => `CAST(r.c${index} AS ${type})::text`).join(', ');
  return {
    text: `SELECT ${select} FROM unnest(${types.map((_, index) => `$${index + 1}::text[]`).join(', ')}) WITH ORDINALITY AS r(${[...columns, 'n'].join(', ')}) ORDER BY r.n`,
    values: types.map((_, index) => arrayLiteral(rows.map((row) => row[index] ?? null))),
  };
}

/** Repair of js() columns: the texts the function gave, cast as translate casts them, written into the rows with those keys. */
export function repairJsQuery(target: ReconcileTargetSql, js: JsSourceSql, rows: readonly { key: readonly string[]; values: readonly (string | null)[] }[]): SqlQuery {
  const keyCount = target.key.length;
  const arrays = [...target.key, ...js.columns].map((_, index) => `$${index + 1}::text[]`);
  const aliases = [...target.key, ...js.columns].map((_, index) => `c${index}`);
  const sets = js.columns.map((column, index) => `${quoteIdent(column.name)} = CAST(r.c${keyCount + index} AS ${column.type})`).join(', ');
  const match = target.key.map((column, index) => `t.${quoteIdent(column.name)} = CAST(r.c${index} AS ${column.type})`).join(' AND ');
  return {
    text: `UPDATE ${quoteQualified(target.table)} AS t SET ${sets} FROM unnest(${arrays.join(', ')}) AS r(${aliases.join(', ')}) WHERE ${match}`,
    values: [...target.key.map((_, index) => arrayLiteral(rows.map((row) => row.key[index]!))), ...js.columns.map((_, index) => arrayLiteral(rows.map((row) => row.values[index] ?? null)))],
  };
}

/** A literal, possibly cast (`0`, `'x'::text`, `false`, `NULL::integer`): evaluates the same in both databases. */
function isConstant(sql: string): boolean {
  return /^\(?('([^']|'')*'|-?\d+(\.\d+)?|true|false|null)\)?(::[a-z_ ]+(\([\d, ]+\))?)*$/i.test(sql.trim());
}

/**
 * Live rows of a soft-delete target: those whose soft-delete columns (not written by the upsert)
 * still hold what a live row gets. Soft-deleted rows have no legacy row left to compare with.
 */
function softDeleteFilter(mappings: readonly ResolvedMapping[]): string | null {
  const live = new Map<string, string>();
  for (const mapping of mappings) for (const value of mapping.liveValues) if (!live.has(value.name)) live.set(value.name, value.sql);
  if (live.size === 0) return null;
  return [...live].map(([name, sql]) => `${quoteIdent(name)} IS NOT DISTINCT FROM (${sql})`).join(' AND ');
}

function softDeleteOf(mappings: readonly ResolvedMapping[]): ReconcileTargetSql['softDelete'] {
  const mapping = mappings.find((item) => item.deleteSets.length > 0);
  if (!mapping) return null;
  return { set: mapping.deleteSets.map((column) => ({ name: column.name, sql: column.sql })), live: mapping.liveValues.map((value) => ({ name: value.name, sql: value.sql })) };
}

/** `(k1, k2)` over the projection alias `p`, with the byte-order collation where needed. */
function keyExpression(key: readonly KeyColumn[], ordering: KeyOrdering): string {
  const parts = key.map((column) => `p.${quoteIdent(column.name)}${ordering.collateC && COLLATABLE.test(column.type) ? ' COLLATE "C"' : ''}`);
  return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
}

function keyParameters(key: readonly KeyColumn[], ordering: KeyOrdering, first: number): string {
  const parts = key.map((column, index) => `$${first + index}::${column.type}${ordering.collateC && COLLATABLE.test(column.type) ? ' COLLATE "C"' : ''}`);
  return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
}

/** `WHERE` of a segment over alias `p`, and its parameter values (the keys' text). */
export function segmentWhere(key: readonly KeyColumn[], ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null, firstParameter = 1): SqlQuery {
  const conditions: string[] = [];
  const values: string[] = [];
  const expression = keyExpression(key, ordering);
  if (lower) {
    conditions.push(`${expression} >= ${keyParameters(key, ordering, firstParameter + values.length)}`);
    values.push(...lower);
  }
  if (upper) {
    conditions.push(`${expression} < ${keyParameters(key, ordering, firstParameter + values.length)}`);
    values.push(...upper);
  }
  return { text: conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '', values };
}

function orderBy(key: readonly KeyColumn[], ordering: KeyOrdering): string {
  return key.map((column) => `p.${quoteIdent(column.name)}${ordering.collateC && COLLATABLE.test(column.type) ? ' COLLATE "C"' : ''}`).join(', ');
}

/** Types whose own hash function tells apart exactly the values whose text differs. */
const NATIVE_HASH = /^(smallint|integer|bigint|boolean|date|uuid|bytea|oid|timestamp(\(\d\))? with(out)? time zone)$/;

/**
 * A row's 64-bit hash over alias `p`, in the database: the record hash of its columns, each either
 * hashed by its type (integers, dates, timestamps, uuid, bytea: equal hash ⇔ equal value ⇔ equal
 * text) or as text in byte order (everything else: numeric keeps its scale, text ignores what a
 * collation calls equal, NULL stays apart from ''). About four times cheaper than hashing the
 * row's text output, and just as exact.
 */
export function rowHashExpression(target: Pick<ReconcileTargetSql, 'key' | 'columns' | 'columnTypes'>): string {
  const names = [...target.key.map((column) => column.name), ...target.columns];
  const parts = names.map((name) => {
    const type = target.columnTypes[name] ?? target.key.find((column) => column.name === name)!.type;
    const column = `p.${quoteIdent(name)}`;
    if (NATIVE_HASH.test(type)) return column;
    return COLLATABLE.test(type) ? `hashtextextended(${column} COLLATE "C", 0)` : `hashtextextended(${column}::text COLLATE "C", 0)`;
  });
  return `hash_record_extended(ROW(${parts.join(', ')}), 0)`;
}

/** Count and order-independent checksum (sum of the rows' 64-bit hashes) of a segment. */
export function checksumQuery(projection: string, target: Pick<ReconcileTargetSql, 'key' | 'columns' | 'columnTypes'>, ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null): SqlQuery {
  const where = segmentWhere(target.key, ordering, lower, upper);
  return { text: `SELECT count(*)::text AS n, COALESCE(sum(${rowHashExpression(target)}), 0)::text AS h FROM (${projection}) AS p${where.text}`, values: where.values };
}

/**
 * Both sides in one database: one query per segment joins the expected and the actual rows on the
 * key and returns the segment's row count and the keys that differ (kind, key text), comparing each
 * column exactly (by value for the natively hashed types, as byte-order text otherwise).
 */
export function joinedSegmentQuery(target: ReconcileTargetSql, ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null): SqlQuery {
  const where = segmentWhere(target.key, ordering, lower, upper);
  const keys = target.key.map((column) => quoteIdent(column.name));
  const on = keys.map((key) => `e.${key} = a.${key}`).join(' AND ');
  const first = keys[0]!;
  const differs = target.columns.map((name) => {
    const type = target.columnTypes[name]!;
    const column = quoteIdent(name);
    if (NATIVE_HASH.test(type)) return `e.${column} IS DISTINCT FROM a.${column}`;
    return COLLATABLE.test(type) ? `e.${column} COLLATE "C" IS DISTINCT FROM a.${column} COLLATE "C"` : `e.${column}::text COLLATE "C" IS DISTINCT FROM a.${column}::text COLLATE "C"`;
  });
  const condition = [`e.${first} IS NULL`, `a.${first} IS NULL`, ...differs].join(' OR ');
  const item = `json_build_array(CASE WHEN e.${first} IS NULL THEN 'extra' WHEN a.${first} IS NULL THEN 'missing' ELSE 'different' END, ${keys.map((key) => `COALESCE(e.${key}, a.${key})::text`).join(', ')})`;
  return {
    text: `SELECT count(*)::text AS n, COALESCE(json_agg(${item}) FILTER (WHERE ${condition}), '[]') AS d FROM (SELECT * FROM (${target.expected}) AS p${where.text}) AS e FULL JOIN (SELECT * FROM (${target.actual}) AS p${where.text}) AS a ON ${on}`,
    values: where.values,
  };
}

/** Each row's key (as text) and 64-bit hash in a segment. */
export function hashesQuery(projection: string, target: Pick<ReconcileTargetSql, 'key' | 'columns' | 'columnTypes'>, ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null): SqlQuery {
  const where = segmentWhere(target.key, ordering, lower, upper);
  return { text: `SELECT ${target.key.map((column) => `p.${quoteIdent(column.name)}::text`).join(', ')}, ${rowHashExpression(target)}::text FROM (${projection}) AS p${where.text}`, values: where.values };
}

/** Every row of a segment, each value as text (key columns first). */
export function rowsQuery(projection: string, key: readonly KeyColumn[], columns: readonly string[], ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null): SqlQuery {
  const where = segmentWhere(key, ordering, lower, upper);
  const select = [...key.map((column) => column.name), ...columns].map((name) => `p.${quoteIdent(name)}::text`).join(', ');
  return { text: `SELECT ${select} FROM (${projection}) AS p${where.text}`, values: where.values };
}

/**
 * Keys that split a segment's rows into `parts` runs of about equal size: the first key of each run
 * after the first. One ordered pass over the segment (the key index on the target).
 */
export function boundariesQuery(projection: string, key: readonly KeyColumn[], ordering: KeyOrdering, lower: readonly string[] | null, upper: readonly string[] | null, parts: number, rows: number): SqlQuery {
  const where = segmentWhere(key, ordering, lower, upper);
  const step = Math.max(1, Math.ceil(rows / parts));
  const keys = key.map((column) => `p.${quoteIdent(column.name)}::text AS ${quoteIdent(column.name)}`).join(', ');
  return {
    text: `SELECT ${key.map((column) => quoteIdent(column.name)).join(', ')} FROM (SELECT ${keys}, row_number() OVER (ORDER BY ${orderBy(key, ordering)}) AS n FROM (${projection}) AS p${where.text}) AS s WHERE n > 1 AND n % ${step} = 1 ORDER BY n`,
    values: where.values,
  };
}

/** Whole-table chunk boundaries from a sample of a plain table's keys (TABLESAMPLE SYSTEM), sorted. */
export function sampledKeysQuery(table: string, key: readonly KeyColumn[], ordering: KeyOrdering, percent: number): SqlQuery {
  const keys = key.map((column) => `p.${quoteIdent(column.name)}::text AS ${quoteIdent(column.name)}`).join(', ');
  return { text: `SELECT ${keys} FROM ${quoteQualified(table)} AS p TABLESAMPLE SYSTEM (${Math.min(100, Math.max(0.0001, percent)).toFixed(4)}) ORDER BY ${orderBy(key, ordering)}`, values: [] };
}

/**
 * Rows with the given keys (differing rows, recheck, repair), each value as text. The leading key
 * column is matched with `= ANY(array)`, which reaches the key index through the projection; the
 * other key columns are then matched pairwise.
 */
export function rowsByKeyQuery(projection: string, key: readonly KeyColumn[], columns: readonly string[], keys: readonly (readonly string[])[]): SqlQuery {
  const select = [...key.map((column) => column.name), ...columns].map((name) => `p.${quoteIdent(name)}::text`).join(', ');
  return { text: `SELECT ${select} FROM (${projection}) AS p WHERE ${byKeyCondition(key)}`, values: byKeyValues(key, keys) };
}

function byKeyCondition(key: readonly KeyColumn[]): string {
  let text = `p.${quoteIdent(key[0]!.name)} = ANY($1::text[]::${key[0]!.type}[])`;
  if (key.length > 1) {
    const match = key.map((column, index) => `p.${quoteIdent(column.name)} = k.c${index}::${column.type}`).join(' AND ');
    text += ` AND EXISTS (SELECT 1 FROM unnest(${key.map((_, index) => `$${index + 1}::text[]`).join(', ')}) AS k(${key.map((_, index) => `c${index}`).join(', ')}) WHERE ${match})`;
  }
  return text;
}

function byKeyValues(key: readonly KeyColumn[], keys: readonly (readonly string[])[]): string[] {
  return key.map((_, index) => arrayLiteral(keys.map((item) => item[index]!)));
}

/**
 * Repair of rows present in the legacy data: the expected rows (text, as the projection printed
 * them) upserted into the target, soft-delete columns back to their live values. One statement.
 */
export function repairUpsertQuery(target: ReconcileTargetSql, rows: readonly { key: readonly string[]; values: readonly (string | null)[] }[]): SqlQuery {
  const names = [...target.key.map((column) => column.name), ...target.columns];
  const arrays = names.map((_, index) => `$${index + 1}::text[]`);
  const casts = names.map((name, index) => `CAST(r.c${index} AS ${target.columnTypes[name]!})`);
  const live = target.softDelete?.live.filter((item) => !names.includes(item.name)) ?? [];
  const columns = [...names, ...live.map((item) => item.name)].map(quoteIdent).join(', ');
  const values = [...casts, ...live.map((item) => `(${item.sql})`)].join(', ');
  const keyNames = new Set(target.key.map((column) => column.name));
  const updates = [...target.columns, ...live.map((item) => item.name)].filter((name) => !keyNames.has(name));
  const conflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.map((name) => `${quoteIdent(name)} = EXCLUDED.${quoteIdent(name)}`).join(', ')}`;
  const text = `INSERT INTO ${quoteQualified(target.table)} (${columns}) SELECT ${values} FROM unnest(${arrays.join(', ')}) AS r(${names.map((_, index) => `c${index}`).join(', ')}) ON CONFLICT (${target.key.map((column) => quoteIdent(column.name)).join(', ')}) ${conflict}`;
  const params = names.map((_, index) => arrayLiteral(rows.map((row) => (index < target.key.length ? row.key[index]! : row.values[index - target.key.length] ?? null))));
  return { text, values: params };
}

/** Repair of rows with no legacy row: deleted, or soft-deleted by the mapping's delete rule. */
export function repairRemoveQuery(target: ReconcileTargetSql, keys: readonly (readonly string[])[]): SqlQuery {
  const arrays = target.key.map((column, index) => `$${index + 1}::text[]`);
  const match = target.key.map((column, index) => `t.${quoteIdent(column.name)} = CAST(r.c${index} AS ${column.type})`).join(' AND ');
  const from = `unnest(${arrays.join(', ')}) AS r(${target.key.map((_, index) => `c${index}`).join(', ')})`;
  const values = target.key.map((_, index) => arrayLiteral(keys.map((key) => key[index]!)));
  if (target.softDelete) {
    const sets = target.softDelete.set.map((item) => `${quoteIdent(item.name)} = (${item.sql})`).join(', ');
    return { text: `UPDATE ${quoteQualified(target.table)} AS t SET ${sets} FROM ${from} WHERE ${match}`, values };
  }
  return { text: `DELETE FROM ${quoteQualified(target.table)} AS t USING ${from} WHERE ${match}`, values };
}
