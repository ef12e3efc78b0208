/**
 * The change-event envelope, declared once: each field's Avro type and doc, and (as a phantom) the
 * TypeScript type of its value. derive.ts builds the Avro records from these declarations, capture
 * types its events and the values it encodes with the types derived from them, so the two cannot
 * drift apart. The TypeScript types are what capture encodes; a decoder reads every Avro long back
 * as a bigint (avro-type.ts).
 */
import type { AvroFieldJson, AvroRecordJson, AvroSchemaJson } from './avro-schema.js';

/** Stands for the table's row record in a field declaration; replaced by the row type in `Envelope<Row>`. */
declare const ROW: unique symbol;
type RowSlot = typeof ROW;

interface Field<T> {
  /** The Avro type, or for fields holding the table's row, a function of the row record. */
  readonly type: AvroSchemaJson | ((row: AvroRecordJson) => AvroSchemaJson);
  readonly default?: unknown;
  readonly doc?: string;
  /** Never set: carries the TypeScript type of the field's value. */
  readonly value?: T;
}

function field<T>(type: Field<T>['type'], extra: { default?: unknown; doc?: string } = {}): Field<T> {
  return { type, ...extra };
}

type ValueOf<F> = F extends Field<infer T> ? T : never;
type Substitute<T, Row> = T extends RowSlot ? Row : T;

export const SOURCE_FIELDS = {
  connector: field<string>('string'),
  lsn: field<bigint>('long', { doc: 'WAL position of the change (of the snapshot for op r)' }),
  commitLsn: field<bigint | null>(['null', 'long'], {
    default: null,
    doc: 'Commit LSN of the transaction; with sequence it identifies a change, so consumers can drop replays. Null for snapshot reads',
  }),
  sequence: field<number>('long', { doc: 'Position of the change within its transaction (snapshot: row number within the table)' }),
  txId: field<number | null>(['null', 'long'], { default: null, doc: 'PostgreSQL transaction id; null for snapshot reads' }),
  tsMs: field<number>('long', { doc: 'Commit time of the transaction (epoch milliseconds)' }),
  schema: field<string>('string'),
  table: field<string>('string'),
  snapshot: field<boolean>('boolean', { doc: 'true for rows read by the initial snapshot' }),
} as const;

/** Where a change came from: the `source` block of the envelope. */
export type SourceInfo = { -readonly [K in keyof typeof SOURCE_FIELDS]: ValueOf<(typeof SOURCE_FIELDS)[K]> };

/** create, update, delete, read (snapshot), truncate. */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** `tandem.Source`: the same record in every topic. */
export const SOURCE_SCHEMA: AvroRecordJson = { type: 'record', name: 'Source', namespace: 'tandem', fields: avroFields(SOURCE_FIELDS) };

export const ENVELOPE_FIELDS = {
  before: field<RowSlot | null>((row) => ['null', row], {
    default: null,
    doc: 'The row before the change: null for inserts and snapshot reads; for updates only when REPLICA IDENTITY FULL',
  }),
  after: field<RowSlot | null>((row) => ['null', row.name], { default: null, doc: 'The row after the change: null for deletes and truncates' }),
  source: field<SourceInfo>(SOURCE_SCHEMA),
  op: field<Op>('string', { doc: 'c = create, u = update, d = delete, r = read (snapshot), t = truncate' }),
  tsMs: field<number>('long', { doc: 'When tandem processed the event (epoch milliseconds)' }),
  unchangedToastColumns: field<readonly string[]>(
    { type: 'array', items: 'string' },
    {
      default: [],
      doc: 'Columns of after whose value PostgreSQL did not send (unchanged TOAST): their value in after is null or the empty value of the type, not the column value and not NULL',
    },
  ),
} as const;

/** The value of a change event, with `Row` as the type of before and after. */
export type Envelope<Row> = { -readonly [K in keyof typeof ENVELOPE_FIELDS]: Substitute<ValueOf<(typeof ENVELOPE_FIELDS)[K]>, Row> };

/** The `Envelope` record of a table whose row record is `row` (named `Value`, in `namespace`). */
export function envelopeSchema(namespace: string, row: AvroRecordJson): AvroRecordJson {
  return { type: 'record', name: 'Envelope', namespace, fields: avroFields(ENVELOPE_FIELDS, row) };
}

function avroFields(fields: Record<string, Field<unknown>>, row?: AvroRecordJson): AvroFieldJson[] {
  return Object.entries(fields).map(([name, declared]) => {
    const type = typeof declared.type === 'function' ? declared.type(row!) : declared.type;
    // Key order as written to schemas/*.avsc: name, type, default, doc.
    const json: AvroFieldJson = { name, type };
    if ('default' in declared) json.default = declared.default;
    if (declared.doc !== undefined) json.doc = declared.doc;
    return json;
  });
}
