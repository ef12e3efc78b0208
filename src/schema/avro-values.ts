/**
 * Column values → the values avsc writes for the derived Avro types (see type-mapping.ts).
 *
 * Input: a column value as pgoutput's text format gives it (always accepted), or the JavaScript
 * value a decoder may already have made of it, where that is exact:
 *
 * | PostgreSQL type              | accepted input                                       | output (Avro)                         |
 * |------------------------------|------------------------------------------------------|---------------------------------------|
 * | int2, int4                   | number, bigint, `'42'`                               | number (int)                          |
 * | int8                         | bigint, safe-integer number, `'9007199254740993'`    | bigint (long, exact beyond 2^53)      |
 * | numeric(p,s)                 | decimal string `'-12.30'`, bigint, number           | Buffer: unscaled two's complement     |
 * | numeric                      | decimal string (also `'NaN'`), bigint, number        | string, unchanged                     |
 * | float4, float8               | number, `'1.5'`, `'NaN'`, `'Infinity'`               | number                                |
 * | bool                         | boolean, `'t'`, `'f'`                                | boolean                               |
 * | text, varchar, char, enum    | string                                               | string                                |
 * | date                         | `'2024-02-29'`, `'0044-03-15 BC'`, `'infinity'`      | number: days since 1970-01-01 (±infinity → int max/min) |
 * | time                         | `'13:45:07.123456'`                                  | bigint: microseconds since midnight   |
 * | timestamp                    | `'2024-01-02 03:04:05.123456'`, `'infinity'`         | bigint: microseconds since 1970-01-01 of the wall-clock reading (±infinity → long max/min) |
 * | timestamptz                  | `'2024-01-02 03:04:05.123456+05:30'`                 | string: `'2024-01-01T21:34:05.123456Z'` (UTC; `infinity` kept) |
 * | interval                     | `'1 year 2 mons 3 days 04:05:06'`, or ISO 8601       | string: `'P1Y2M3DT4H5M6S'`            |
 * | uuid                         | string                                               | string, lowercase                     |
 * | json, jsonb                  | JSON text, or a parsed value (object, array, number) | string: the JSON text                 |
 * | bytea                        | Buffer, Uint8Array, `'\x0aff'`                       | Buffer                                |
 * | arrays                       | JS array of element inputs, or `'{1,NULL,3}'`        | array of element outputs (NULL → null)|
 * | domains                      | as their base type                                   | as their base type                    |
 * | anything else                | its text form                                        | string                                |
 *
 * null → null. JavaScript Date objects are refused: they hold milliseconds and a local time zone,
 * so they cannot carry a PostgreSQL timestamp exactly.
 */
import { TandemError } from '../errors.js';
import { decimalToBytes } from './decimal.js';
import { avroFieldName } from './derive.js';
import { formatIsoUtc, intervalToIso, parseArrayLiteral, parseBytea, parseDate, parseTime, parseTimestamp, parseTimestamptz } from './pg-text.js';
import { resolveDomain, type ColumnDefinition, type PgType, type TableDefinition } from './table-definition.js';
import { classifyPgType } from './type-mapping.js';

export type AvroValue = null | boolean | number | bigint | string | Buffer | AvroValue[] | { [field: string]: AvroValue };

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** One column value → the value avsc expects for the column's Avro type. Throws a TandemError naming the column. */
export function toAvroValue(column: ColumnDefinition, value: unknown): AvroValue {
  return converterOf(column)(value);
}

export interface AvroRow {
  /** Avro field name → value: the `before`/`after` record. */
  row: Record<string, AvroValue>;
  /** Avro field names of the columns whose value was not sent (unchanged TOAST). */
  unchangedToastColumns: string[];
}

/**
 * A decoded row (column name → value) → the row record of the envelope. A column whose value is
 * `undefined` was not sent (unchanged TOAST): it gets null when nullable, else the empty value of its
 * type, and is listed in `unchangedToastColumns` either way.
 */
