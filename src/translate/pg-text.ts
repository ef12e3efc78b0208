/**
 * Decoded Avro values (tandem's types: bigint longs, exact decimal text) → PostgreSQL's text input,
 * and the staging type a field gets when the legacy catalog does not say. Converters are decided
 * once per schema field, off the per-value path. Inverse of src/schema/avro-values.ts.
 */
import { civilFromDays } from '../schema/pg-text.js';
import { arrayLiteral } from '../pg/identifiers.js';

export type TextConverter = (value: unknown) => string | null;

const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);
const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);
const MICROS_PER_DAY = 86_400_000_000n;

type AvroTypeJson = string | { type: unknown; logicalType?: string; items?: unknown; precision?: number; scale?: number; [key: string]: unknown } | unknown[];

/** The non-null branch of a nullable union. */
function nonNullBranch(type: AvroTypeJson): AvroTypeJson {
  if (Array.isArray(type)) return (type.find((branch) => branch !== 'null') ?? 'null') as AvroTypeJson;
  return type;
}

/** A PostgreSQL type for a field, from its Avro type alone (used for columns the legacy catalog no longer has). */
export function stagingTypeOfAvro(fieldType: AvroTypeJson): string {
  const type = nonNullBranch(fieldType);
  if (typeof type === 'string') return PRIMITIVE_TYPES[type] ?? 'text';
  if (Array.isArray(type)) return 'text';
  const logical = type.logicalType;
  if (logical === 'decimal') return `numeric(${type.precision},${type.scale ?? 0})`;
  if (logical === 'date') return 'date';
  if (logical === 'time-micros') return 'time';
  if (logical === 'local-timestamp-micros') return 'timestamp';
  if (logical === 'uuid') return 'uuid';
  if (type.type === 'array') {
    const element = stagingTypeOfAvro(type.items as AvroTypeJson);
    return element.endsWith('[]') ? 'text' : `${element}[]`;
  }
  return typeof type.type === 'string' ? (PRIMITIVE_TYPES[type.type] ?? 'text') : 'text';
}

const PRIMITIVE_TYPES: Record<string, string> = {
  int: 'integer',
  long: 'bigint',
  float: 'real',
  double: 'double precision',
  boolean: 'boolean',
  string: 'text',
  bytes: 'bytea',
};

/** The converter of one field's values to PostgreSQL text (null → null). */
export function textConverterOf(fieldType: AvroTypeJson): TextConverter {
  const type = nonNullBranch(fieldType);
  const convert = converterFor(type);
  return (value) => (value === null || value === undefined ? null : convert(value));
}

function converterFor(type: AvroTypeJson): (value: unknown) => string {
  const logical = typeof type === 'object' && !Array.isArray(type) ? type.logicalType : undefined;
  const base = typeof type === 'string' ? type : Array.isArray(type) ? 'string' : typeof type.type === 'string' ? type.type : 'string';
  if (logical === 'date') return (value) => formatDate(Number(value));
  if (logical === 'time-micros') return (value) => formatTime(BigInt(value as bigint));
  if (logical === 'local-timestamp-micros') return (value) => formatTimestamp(BigInt(value as bigint));
  if (base === 'array') {
    const element = textConverterOf((type as { items: AvroTypeJson }).items);
    return (value) => arrayLiteral((value as unknown[]).map((item) => element(item)));
  }
  switch (base) {
    case 'boolean':
      return (value) => (value ? 't' : 'f');
    case 'bytes':
      // decimal decodes to its exact text already (schema/avro-type.ts); plain bytes to a Buffer.
      return (value) => (Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : String(value));
    case 'float':
    case 'double':
      return (value) => {
        const number = value as number;
        return Number.isNaN(number) ? 'NaN' : number === Infinity ? 'Infinity' : number === -Infinity ? '-Infinity' : String(number);
      };
    default:
      return (value) => (typeof value === 'string' ? value : String(value));
  }
}

function formatDate(days: number): string {
  if (days >= INT_MAX) return 'infinity';
  if (days <= INT_MIN) return '-infinity';
  const { year, month, day } = civilFromDays(days);
  return `${yearText(year)}-${pad(month)}-${pad(day)}${year <= 0 ? ' BC' : ''}`;
}

function formatTime(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = micros % 1_000_000n;
  return `${pad(Number(seconds / 3600n))}:${pad(Number((seconds / 60n) % 60n))}:${pad(Number(seconds % 60n))}${fraction ? `.${String(fraction).padStart(6, '0')}` : ''}`;
}

function formatTimestamp(micros: bigint): string {
  if (micros >= LONG_MAX) return 'infinity';
  if (micros <= LONG_MIN) return '-infinity';
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const { year, month, day } = civilFromDays(Number(days));
  return `${yearText(year)}-${pad(month)}-${pad(day)} ${formatTime(rest)}${year <= 0 ? ' BC' : ''}`;
}

/** PostgreSQL writes 1 BC as `0001 BC` (proleptic year 0). */
function yearText(year: number): string {
  return String(year <= 0 ? 1 - year : year).padStart(4, '0');
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped; NULL is \N. */
export function copyField(text: string | null): string {
  if (text === null) return '\\N';
  return /[\\\t\n\r]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : text;
}
