/**
 * Columns computed in Node by `js(...)`: PostgreSQL cannot evaluate them, so reconcile streams them.
 * Per segment (a chunk, or a list of keys when rechecking or repairing):
 *
 * 1. the legacy rows in target-key order from the source snapshot, each column as PostgreSQL's text
 *    output under SOURCE_SESSION_OPTIONS (what capture reads);
 * 2. each row turned into exactly what translate hands the function: capture's text → Avro value,
 *    the Avro bytes written and read back, translate's Avro → text (the same functions, not copies;
 *    a timestamptz arrives as `2024-01-01T21:34:05.123456Z`, not as PostgreSQL prints it);
 * 3. the functions run in translate's order on one shared row object, results turned into text by
 *    translate's own `jsText`;
 * 4. those texts cast to the target column types in the target database, in one statement, in a
 *    session with translate's input settings (the target database's defaults for TimeZone, the date
 *    order of DateStyle and IntervalStyle: translate's connections set none), so the cast is the very
 *    CAST translate's upsert runs; in the same session and snapshot the target's js columns of the
 *    segment are read, and both sides are printed as text under the same settings;
 * 5. both merged by key: a differing value is reported like any other column. Rows on one side only
 *    are the SQL comparison's missing and extra rows.
 *
 * Memory is one segment's rows. A function that throws, or a result its column type rejects, is
 * what translate dead-letters: the value is reported as expected `js() threw: …` or `… is not a valid …`.
 */
import type pg from 'pg';
import { jsCastQuery, jsLegacyRowsByKeyQuery, jsLegacyRowsQuery, rowsByKeyQuery, rowsQuery, type JsSourceSql, type KeyOrdering, type ReconcileTargetSql } from '../mapping/reconcile-sql.js';
import { splitQualified } from '../pg/identifiers.js';
import type { AvroRecordJson } from '../schema/avro-schema.js';
import { createAvroType } from '../schema/avro-type.js';
import { toAvroRow } from '../schema/avro-values.js';
import { readTableDefinition } from '../schema/catalog-reader.js';
import { deriveSchemas } from '../schema/derive.js';
import type { TableDefinition } from '../schema/table-definition.js';
import { jsText } from '../translate/apply.js';
import { textConverterOf } from '../translate/pg-text.js';
import type { JsRunner, RowsReader } from './pg-side.js';
import type { CanonicalRow, RowDifference } from './row-diff.js';
import { keyId, type Key, type Segment } from './segment.js';

/** The settings translate's target sessions parse input with (it sets none: the database's defaults). */
export interface CastSettings {
  timeZone: string;
  /** The field order of DateStyle (`MDY`, `DMY`, `YMD`); output is ISO either way. */
  dateOrder: string;
  intervalStyle: string;
}

