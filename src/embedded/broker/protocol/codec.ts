/**
 * Interpreter for the generated message schemas: encodes and decodes any schema at one version.
 *
 * Decoding never trusts a length from the wire: every length is checked against the bytes left
 * before anything is allocated, and any inconsistency throws a ProtocolError. `bytes` and `records`
 * values decode to zero-copy views into the input buffer; record batches are never parsed here.
 */
import { inRange, type FieldSchema, type MessageSchema, type PrimitiveType } from './schema.js';

/** Truncated or malformed protocol input (or a value that cannot be encoded at the requested version). */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Makes every field optional, recursively: omitted fields are encoded as their spec default. */
export type Encodable<T> = T extends Buffer | string | number | bigint | boolean | null
  ? T
  : T extends readonly (infer Element)[]
    ? Encodable<Element>[]
    : { [Key in keyof T]?: Encodable<T[Key]> };

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const EMPTY_BUFFER = Buffer.alloc(0);

// ---------------------------------------------------------------- primitive reader and writer

export class Reader {
  constructor(
    readonly buffer: Buffer,
    public offset = 0,
    readonly end = buffer.length,
  ) {}

  get remaining(): number {
    return this.end - this.offset;
  }

  private take(size: number): number {
    if (size > this.end - this.offset) {
      throw new ProtocolError(`truncated input: need ${size} bytes at offset ${this.offset}, ${this.remaining} left`);
    }
    const start = this.offset;
    this.offset += size;
    return start;
  }

  int8(): number {
    return this.buffer.readInt8(this.take(1));
  }
  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }
  uint16(): number {
    return this.buffer.readUInt16BE(this.take(2));
  }
  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }
  uint32(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }
  int64(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }
  float64(): number {
    return this.buffer.readDoubleBE(this.take(8));
  }
  bool(): boolean {
    return this.buffer.readInt8(this.take(1)) !== 0;
  }

  uuid(): string {
    const start = this.take(16);
    const hex = this.buffer.toString('hex', start, start + 16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Unsigned LEB128 varint, at most 32 bits (all Kafka uvarints are lengths, counts or tags). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buffer.readUInt8(this.take(1));
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw new ProtocolError(`unsigned varint out of range at offset ${this.offset}`);
        return value;
      }
    }
    throw new ProtocolError(`unsigned varint longer than 5 bytes at offset ${this.offset}`);
  }

  /** A view of the next `size` bytes (no copy). */
  bytes(size: number): Buffer {
    const start = this.take(size);
    return this.buffer.subarray(start, start + size);
  }

  utf8(size: number): string {
    const start = this.take(size);
    return this.buffer.toString('utf8', start, start + size);
  }

  skip(size: number): void {
    this.take(size);
  }
}

export class Writer {
  private buffer: Buffer;
  offset = 0;

