/**
 * PostgreSQL type → Avro type, following Debezium where it has a rule. The table is documented in
 * README.md ("Type mapping"); `classifyPgType` is the one place that decides, so the schema derivation
 * and the value converter cannot disagree.
 */
import type { AvroSchemaJson } from './avro-schema.js';
import { resolveDomain, type PgType } from './table-definition.js';

/** How a PostgreSQL type is represented in Avro. */
export type AvroRepresentation =
  | 'int'
  | 'long'
  | 'decimal'
  | 'numeric-string'
  | 'float'
  | 'double'
  | 'boolean'
  | 'string'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'uuid'
  | 'json'
  | 'bytes'
  | 'enum'
  | 'array'
  | 'unknown';

const BY_TYPE_NAME: Record<string, AvroRepresentation> = {
  int2: 'int',
  int4: 'int',
  int8: 'long',
  float4: 'float',
  float8: 'double',
  bool: 'boolean',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  char: 'string',
  name: 'string',
  citext: 'string',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  interval: 'interval',
  uuid: 'uuid',
  json: 'json',
  jsonb: 'json',
  bytea: 'bytes',
};

export function classifyPgType(type: PgType): AvroRepresentation {
  const resolved = resolveDomain(type);
  if (resolved.kind === 'enum') return 'enum';
  if (resolved.kind === 'array' && resolved.element) return 'array';
  if (resolved.name === 'numeric') {
    // Avro decimals have a fixed, non-negative scale; anything else keeps its exact text.
    return resolved.precision !== undefined && (resolved.scale ?? 0) >= 0 ? 'decimal' : 'numeric-string';
  }
  return BY_TYPE_NAME[resolved.name] ?? 'unknown';
}

/** The Avro type of a (non-null) value of this PostgreSQL type. */
export function avroTypeFor(type: PgType): AvroSchemaJson {
  const resolved = resolveDomain(type);
  const representation = classifyPgType(resolved);
  switch (representation) {
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'boolean':
    case 'string':
    case 'bytes':
      return representation;
    case 'decimal':
      return { type: 'bytes', logicalType: 'decimal', precision: resolved.precision, scale: resolved.scale ?? 0 };
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      // A timestamp without time zone is a wall-clock reading: Avro's local-timestamp-micros.
      return { type: 'long', logicalType: 'local-timestamp-micros' };
    case 'uuid':
      return { type: 'string', logicalType: 'uuid' };
    case 'enum':
      return { type: 'string', allowed: resolved.enumValues ?? [] };
    case 'array':
      // PostgreSQL array elements may be NULL whatever the column's constraints.
      return { type: 'array', items: ['null', avroTypeFor(resolved.element!)] };
    case 'numeric-string':
    case 'timestamptz':
    case 'interval':
    case 'json':
    case 'unknown':
      return 'string';
  }
}

/** Every type name inside, for warnings: `geometry`, `_geometry` → `geometry`. */
export function unmappedTypeName(type: PgType): string | undefined {
  const resolved = resolveDomain(type);
  if (classifyPgType(resolved) === 'array') return unmappedTypeName(resolved.element!);
  return classifyPgType(resolved) === 'unknown' ? resolved.name : undefined;
}
