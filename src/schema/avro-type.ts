/**
 * avsc types for tandem's schemas, used by capture to encode and by consumers and tests to decode:
 *
 * - every Avro `long` is a JavaScript bigint (avsc's default long refuses values beyond 2^53);
 *   encoding also accepts safe-integer numbers;
 * - `decimal` decodes to its exact decimal text (`'-12.30'`) and encodes from that text or from
 *   the unscaled bytes `toAvroValue` produces.
 *
 * Other logical types (date, time-micros, local-timestamp-micros, uuid) keep their underlying
 * values: days as a number, microseconds as a bigint, text.
 */
import avro from 'avsc';
import type { AvroSchemaJson } from './avro-schema.js';
import { bytesToDecimal, decimalToBytes } from './decimal.js';

/** Options for avsc's `Type.forSchema`, also handed to @kafkajs/confluent-schema-registry. */
export function avroTypeOptions(): Partial<avro.ForSchemaOptions> {
  return {
    logicalTypes: { decimal: DecimalType },
    typeHook: (schema) => (isPlainLong(schema) ? BIGINT_LONG : undefined),
  };
}

export function createAvroType(schema: AvroSchemaJson): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, avroTypeOptions());
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Below this magnitude a long's zigzag form fits a double exactly, so no bigint arithmetic is needed. */
const EXACT_AS_NUMBER = 2 ** 52;
// avsc copies the returned bytes into its output at once, so one scratch buffer serves every write
// (encoding is on the hot path of capture: no allocation per long).
const varint = Buffer.alloc(10);

/** Avro's zigzag varint of a long, written straight from a number or bigint. */
function encodeLong(value: bigint | number): Buffer {
  const number = typeof value === 'number' ? value : value > -EXACT_AS_NUMBER && value < EXACT_AS_NUMBER ? Number(value) : null;
  let length = 0;
  if (number !== null && number > -EXACT_AS_NUMBER && number < EXACT_AS_NUMBER) {
    let zigzag = number >= 0 ? number * 2 : -number * 2 - 1;
    while (zigzag >= 128) {
      varint[length++] = (zigzag % 128) | 128;
      zigzag = Math.floor(zigzag / 128);
    }
    varint[length++] = zigzag;
  } else {
    const big = BigInt(value);
    let zigzag = big >= 0n ? big << 1n : ((-big) << 1n) - 1n;
    while (zigzag >= 128n) {
      varint[length++] = Number(zigzag & 127n) | 128;
      zigzag >>= 7n;
    }
    varint[length++] = Number(zigzag);
  }
  return varint.subarray(0, length);
}

function decodeLong(bytes: Buffer): bigint {
  let zigzag = 0n;
  for (let index = bytes.length - 1; index >= 0; index--) zigzag = (zigzag << 7n) | BigInt(bytes[index]! & 127);
  return zigzag & 1n ? -(zigzag >> 1n) - 1n : zigzag >> 1n;
}

/** avsc's customizable long, bigint based (its frozen instance; BIGINT_LONG below writes faster). */
const AVSC_BIGINT_LONG = avro.types.LongType.__with(
  {
    fromBuffer: decodeLong,
    toBuffer: encodeLong,
    fromJSON: (json: unknown) => BigInt(json as string | number),
    toJSON: (value: bigint) => (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()),
    isValid: (value: unknown) => (typeof value === 'bigint' && value >= LONG_MIN && value <= LONG_MAX) || Number.isSafeInteger(value),
    compare: (a: bigint | number, b: bigint | number) => (BigInt(a) === BigInt(b) ? 0 : BigInt(a) < BigInt(b) ? -1 : 1),
  },
  true, // noUnpack: the methods above read and write the zigzag varint bytes themselves
);

/** The part of avsc's Tap (its output cursor) that the long writer below uses. */
interface Tap {
  buf: Buffer;
  pos: number;
}

/**
 * avsc writes a long through `_write(tap, value)`: a validity check (bigint range comparisons),
 * toBuffer, then a copy of its bytes. Every event has half a dozen longs (source positions, times,
 * ids), so those below 2^52 are written straight into the tap instead, the way avsc's Tap writes a
 * number; others take avsc's path. Past the buffer's end the writes are dropped and the position
 * still advances: that is how avsc tells that the buffer was too small (Tap does the same).
 * avsc freezes its instance, so this is an object inheriting from it with its own `_write`.
 */
function writeLong(tap: Tap, value: unknown): void {
  const number = typeof value === 'number' ? value : typeof value === 'bigint' && value > -EXACT_AS_NUMBER && value < EXACT_AS_NUMBER ? Number(value) : Number.NaN;
  if (!(number > -EXACT_AS_NUMBER && number < EXACT_AS_NUMBER && Number.isInteger(number))) {
    (AVSC_BIGINT_LONG as unknown as { _write(tap: Tap, value: unknown): void })._write(tap, value);
    return;
  }
  const { buf } = tap;
  let pos = tap.pos;
  if (number >= -0x4000_0000 && number < 0x4000_0000) {
    // The zigzag form fits 31 bits: integer arithmetic.
    let zigzag = number >= 0 ? number << 1 : (~number << 1) | 1;
    while (zigzag >= 128) {
      buf[pos++] = (zigzag & 127) | 128;
      zigzag >>>= 7;
    }
    buf[pos++] = zigzag;
  } else {
    let zigzag = number >= 0 ? number * 2 : -number * 2 - 1;
    while (zigzag >= 128) {
      buf[pos++] = (zigzag % 128) | 128;
      zigzag = Math.floor(zigzag / 128);
    }
    buf[pos++] = zigzag;
  }
  tap.pos = pos;
}

const BIGINT_LONG: avro.types.LongType = Object.freeze(Object.create(AVSC_BIGINT_LONG, { _write: { value: writeLong } }));

/** `long` itself or a long whose logical type avsc will not wrap (decimal is the only one registered). */
function isPlainLong(schema: unknown): boolean {
  if (schema === 'long') return true;
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long';
}

class DecimalType extends avro.types.LogicalType {
  private readonly precision: number;
  private readonly scale: number;

  constructor(schema: avro.Schema, options?: unknown) {
    super(schema, options);
    const attributes = schema as { precision?: number; scale?: number };
    this.precision = attributes.precision ?? 0;
    this.scale = attributes.scale ?? 0;
  }

  protected override _fromValue(value: Buffer): string {
    return bytesToDecimal(value, this.scale);
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    if (Buffer.isBuffer(value)) return value;
    if (typeof value === 'string' || typeof value === 'bigint' || typeof value === 'number') {
      try {
        return decimalToBytes(String(value), this.precision, this.scale);
      } catch {
        return undefined; // avsc reports the value as invalid for the type
      }
    }
    return undefined;
  }

  protected override _resolve(type: avro.Type): ((value: Buffer) => string) | undefined {
    const other = type as unknown as { precision?: number; scale?: number };
    if (type instanceof DecimalType && other.precision === this.precision && other.scale === this.scale) return (value) => this._fromValue(value);
    return undefined;
  }

  protected override _export(attributes: avro.Schema): void {
    Object.assign(attributes, { precision: this.precision, scale: this.scale });
  }
}
