/**
 * Record batches (magic v2), the `records` bytes of Produce and Fetch. The broker stores batches as
 * the producer sent them and only touches the header: it checks the CRC and assigns offsets by
 * rewriting baseOffset, which the CRC does not cover.
 *
 * Layout: baseOffset int64, batchLength int32 (bytes after this field), partitionLeaderEpoch int32,
 * magic int8, crc uint32 (CRC-32C of attributes..end), attributes int16, lastOffsetDelta int32,
 * baseTimestamp int64, maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence int32,
 * recordCount int32, then the records (possibly compressed).
 */
import { ProtocolError } from './codec.js';
import { crc32c } from './crc32c.js';
import { ErrorCode } from './error-code.js';

export const RECORD_BATCH_MAGIC = 2;
/** Bytes before the first record. */
export const RECORD_BATCH_HEADER_SIZE = 61;
/** baseOffset and batchLength, which batchLength does not count. */
export const RECORD_BATCH_LOG_OVERHEAD = 12;

const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;

/** Attribute bits of a batch. */
export const BatchAttributes = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_LOG_APPEND_TIME: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const;

export interface RecordBatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** An invalid batch, with the Kafka error code a Produce response should carry for it. */
export class RecordBatchError extends ProtocolError {
  constructor(
    message: string,
    readonly errorCode: ErrorCode,
  ) {
    super(message);
    this.name = 'RecordBatchError';
  }
}

/** Reads the header of the batch that starts at `offset`. */
export function readBatchHeader(buffer: Buffer, offset = 0): RecordBatchHeader {
  if (buffer.length - offset < RECORD_BATCH_HEADER_SIZE) {
    // Old message sets (magic 0/1) are shorter, so say what the magic byte is when we can.
    if (buffer.length - offset > MAGIC_OFFSET) checkMagic(buffer.readInt8(offset + MAGIC_OFFSET));
    throw new RecordBatchError(
      `record batch truncated: ${buffer.length - offset} bytes, the header alone takes ${RECORD_BATCH_HEADER_SIZE}`,
      ErrorCode.CORRUPT_MESSAGE,
    );
  }
  const magic = buffer.readInt8(offset + MAGIC_OFFSET);
  checkMagic(magic);
  return {
    baseOffset: buffer.readBigInt64BE(offset),
    batchLength: buffer.readInt32BE(offset + 8),
    partitionLeaderEpoch: buffer.readInt32BE(offset + 12),
    magic,
    crc: buffer.readUInt32BE(offset + CRC_OFFSET),
    attributes: buffer.readInt16BE(offset + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buffer.readInt32BE(offset + 23),
    baseTimestamp: buffer.readBigInt64BE(offset + 27),
    maxTimestamp: buffer.readBigInt64BE(offset + 35),
    producerId: buffer.readBigInt64BE(offset + 43),
    producerEpoch: buffer.readInt16BE(offset + 51),
    baseSequence: buffer.readInt32BE(offset + 53),
    recordCount: buffer.readInt32BE(offset + 57),
  };
}

function checkMagic(magic: number): void {
  if (magic !== RECORD_BATCH_MAGIC) {
    throw new RecordBatchError(
      `record batch magic ${magic} is not supported: only v2 record batches (Kafka 0.11+ clients) are accepted`,
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
    );
  }
}

/**
 * Splits the `records` of one partition into its batches (views, no copy). Throws a RecordBatchError
 * on a truncated or inconsistent batch; Produce input must consist of whole batches.
 */
export function splitBatches(records: Buffer): Buffer[] {
  const batches: Buffer[] = [];
  let offset = 0;
  while (offset < records.length) {
    const header = readBatchHeader(records, offset);
    const size = RECORD_BATCH_LOG_OVERHEAD + header.batchLength;
    if (header.batchLength < RECORD_BATCH_HEADER_SIZE - RECORD_BATCH_LOG_OVERHEAD || offset + size > records.length) {
      throw new RecordBatchError(
        `record batch at byte ${offset} has length ${header.batchLength}, ${records.length - offset - RECORD_BATCH_LOG_OVERHEAD} bytes left`,
        ErrorCode.CORRUPT_MESSAGE,
      );
    }
    batches.push(records.subarray(offset, offset + size));
    offset += size;
  }
  return batches;
}

/** The CRC-32C a batch should carry (computed over attributes..end). */
export function computeBatchCrc(batch: Buffer): number {
  return crc32c(batch, ATTRIBUTES_OFFSET, batch.length);
}

export function hasValidCrc(batch: Buffer): boolean {
  return batch.length >= RECORD_BATCH_HEADER_SIZE && batch.readUInt32BE(CRC_OFFSET) === computeBatchCrc(batch);
}

/**
 * Splits `records` and checks every batch (magic, lengths, CRC, record count vs lastOffsetDelta):
 * what the broker does before it appends a Produce request.
 */
export function validateBatches(records: Buffer): { batch: Buffer; header: RecordBatchHeader }[] {
  return splitBatches(records).map((batch) => {
    const header = readBatchHeader(batch);
    if (!hasValidCrc(batch)) {
      throw new RecordBatchError(
        `record batch CRC mismatch: stored ${header.crc}, computed ${computeBatchCrc(batch)}`,
        ErrorCode.CORRUPT_MESSAGE,
      );
    }
    if (header.recordCount < 0 || header.lastOffsetDelta < 0) {
      throw new RecordBatchError(
        `record batch has recordCount ${header.recordCount} and lastOffsetDelta ${header.lastOffsetDelta}`,
        ErrorCode.CORRUPT_MESSAGE,
      );
    }
    return { batch, header };
  });
}

/** Assigns offsets: rewrites baseOffset in place. The CRC stays valid because it does not cover it. */
export function setBaseOffset(batch: Buffer, baseOffset: bigint): void {
  batch.writeBigInt64BE(baseOffset, 0);
}

/** Rewrites partitionLeaderEpoch in place (also outside the CRC). */
export function setPartitionLeaderEpoch(batch: Buffer, epoch: number): void {
  batch.writeInt32BE(epoch, 12);
}

// ---------------------------------------------------------------- building batches

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: readonly { key: string; value: Buffer | null }[];
  /** Absolute timestamp in ms; defaults to the batch's baseTimestamp. */
  timestamp?: bigint;
}