/** Read on a connection opened as translate opens its own (no session options). */
export async function readCastSettings(plainTarget: pg.ClientBase): Promise<CastSettings> {
  const { rows } = await plainTarget.query<{ tz: string; ds: string; is: string }>("SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds, current_setting('IntervalStyle') AS is");
  const row = rows[0]!;
  return { timeZone: row.tz, dateOrder: row.ds.split(',')[1]?.trim() || 'MDY', intervalStyle: row.is };
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** set_config(…, true) of translate's input settings; output: ISO dates, exact floats, hex bytea. */
export function castSettingsSql(settings: CastSettings): string {
  const pairs: [string, string][] = [
    ['TimeZone', settings.timeZone],
    ['DateStyle', `ISO, ${settings.dateOrder}`],
    ['IntervalStyle', settings.intervalStyle],
    ['extra_float_digits', '3'],
    ['bytea_output', 'hex'],
  ];
  return `SELECT ${pairs.map(([name, value]) => `set_config(${literal(name)}, ${literal(value)}, true)`).join(', ')}`;
}

/** A legacy row (text output of each column, in `columns` order) → the row translate hands a js() function. */
export type TranslateRowView = (texts: readonly (string | null)[]) => Record<string, string | null>;

/** Capture's conversion to Avro, the Avro encoding, and translate's conversion back to text. */
export function translateRowView(definition: TableDefinition, columns: readonly string[]): TranslateRowView {
  const { valueSchema } = deriveSchemas(definition, { topicPrefix: 'tandem' });
  const before = valueSchema.fields.find((field) => field.name === 'before')!;
  const rowSchema = (before.type as unknown[]).find((branch) => branch !== 'null') as AvroRecordJson;
  const type = createAvroType(rowSchema);
  const fields = rowSchema.fields.map((field) => ({ name: field.name, toText: textConverterOf(field.type as never) }));
  return (texts) => {
    const values: Record<string, unknown> = {};
    columns.forEach((name, index) => (values[name] = texts[index] ?? null));
    const decoded = type.fromBuffer(type.toBuffer(toAvroRow(definition, values).row)) as Record<string, unknown>;
    const row: Record<string, string | null> = {};
    for (const field of fields) row[field.name] = field.toText(decoded[field.name]);
    return row;
  };
}

/** A computed value: the text translate stages, or why translate could not stage one. */
type Computed = { text: string | null } | { error: string };

export interface ExpectedJsRow {
  key: Key;
  values: readonly Computed[];
}

/** The js() rows of one segment, compared: pure. Keys on one side only are left to the SQL comparison. */
export function diffJsRows(columns: readonly string[], expected: readonly CanonicalRow[], actual: readonly CanonicalRow[]): RowDifference[] {
  const actualByKey = new Map(actual.map((row) => [keyId(row.key), row]));
  const out: RowDifference[] = [];
  for (const row of expected) {
    const other = actualByKey.get(keyId(row.key));
    if (!other) continue;
    let changed: Record<string, { expected: string | null; actual: string | null }> | null = null;
    for (let index = 0; index < columns.length; index += 1) {
      const want = row.values[index] ?? null;
      const got = other.values[index] ?? null;
      if (want !== got) (changed ??= {})[columns[index]!] = { expected: want, actual: got };
    }
    if (changed) out.push({ key: row.key, columns: changed });
  }
  return out;
}

/** Differences of one key joined: the columns of both lists, in the order keys first appear. */
export function mergeDifferences(...lists: readonly (readonly RowDifference[])[]): RowDifference[] {
  const byKey = new Map<string, RowDifference>();
  for (const list of lists) {
    for (const item of list) {
      const id = keyId(item.key);
      const seen = byKey.get(id);
      byKey.set(id, seen ? { key: seen.key, columns: { ...seen.columns, ...item.columns } } : item);
    }
  }
  return [...byKey.values()];
}

/** SQLSTATE class 22: the value is not valid for the type (what a cast rejects), as opposed to a failing query. */
function isDataException(error: unknown): boolean {
  return /^22/.test((error as { cause?: { code?: string } }).cause?.code ?? '');
}

export class JsColumns {
  private constructor(
    readonly table: ReconcileTargetSql,
    private readonly views: ReadonlyMap<JsSourceSql, TranslateRowView>,
    private readonly cast: CastSettings,
  ) {}

  /** Null when the table has no js() column. `source`: any source session (catalog reads); `plainTarget`: a target session opened like translate's. */
  static async prepare(table: ReconcileTargetSql, source: pg.ClientBase, plainTarget: pg.ClientBase): Promise<JsColumns | null> {
    if (table.js.length === 0) return null;
    const views = new Map<JsSourceSql, TranslateRowView>();
    for (const js of table.js) {
      const { schema, table: name } = splitQualified(js.source);
      views.set(js, translateRowView(await readTableDefinition(source, schema, name), js.legacyColumns));
    }
    return new JsColumns(table, views, await readCastSettings(plainTarget));
  }

  get columns(): string[] {
    return this.table.js.flatMap((js) => js.columns.map((column) => column.name));
  }

  /** The js() differences of one chunk of the key space. */
  async compareSegment(source: JsRunner, target: JsRunner, segment: Segment, ordering: KeyOrdering): Promise<RowDifference[]> {
    const key = this.table.key;
    const lists: RowDifference[][] = [];
    for (const js of this.table.js) {
      const legacy = await source.rows(jsLegacyRowsQuery(js, key, ordering, segment.lower, segment.upper), true);
      const names = js.columns.map((column) => column.name);
      lists.push(await this.compare(js, legacy, target, rowsQuery(this.table.actualJs, key, names, ordering, segment.lower, segment.upper)));
    }
    return mergeDifferences(...lists);
  }

  /** The js() differences of the rows with these keys (a bounded list: recheck, repair). */
  async compareKeys(source: JsRunner, target: JsRunner, keys: readonly Key[]): Promise<RowDifference[]> {
    if (keys.length === 0) return [];
    const lists: RowDifference[][] = [];
    for (const js of this.table.js) {
      const legacy = await source.rows(jsLegacyRowsByKeyQuery(js, this.table.key, keys), true);
      lists.push(await this.compare(js, legacy, target, rowsByKeyQuery(this.table.actualJs, this.table.key, js.columns.map((column) => column.name), keys)));
    }
    return mergeDifferences(...lists);
  }

  /** What translate stages for the legacy rows with these keys (repair writes it through the same cast): rows whose function threw are left out, as translate leaves them. */
  async stagedTexts(source: JsRunner, js: JsSourceSql, keys: readonly Key[]): Promise<{ key: Key; values: (string | null)[] }[]> {
    const legacy = await source.rows(jsLegacyRowsByKeyQuery(js, this.table.key, keys), true);
    return this.computeAll(js, legacy).flatMap((row) => (row.values.every((value) => 'text' in value) ? [{ key: row.key, values: row.values.map((value) => (value as { text: string | null }).text) }] : []));
  }

  /** `SELECT set_config(…)` of translate's input settings (repair casts under them). */
  get castSettingsSql(): string {
    return castSettingsSql(this.cast);
  }

  private computeAll(js: JsSourceSql, legacy: readonly (string | null)[][]): ExpectedJsRow[] {
    const keyLength = this.table.key.length;
    const view = this.views.get(js)!;
    return legacy.map((row) => {
      const key = row.slice(0, keyLength) as string[];
      let values: Computed[];
      try {
        // As translate: one row object, every function of the mapping in order, any throw fails the row.
        const input = view(row.slice(keyLength));
        values = js.columns.map((column) => ({ text: jsText(column.compute(input)) }));
      } catch (error) {
        const message = `js() threw: ${(error as Error).message}`;
        values = js.columns.map(() => ({ error: message }));
      }
      return { key, values };
    });
  }

  private async compare(js: JsSourceSql, legacy: readonly (string | null)[][], target: JsRunner, actualQuery: { text: string; values: readonly string[] }): Promise<RowDifference[]> {
    const expected = this.computeAll(js, legacy);
    const types = js.columns.map((column) => column.type);
    const setup = castSettingsSql(this.cast);
    const texts = expected.map((row) => row.values.map((value) => ('text' in value ? value.text : null)));
    const castRows = await target
      .isolated(setup, async (rows) => {
        const cast = await rows(jsCastQuery(types, texts));
        const actual = await rows(actualQuery);
        return { cast, actual };
      })
      .catch(async (error: unknown) => {
        // A value its type rejects (translate dead-letters that row): cast value by value to name it.
        if (!isDataException(error)) throw error;
        const cast = await this.castOneByOne(target, setup, types, texts);
        const actual = await target.isolated(setup, (rows) => rows(actualQuery));
        return { cast, actual };
      });
    const canonical: CanonicalRow[] = expected.map((row, index) => ({
      key: row.key,
      values: row.values.map((value, column) => ('error' in value ? value.error : (castRows.cast[index]![column] ?? null))),
    }));
    const keyLength = this.table.key.length;
    const actual = castRows.actual.map((row) => ({ key: row.slice(0, keyLength) as string[], values: row.slice(keyLength) }));
    return diffJsRows(
      js.columns.map((column) => column.name),
      canonical,
      actual,
    );
  }

  private async castOneByOne(target: JsRunner, setup: string, types: readonly string[], texts: readonly (string | null)[][]): Promise<(string | null)[][]> {
    const out: (string | null)[][] = [];
    for (const row of texts) {
      const cast: (string | null)[] = [];
      for (let column = 0; column < types.length; column += 1) {
        const text = row[column] ?? null;
        cast.push(
          await target
            .isolated(setup, async (rows: RowsReader) => (await rows(jsCastQuery([types[column]!], [[text]])))[0]![0] ?? null)
            .catch((error: unknown) => {
              if (!isDataException(error)) throw error;
              return `js() gave ${JSON.stringify(text)}, not a valid ${types[column]}: ${(error as { cause: Error }).cause.message}`;
            }),
        );
      }
      out.push(cast);
    }
    return out;
  }
}