  constructor(initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  private ensure(size: number): void {
    if (this.offset + size <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.offset + size));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  int8(value: number): void {
    this.ensure(1);
    this.offset = this.buffer.writeInt8(value, this.offset);
  }
  int16(value: number): void {
    this.ensure(2);
    this.offset = this.buffer.writeInt16BE(value, this.offset);
  }
  uint16(value: number): void {
    this.ensure(2);
    this.offset = this.buffer.writeUInt16BE(value, this.offset);
  }
  int32(value: number): void {
    this.ensure(4);
    this.offset = this.buffer.writeInt32BE(value, this.offset);
  }
  uint32(value: number): void {
    this.ensure(4);
    this.offset = this.buffer.writeUInt32BE(value, this.offset);
  }
  int64(value: bigint): void {
    this.ensure(8);
    this.offset = this.buffer.writeBigInt64BE(value, this.offset);
  }
  float64(value: number): void {
    this.ensure(8);
    this.offset = this.buffer.writeDoubleBE(value, this.offset);
  }
  bool(value: boolean): void {
    this.int8(value ? 1 : 0);
  }

  uuid(value: string): void {
    const hex = value.replace(/-/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new ProtocolError(`invalid uuid ${JSON.stringify(value)}`);
    this.raw(Buffer.from(hex, 'hex'));
  }

  uvarint(value: number): void {
    this.ensure(5);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.offset++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.buffer[this.offset++] = rest;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  utf8(value: string, byteLength: number): void {
    this.ensure(byteLength);
    this.offset += this.buffer.write(value, this.offset, byteLength, 'utf8');
  }

  /** Overwrites an int32 already written, e.g. a size prefix. */
  patchInt32(position: number, value: number): void {
    this.buffer.writeInt32BE(value, position);
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }
}

// ---------------------------------------------------------------- per-version plans

interface FieldPlan {
  readonly field: FieldSchema;
  /** `wire`: positional; `tagged`: in the tagged section; `absent`: not in this version, takes its default. */
  readonly placement: 'wire' | 'tagged' | 'absent';
  readonly nullable: boolean;
  /** Compact (KIP-482) lengths for strings, bytes and arrays. */
  readonly compact: boolean;
}

interface StructPlan {
  readonly fields: readonly FieldPlan[];
  readonly taggedByTag: ReadonlyMap<number, FieldPlan>;
  /** Tagged fields in ascending tag order, as they must be written. */
  readonly tagged: readonly FieldPlan[];
}

const planCache = new WeakMap<readonly FieldSchema[], Map<number, StructPlan>>();

function planFor(fields: readonly FieldSchema[], version: number, flexible: boolean): StructPlan {
  let byVersion = planCache.get(fields);
  if (!byVersion) {
    byVersion = new Map();
    planCache.set(fields, byVersion);
  }
  const key = version * 2 + (flexible ? 1 : 0);
  let plan = byVersion.get(key);
  if (!plan) {
    const fieldPlans = fields.map((field): FieldPlan => {
      const present = inRange(field.versions, version);
      const tagged = present && flexible && inRange(field.taggedVersions, version);
      return {
        field,
        placement: !present ? 'absent' : tagged ? 'tagged' : 'wire',
        nullable: inRange(field.nullableVersions, version),
        compact: flexible && !field.neverFlexible,
      };
    });
    const tagged = fieldPlans.filter((plan) => plan.placement === 'tagged').sort((a, b) => a.field.tag! - b.field.tag!);
    plan = { fields: fieldPlans, tagged, taggedByTag: new Map(tagged.map((plan) => [plan.field.tag!, plan])) };
    byVersion.set(key, plan);
  }
  return plan;
}

export function isFlexible(schema: MessageSchema, version: number): boolean {
  return schema.firstFlexibleVersion !== null && version >= schema.firstFlexibleVersion;
}

// ---------------------------------------------------------------- defaults

function primitiveDefault(type: PrimitiveType): unknown {
  switch (type) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
    case 'records':
      return EMPTY_BUFFER;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

function defaultValue(field: FieldSchema): unknown {
  if (field.default !== undefined) return field.default;
  if (field.type === 'array') return [];
  if (field.type === 'struct') return defaultStruct(field.fields!);
  return primitiveDefault(field.type);
}

function defaultStruct(fields: readonly FieldSchema[]): Record<string, unknown> {
  const struct: Record<string, unknown> = {};
  for (const field of fields) struct[field.name] = defaultValue(field);
  return struct;
}

function isDefault(field: FieldSchema, value: unknown): boolean {
  if (value === undefined) return true;
  const fallback = field.default;
  if (field.type === 'array') return fallback === null ? value === null : Array.isArray(value) && value.length === 0;
  if (field.type === 'struct') {
    if (value === null) return false;
    const struct = value as Record<string, unknown>;
    return field.fields!.every((child) => isDefault(child, struct[child.name]));
  }
  if (Buffer.isBuffer(value)) return fallback === undefined && value.length === 0;
  return value === (fallback === undefined ? primitiveDefault(field.type) : fallback);
}

// ---------------------------------------------------------------- decoding

/** Decodes a struct (a message body or a nested struct) at `version`. */
export function decodeStruct(
  reader: Reader,
  fields: readonly FieldSchema[],
  version: number,
  flexible: boolean,
): Record<string, unknown> {
  const plan = planFor(fields, version, flexible);
  const struct: Record<string, unknown> = {};
  for (const fieldPlan of plan.fields) {
    struct[fieldPlan.field.name] =
      fieldPlan.placement === 'wire' ? readField(reader, fieldPlan, version, flexible) : defaultValue(fieldPlan.field);
  }
  if (flexible) readTaggedFields(reader, plan, struct, version);
  return struct;
}

function readTaggedFields(reader: Reader, plan: StructPlan, struct: Record<string, unknown>, version: number): void {
  const count = reader.uvarint();
  for (let index = 0; index < count; index++) {
    const tag = reader.uvarint();
    const size = reader.uvarint();
    const fieldPlan = plan.taggedByTag.get(tag);
    if (!fieldPlan) {
      reader.skip(size); // Unknown tags are skipped, as KIP-482 requires.
      continue;
    }
    const end = reader.offset + size;
    if (size > reader.remaining) throw new ProtocolError(`truncated tagged field ${tag} at offset ${reader.offset}`);
    const tagReader = new Reader(reader.buffer, reader.offset, end);
    struct[fieldPlan.field.name] = readField(tagReader, fieldPlan, version, true);
    reader.offset = end;
  }
}

function readLength(reader: Reader, compact: boolean, classic: 'int16' | 'int32'): number {
  if (compact) return reader.uvarint() - 1;
  return classic === 'int16' ? reader.int16() : reader.int32();
}

function checkNull(fieldPlan: FieldPlan, length: number, at: number): void {
  if (length < -1 || (length === -1 && !fieldPlan.nullable)) {
    throw new ProtocolError(`invalid length ${length} for field ${fieldPlan.field.name} at offset ${at}`);
  }
}

function readField(reader: Reader, fieldPlan: FieldPlan, version: number, flexible: boolean): unknown {
  const { field } = fieldPlan;
  if (field.type === 'array') {
    const at = reader.offset;
    const count = readLength(reader, fieldPlan.compact, 'int32');
    checkNull(fieldPlan, count, at);
    if (count === -1) return null;
    // Every element takes at least one byte, so a count above the bytes left is garbage.
    if (count > reader.remaining) throw new ProtocolError(`array ${field.name} claims ${count} elements, ${reader.remaining} bytes left`);
    const elements = new Array<unknown>(count);
    for (let index = 0; index < count; index++) {
      elements[index] =
        field.items === 'struct'
          ? decodeStruct(reader, field.fields!, version, flexible)
          : readPrimitive(reader, field.items!, { field, placement: 'wire', nullable: false, compact: fieldPlan.compact });
    }
    return elements;
  }
  if (field.type === 'struct') return decodeStruct(reader, field.fields!, version, flexible);
  return readPrimitive(reader, field.type, fieldPlan);
}

function readPrimitive(reader: Reader, type: PrimitiveType, fieldPlan: FieldPlan): unknown {
  switch (type) {
    case 'bool':
      return reader.bool();
    case 'int8':
      return reader.int8();
    case 'int16':
      return reader.int16();
    case 'uint16':
      return reader.uint16();
    case 'int32':
      return reader.int32();
    case 'uint32':
      return reader.uint32();
    case 'int64':
      return reader.int64();
    case 'float64':
      return reader.float64();
    case 'uuid':
      return reader.uuid();
    case 'string': {
      const at = reader.offset;
      const length = readLength(reader, fieldPlan.compact, 'int16');
      checkNull(fieldPlan, length, at);
      return length === -1 ? null : reader.utf8(length);
    }
    case 'bytes':
    case 'records': {
      const at = reader.offset;
      const length = readLength(reader, fieldPlan.compact, 'int32');
      checkNull(fieldPlan, length, at);
      return length === -1 ? null : reader.bytes(length);
    }
  }
}

// ---------------------------------------------------------------- encoding

/** Encodes a struct at `version`; fields missing from `value` are written as their defaults. */
export function encodeStruct(
  writer: Writer,
  fields: readonly FieldSchema[],
  value: Record<string, unknown>,
  version: number,
  flexible: boolean,
): void {
  const plan = planFor(fields, version, flexible);
  for (const fieldPlan of plan.fields) {
    if (fieldPlan.placement !== 'wire') continue;
    const fieldValue = value[fieldPlan.field.name];
    writeField(writer, fieldPlan, fieldValue === undefined ? defaultValue(fieldPlan.field) : fieldValue, version, flexible);
  }
  if (flexible) writeTaggedFields(writer, plan, value, version);
}

function writeTaggedFields(writer: Writer, plan: StructPlan, value: Record<string, unknown>, version: number): void {
  const present = plan.tagged.filter((fieldPlan) => !isDefault(fieldPlan.field, value[fieldPlan.field.name]));
  writer.uvarint(present.length);
  for (const fieldPlan of present) {
    const data = new Writer(64);
    writeField(data, fieldPlan, value[fieldPlan.field.name], version, true);
    const bytes = data.finish();
    writer.uvarint(fieldPlan.field.tag!);
    writer.uvarint(bytes.length);
    writer.raw(bytes);
  }
}

function writeLength(writer: Writer, compact: boolean, classic: 'int16' | 'int32', length: number): void {
  if (compact) writer.uvarint(length + 1);
  else if (classic === 'int16') writer.int16(length);
  else writer.int32(length);
}

function nullNotAllowed(field: FieldSchema, version: number): ProtocolError {
  return new ProtocolError(`field ${field.name} is not nullable in version ${version}`);
}

function writeField(writer: Writer, fieldPlan: FieldPlan, value: unknown, version: number, flexible: boolean): void {
  const { field } = fieldPlan;
  if (field.type === 'array') {
    if (value === null) {
      if (!fieldPlan.nullable) throw nullNotAllowed(field, version);
      writeLength(writer, fieldPlan.compact, 'int32', -1);
      return;
    }
    const elements = value as unknown[];
    writeLength(writer, fieldPlan.compact, 'int32', elements.length);
    const elementPlan: FieldPlan = { field, placement: 'wire', nullable: false, compact: fieldPlan.compact };
    for (const element of elements) {
      if (field.items === 'struct') encodeStruct(writer, field.fields!, element as Record<string, unknown>, version, flexible);
      else writePrimitive(writer, field.items!, elementPlan, element, version);
    }
    return;
  }
  if (field.type === 'struct') {
    encodeStruct(writer, field.fields!, value as Record<string, unknown>, version, flexible);
    return;
  }
  writePrimitive(writer, field.type, fieldPlan, value, version);
}

function writePrimitive(writer: Writer, type: PrimitiveType, fieldPlan: FieldPlan, value: unknown, version: number): void {
  switch (type) {
    case 'bool':
      return writer.bool(value as boolean);
    case 'int8':
      return writer.int8(value as number);
    case 'int16':
      return writer.int16(value as number);
    case 'uint16':
      return writer.uint16(value as number);
    case 'int32':
      return writer.int32(value as number);
    case 'uint32':
      return writer.uint32(value as number);
    case 'int64':
      return writer.int64(value as bigint);
    case 'float64':
      return writer.float64(value as number);
    case 'uuid':
      return writer.uuid(value as string);
    case 'string': {
      if (value === null) {
        if (!fieldPlan.nullable) throw nullNotAllowed(fieldPlan.field, version);
        return writeLength(writer, fieldPlan.compact, 'int16', -1);
      }
      const text = value as string;
      const byteLength = Buffer.byteLength(text, 'utf8');
      if (!fieldPlan.compact && byteLength > 0x7fff) {
        throw new ProtocolError(`field ${fieldPlan.field.name}: string of ${byteLength} bytes exceeds 32767`);
      }
      writeLength(writer, fieldPlan.compact, 'int16', byteLength);
      return writer.utf8(text, byteLength);
    }
    case 'bytes':
    case 'records': {
      if (value === null) {
        if (!fieldPlan.nullable) throw nullNotAllowed(fieldPlan.field, version);
        return writeLength(writer, fieldPlan.compact, 'int32', -1);
      }
      const bytes = value as Uint8Array;
      writeLength(writer, fieldPlan.compact, 'int32', bytes.length);
      return writer.raw(bytes);
    }
  }
}

// ---------------------------------------------------------------- whole messages

export function decodeMessage(schema: MessageSchema, version: number, reader: Reader): Record<string, unknown> {
  checkVersion(schema, version);
  return decodeStruct(reader, schema.fields, version, isFlexible(schema, version));
}

export function encodeMessage(schema: MessageSchema, version: number, writer: Writer, value: object): void {
  checkVersion(schema, version);
  encodeStruct(writer, schema.fields, value as Record<string, unknown>, version, isFlexible(schema, version));
}

function checkVersion(schema: MessageSchema, version: number): void {
  if (!inRange(schema.versions, version)) {
    throw new ProtocolError(`${schema.name} version ${version} is not supported (${schema.versions[0]}-${schema.versions[1]})`);
  }
}
