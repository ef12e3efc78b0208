/**
 * Table definition → key and value schemas of its change events. Pure: capture derives the schemas
 * it registers with the same function that `tandem schemas generate` writes to schemas/.
 *
 * Record names are stable so consumers can rely on them (the Debezium convention):
 *   key      <prefix>.<schema>.<table>.Key        the key columns
 *   value    <prefix>.<schema>.<table>.Envelope   before/after/op/source/tsMs/unchangedToastColumns
 *   row      <prefix>.<schema>.<table>.Value      the type of before and after
 *   source   tandem.Source                       the same record in every topic
 */
import { TandemError } from '../errors.js';
import { topicFor } from '../kafka/topics.js';
import type { AvroFieldJson, AvroRecordJson } from './avro-schema.js';
import { envelopeSchema } from './envelope.js';
import type { ColumnDefinition, TableDefinition } from './table-definition.js';
import { avroTypeFor, unmappedTypeName } from './type-mapping.js';

export interface DerivedSchemas {
  topic: string;
  keySchema: AvroRecordJson;
  valueSchema: AvroRecordJson;
  /** Columns whose type tandem does not map (sent as their text form); each names the column. */
  warnings: string[];
}

export interface DeriveOptions {
  topicPrefix: string;
}

/** The Avro field name of a column: PostgreSQL allows names Avro does not (`order-id`, `1st`). */
export function avroFieldName(column: string): string {
  const replaced = column.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** `shop-db`, `public`, `customers` → `shop_db.public.customers`. */
export function recordNamespace(topicPrefix: string, schema: string, table: string): string {
  return [...topicPrefix.split('.'), schema, table].map(avroFieldName).join('.');
}

export function deriveSchemas(table: TableDefinition, options: DeriveOptions): DerivedSchemas {
  const qualified = `${table.schema}.${table.table}`;
  const namespace = recordNamespace(options.topicPrefix, table.schema, table.table);
  checkFieldNamesAreDistinct(table);
  const warnings = table.columns.flatMap((column) => {
    const unmapped = unmappedTypeName(column.type);
    return unmapped === undefined
      ? []
      : [`column ${qualified}.${column.name} has type ${column.declaredType}, which tandem does not map: it is sent as its text form (Avro string)`];
  });
  if (table.keyColumns.length === 0) {
    warnings.push(`table ${qualified} has no primary key or replica identity index: its events have no key and all go to partition 0 of the topic, in commit order`);
  }

  const keyColumns = table.keyColumns.map((name) => {
    const column = table.columns.find((candidate) => candidate.name === name);
    if (!column) throw new TandemError(`key column ${name} is not a column of ${qualified}`);
    return column;
  });
  const keySchema: AvroRecordJson = {
    type: 'record',
    name: 'Key',
    namespace,
    fields: keyColumns.map((column) => ({ name: avroFieldName(column.name), type: avroTypeFor(column.type) })),
  };
  const rowSchema: AvroRecordJson = {
    type: 'record',
    name: 'Value',
    namespace,
    fields: table.columns.map(rowField),
  };
  return { topic: topicFor(options.topicPrefix, qualified), keySchema, valueSchema: envelopeSchema(namespace, rowSchema), warnings };
}

function rowField(column: ColumnDefinition): AvroFieldJson {
  const type = avroTypeFor(column.type);
  return column.nullable ? { name: avroFieldName(column.name), type: ['null', type], default: null } : { name: avroFieldName(column.name), type };
}

function checkFieldNamesAreDistinct(table: TableDefinition): void {
  const byFieldName = new Map<string, string>();
  for (const column of table.columns) {
    const fieldName = avroFieldName(column.name);
    const other = byFieldName.get(fieldName);
    if (other !== undefined) {
      throw new TandemError(`columns "${other}" and "${column.name}" of ${table.schema}.${table.table} both become Avro field ${fieldName}`, {
        fix: 'rename one of the columns so that their names differ in letters, digits or _',
      });
    }
    byFieldName.set(fieldName, column.name);
  }
}
