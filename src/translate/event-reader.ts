/**
 * A Kafka message → a validated source change. Decoding is wire-format.ts's (frame) and avsc's
 * (payload); this module checks that the result is a change event envelope translate can apply,
 * and turns its row into PostgreSQL text. Anything else is a poison event.
 */
import type { KafkaMessage } from 'kafkajs';
import { decodeFrame } from '../schema/wire-format.js';
import { positionOf, type Position } from './position.js';
import type { RowField, SchemaCache } from './schema-cache.js';

export type ChangeOp = 'c' | 'u' | 'd' | 'r' | 't';

export interface SourceChange {
  topic: string;
  partition: number;
  offset: string;
  op: ChangeOp;
  position: Position;
  /** The source key as text (JSON of the key columns' text values); '' for a truncate. */
  key: string;
  /** The row: `after` for c/u/r, `before` for d, empty for t. Column → PostgreSQL text (null = NULL). */
  values: Record<string, string | null>;
  /** Columns not sent (unchanged TOAST). */
  unsent: readonly string[];
  /** The fields of the writer schema's row, in order (the row's shape). */
  fields: readonly RowField[];
  schemaId: number;
  /** Source commit time (epoch ms). */
  commitTsMs: number;
  message: KafkaMessage;
}

/** Not an applicable change event: goes to the dead-letter topic. */
export class PoisonEvent extends Error {
  override name = 'PoisonEvent';
}

const OPS = new Set(['c', 'u', 'd', 'r', 't']);

interface Envelope {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  op: string;
  source: { lsn: bigint; commitLsn: bigint | null; sequence: bigint; tsMs: bigint };
  unchangedToastColumns?: string[];
}

export async function readChange(schemas: SchemaCache, topic: string, partition: number, message: KafkaMessage): Promise<SourceChange> {
  const where = `${topic}[${partition}]@${message.offset}`;
  if (!message.value) throw new PoisonEvent(`${where} is a tombstone (no value); translate applies change events only`);
  let envelope: Envelope;
  let fields: readonly RowField[];
  let schemaId: number;
  let keyText = '';
  try {
    const framed = decodeFrame(message.value, `${where} value`);
    schemaId = framed.schemaId;
    const writer = await schemas.get(schemaId);
    envelope = writer.type.fromBuffer(framed.payload) as Envelope;
    fields = writer.fields;
    if (message.key && message.key.length > 0) {
      const keyFrame = decodeFrame(message.key, `${where} key`);
      const keyWriter = await schemas.get(keyFrame.schemaId);
      const key = keyWriter.type.fromBuffer(keyFrame.payload) as Record<string, unknown>;
      keyText = JSON.stringify(keyWriter.fields.map((field) => field.toText(key[field.name])));
    }
  } catch (error) {
    if ((error as { transient?: boolean }).transient) throw error;
    throw new PoisonEvent(`${where} cannot be decoded: ${(error as Error).message}`);
  }
  if (!envelope || typeof envelope !== 'object' || !OPS.has(envelope.op) || !envelope.source || typeof envelope.source.sequence !== 'bigint') {
    throw new PoisonEvent(`${where} is not a tandem change event envelope (op ${JSON.stringify((envelope as { op?: unknown })?.op)})`);
  }
  const op = envelope.op as ChangeOp;
  const row = op === 'd' ? envelope.before : op === 't' ? {} : envelope.after;
  if (!row) throw new PoisonEvent(`${where}: op ${op} without ${op === 'd' ? 'before' : 'after'}`);
  if (op !== 't' && !keyText) throw new PoisonEvent(`${where}: a row change without a key (the legacy table has no primary key or replica identity)`);
  const values: Record<string, string | null> = {};
  if (op !== 't') for (const field of fields) values[field.name] = field.toText(row[field.name]);
  return {
    topic,
    partition,
    offset: message.offset,
    op,
    position: positionOf(envelope.source),
    key: keyText,
    values,
    unsent: op === 'd' || op === 't' ? [] : (envelope.unchangedToastColumns ?? []),
    fields,
    schemaId,
    commitTsMs: Number(envelope.source.tsMs),
    message,
  };
}