export function toAvroRow(table: TableDefinition, values: Record<string, unknown>): AvroRow {
  const row: Record<string, AvroValue> = {};
  const unchangedToastColumns: string[] = [];
  for (const column of compiledColumns(table)) {
    const value = values[column.name];
    if (value === undefined) {
      unchangedToastColumns.push(column.fieldName);
      row[column.fieldName] = column.valueWhenNotSent;
    } else {
      row[column.fieldName] = column.convert(value);
    }
  }
  return { row, unchangedToastColumns };
}

/** The key record of a row: its key columns. */
export function toAvroKey(table: TableDefinition, values: Record<string, unknown>): Record<string, AvroValue> {
  const key: Record<string, AvroValue> = {};
  for (const column of compiledKey(table)) key[column.fieldName] = column.convert(values[column.name]);
  return key;
}

/**
 * Per table, what every row needs: field names and converters decided once from the column types.
 * Capture converts every captured row, so this work stays off the per-value path.
 */
interface CompiledColumn {
  name: string;
  fieldName: string;
  valueWhenNotSent: AvroValue;
  convert: Converter;
}

type Converter = (value: unknown) => AvroValue;

/** `2024-01-02 03:04:05.123+00`: years 1000-9999 (formatIsoUtc's four-digit range), offset zero. */
const UTC_TIMESTAMPTZ = /^([1-9]\d{3}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(?:\+00(?::00)?|Z)$/;

const compiledTables = new WeakMap<TableDefinition, { columns: CompiledColumn[]; key: CompiledColumn[] }>();
const columnConverters = new WeakMap<ColumnDefinition, Converter>();

function compile(table: TableDefinition) {
  let compiled = compiledTables.get(table);
  if (!compiled) {
    const columns = table.columns.map((column) => ({
      name: column.name,
      fieldName: avroFieldName(column.name),
      valueWhenNotSent: column.nullable ? null : emptyValueOf(column.type),
      convert: converterOf(column),
    }));
    const key = table.keyColumns.map((name) => columns.find((column) => column.name === name)!);
    compiled = { columns, key };
    compiledTables.set(table, compiled);
  }
  return compiled;
}

const compiledColumns = (table: TableDefinition) => compile(table).columns;
const compiledKey = (table: TableDefinition) => compile(table).key;

/** The column's converter, with errors that name the column. */
function converterOf(column: ColumnDefinition): Converter {
  let converter = columnConverters.get(column);
  if (!converter) {
    const convert = converterFor(column.type);
    converter = (value) => {
      try {
        return convert(value);
      } catch (error) {
        if (error instanceof TandemError) throw error;
        throw new TandemError(`column ${column.name} (${column.declaredType}): ${(error as Error).message}`, {
          fix: 'pass the value in PostgreSQL text format (see the table in src/schema/avro-values.ts)',
          cause: error,
        });
      }
    };
    columnConverters.set(column, converter);
  }
  return converter;
}

/** Decides once per type how its values convert; null stays null. */
function converterFor(type: PgType): Converter {
  const resolved = resolveDomain(type);
  const nonNull = (convert: Converter): Converter => (value) => {
    if (value === null || value === undefined) return null;
    if (value instanceof Date) throw new Error('got a JavaScript Date, which cannot hold microseconds or a PostgreSQL time zone exactly; pass the text form');
    return convert(value);
  };
  switch (classifyPgType(resolved)) {
    case 'int':
      return nonNull(toInt);
    case 'long':
      return nonNull(toLong);
    case 'decimal': {
      const precision = resolved.precision!;
      const scale = resolved.scale ?? 0;
      return nonNull((value) => decimalToBytes(numericText(value), precision, scale));
    }
    case 'numeric-string':
      return nonNull(numericText);
    case 'float':
    case 'double':
      return nonNull(toFloat);
    case 'boolean':
      return nonNull(toBoolean);
    case 'string':
    case 'enum':
      return nonNull(expectString);
    case 'date':
      return nonNull((value) => toDate(expectString(value)));
    case 'time':
      return nonNull((value) => parseTime(expectString(value)));
    case 'timestamp':
      return nonNull((value) => toTimestamp(expectString(value)));
    case 'timestamptz':
      return nonNull((value) => {
        const text = expectString(value);
        // Already UTC (capture's sessions use TimeZone=UTC): only the separators change.
        const utc = UTC_TIMESTAMPTZ.exec(text);
        if (utc) return `${utc[1]}T${utc[2]}${utc[3] ? utc[3].padEnd(7, '0') : ''}Z`;
        return /^-?infinity$/.test(text) ? text : formatIsoUtc(parseTimestamptz(text));
      });
    case 'interval':
      return nonNull((value) => intervalToIso(expectString(value)));
    case 'uuid':
      return nonNull((value) => {
        const text = expectString(value).toLowerCase();
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text)) throw new Error(`not a uuid: ${JSON.stringify(value)}`);
        return text;
      });
    case 'json':
      return nonNull((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
    case 'bytes':
      return nonNull((value) => {
        if (Buffer.isBuffer(value)) return value;
        if (value instanceof Uint8Array) return Buffer.from(value);
        return parseBytea(expectString(value));
      });
    case 'array': {
      const element = converterFor(resolved.element!);
      return nonNull((value) => {
        const elements = typeof value === 'string' ? parseArrayLiteral(value) : value;
        if (!Array.isArray(elements)) throw new Error(`expected an array or an array literal, got ${describe(value)}`);
        return elements.map((item) => {
          if (Array.isArray(item)) throw new Error('multi-dimensional arrays are not supported (one dimension maps to an Avro array)');
          return element(item);
        });
      });
    }
    case 'unknown':
      return nonNull((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'object' ? JSON.stringify(value) : String(value)));
  }
}

function toInt(value: unknown): number {
  const number = typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < INT_MIN || number > INT_MAX) throw new Error(`not a 32-bit integer: ${describe(value)}`);
  return number;
}