export interface RecordBatchInput {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  /** Compression must be none (0): building compressed batches is not supported here. */
  attributes?: number;
  baseTimestamp?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  records: readonly RecordInput[];
}

/** Builds an uncompressed v2 record batch with a valid CRC. Offsets deltas are 0..n-1. */
export function buildRecordBatch(input: RecordBatchInput): Buffer {
  const attributes = input.attributes ?? 0;
  if ((attributes & BatchAttributes.COMPRESSION_MASK) !== 0) {
    throw new Error('buildRecordBatch builds uncompressed batches only');
  }
  const baseTimestamp = input.baseTimestamp ?? BigInt(Date.now());
  let maxTimestamp = baseTimestamp;
  const recordParts = input.records.map((record, index) => {
    const timestamp = record.timestamp ?? baseTimestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    return encodeRecord(record, index, timestamp - baseTimestamp);
  });
  const recordsBytes = Buffer.concat(recordParts);
  const batch = Buffer.alloc(RECORD_BATCH_HEADER_SIZE + recordsBytes.length);
  batch.writeBigInt64BE(input.baseOffset ?? 0n, 0);
  batch.writeInt32BE(batch.length - RECORD_BATCH_LOG_OVERHEAD, 8);
  batch.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12);
  batch.writeInt8(RECORD_BATCH_MAGIC, MAGIC_OFFSET);
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(Math.max(input.records.length - 1, 0), 23);
  batch.writeBigInt64BE(baseTimestamp, 27);
  batch.writeBigInt64BE(maxTimestamp, 35);
  batch.writeBigInt64BE(input.producerId ?? -1n, 43);
  batch.writeInt16BE(input.producerEpoch ?? -1, 51);
  batch.writeInt32BE(input.baseSequence ?? -1, 53);
  batch.writeInt32BE(input.records.length, 57);
  recordsBytes.copy(batch, RECORD_BATCH_HEADER_SIZE);
  batch.writeUInt32BE(computeBatchCrc(batch), CRC_OFFSET);
  return batch;
}

function encodeRecord(record: RecordInput, offsetDelta: number, timestampDelta: bigint): Buffer {
  const body: Buffer[] = [
    Buffer.from([0]), // record attributes (unused)
    zigzagVarint(timestampDelta),
    zigzagVarint(BigInt(offsetDelta)),
    varintBytes(record.key ?? null),
    varintBytes(record.value),
    zigzagVarint(BigInt(record.headers?.length ?? 0)),
  ];
  for (const header of record.headers ?? []) {
    body.push(varintBytes(Buffer.from(header.key, 'utf8')), varintBytes(header.value));
  }
  const bodyBytes = Buffer.concat(body);
  return Buffer.concat([zigzagVarint(BigInt(bodyBytes.length)), bodyBytes]);
}

function varintBytes(bytes: Buffer | null): Buffer {
  return bytes === null ? zigzagVarint(-1n) : Buffer.concat([zigzagVarint(BigInt(bytes.length)), bytes]);
}

/** Signed varint (zigzag + LEB128), as used inside records. */
function zigzagVarint(value: bigint): Buffer {
  let rest = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}