function toLong(value: unknown): bigint {
  let long: bigint | undefined;
  if (typeof value === 'bigint') long = value;
  else if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) long = BigInt(value.trim());
  else if (typeof value === 'number' && Number.isSafeInteger(value)) long = BigInt(value);
  if (long === undefined || long < LONG_MIN || long > LONG_MAX) {
    const hint = typeof value === 'number' ? ' (numbers above 2^53 are not exact: pass a bigint or the decimal text)' : '';
    throw new Error(`not a 64-bit integer: ${describe(value)}${hint}`);
  }
  return long;
}

function numericText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new Error(`not a number: ${describe(value)}`);
}

function toFloat(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === 'NaN') return Number.NaN;
    if (text === 'Infinity') return Number.POSITIVE_INFINITY;
    if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  }
  throw new Error(`not a floating-point number: ${describe(value)}`);
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 't' || value === 'true') return true;
  if (value === 'f' || value === 'false') return false;
  throw new Error(`not a boolean: ${describe(value)}`);
}

function toDate(text: string): number {
  if (text === 'infinity') return INT_MAX;
  if (text === '-infinity') return INT_MIN;
  return parseDate(text);
}

function toTimestamp(text: string): bigint {
  if (text === 'infinity') return LONG_MAX;
  if (text === '-infinity') return LONG_MIN;
  return parseTimestamp(text);
}

function expectString(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected the text form, got ${describe(value)}`);
  return value;
}

/** What an unchanged TOAST value of a NOT NULL column holds: the empty value of its type. */
function emptyValueOf(type: PgType): AvroValue {
  switch (classifyPgType(resolveDomain(type))) {
    case 'int':
    case 'float':
    case 'double':
    case 'date':
      return 0;
    case 'long':
    case 'time':
    case 'timestamp':
      return 0n;
    case 'decimal':
      return Buffer.from([0]);
    case 'boolean':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    case 'array':
      return [];
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
    case 'numeric-string':
    case 'string':
    case 'enum':
    case 'timestamptz':
    case 'interval':
    case 'json':
    case 'unknown':
      return '';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return `${typeof value} ${String(value).slice(0, 60)}`;
}
