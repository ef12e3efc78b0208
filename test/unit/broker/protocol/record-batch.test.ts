/**
 * Record batch headers, CRC-32C and offset assignment, checked against batches kafkajs builds and reads.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  RecordBatchError,
  buildRecordBatch,
  computeBatchCrc,
  crc32c,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  hasValidCrc,
  readBatchHeader,
  setBaseOffset,
  splitBatches,
  validateBatches,
} from '../../../../src/embedded/broker/protocol/index.js';
import { KafkajsDecoder, Long, kafkajsDecodeBatch, kafkajsRecord, kafkajsRecordBatch } from './kafkajs.js';

const require = createRequire(import.meta.url);
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol.js');

async function kafkajsBatch(values: string[], options: Record<string, unknown> = {}): Promise<Buffer> {
  const records = values.map((value, index) =>
    kafkajsRecord({ offsetDelta: index, timestampDelta: index, key: `key-${index}`, value, headers: { source: 'test' } }),
  );
  const batch = await kafkajsRecordBatch.RecordBatch({
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + values.length - 1,
    lastOffsetDelta: values.length - 1,
    producerId: Long.fromNumber(77),
    producerEpoch: 1,
    firstSequence: 5,
    records,
    ...options,
  });
  return Buffer.from(batch.buffer);
}

async function kafkajsReadBatch(batch: Buffer): Promise<any> {
  return kafkajsDecodeBatch(new KafkajsDecoder(batch));
}

describe('crc32c', () => {
  it('gives the CRC-32C check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('agrees with kafkajs on arbitrary bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, index) => (index * 31 + 7) & 0xff));
    expect(crc32c(bytes)).toBe(kafkajsCrc32c(bytes));
    expect(crc32c(bytes, 100, 600)).toBe(kafkajsCrc32c(bytes.subarray(100, 600)));
  });
});

describe('record batch header', () => {
  it('reads every header field of a kafkajs batch', async () => {
    const batch = await kafkajsBatch(['a', 'b', 'c'], { transactional: true, partitionLeaderEpoch: 4 });
    expect(readBatchHeader(batch)).toEqual({
      baseOffset: 0n,
      batchLength: batch.length - 12,
      partitionLeaderEpoch: 4,
      magic: 2,
      crc: batch.readUInt32BE(17),
      attributes: 0x10,
      lastOffsetDelta: 2,
      baseTimestamp: 1_700_000_000_000n,
      maxTimestamp: 1_700_000_000_002n,
      producerId: 77n,
      producerEpoch: 1,
      baseSequence: 5,
      recordCount: 3,
    });
    expect(hasValidCrc(batch)).toBe(true);
  });

  it('rejects magic 0/1 message sets with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const batch = await kafkajsBatch(['a']);
    batch.writeInt8(1, 16);
    const error = (() => {
      try {
        readBatchHeader(batch);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RecordBatchError);
    expect(error).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, message: expect.stringMatching(/magic 1/) });
  });

  it('rejects a buffer shorter than a batch header as CORRUPT_MESSAGE', () => {
    expect(() => readBatchHeader(Buffer.alloc(10))).toThrow(expect.objectContaining({ errorCode: ErrorCode.CORRUPT_MESSAGE }));
  });
});

describe('splitting and validating batches', () => {
  it('splits concatenated batches into views of each', async () => {
    const first = await kafkajsBatch(['a', 'b']);
    const second = await kafkajsBatch(['c']);
    const batches = splitBatches(Buffer.concat([first, second]));
    expect(batches).toHaveLength(2);
    expect(batches[0].equals(first)).toBe(true);
    expect(batches[1].equals(second)).toBe(true);
    expect(validateBatches(Buffer.concat([first, second])).map(({ header }) => header.recordCount)).toEqual([2, 1]);
  });

  it('rejects a truncated trailing batch', async () => {
    const batch = await kafkajsBatch(['a', 'b']);
    expect(() => splitBatches(batch.subarray(0, batch.length - 1))).toThrow(/has length/);
  });

  it('rejects a batchLength smaller than the header', async () => {
    const batch = await kafkajsBatch(['a']);
    batch.writeInt32BE(3, 8);
    expect(() => splitBatches(batch)).toThrow(RecordBatchError);
  });

  it('detects a corrupted record through the CRC', async () => {
    const batch = await kafkajsBatch(['payload']);
    batch[batch.length - 3] ^= 0xff;
    expect(hasValidCrc(batch)).toBe(false);
    expect(() => validateBatches(batch)).toThrow(expect.objectContaining({ errorCode: ErrorCode.CORRUPT_MESSAGE, message: expect.stringMatching(/CRC mismatch/) }));
  });
});

describe('offset assignment', () => {
  it('rewrites baseOffset in place; the CRC stays valid and kafkajs sees the new offsets', async () => {
    const batch = await kafkajsBatch(['a', 'b', 'c']);
    const crcBefore = computeBatchCrc(batch);
    setBaseOffset(batch, 1000n);
    expect(readBatchHeader(batch).baseOffset).toBe(1000n);
    expect(computeBatchCrc(batch)).toBe(crcBefore);
    expect(hasValidCrc(batch)).toBe(true);
    const decoded = await kafkajsReadBatch(batch);
    expect(decoded.records.map((record: { offset: string }) => record.offset)).toEqual(['1000', '1001', '1002']);
  });

  it('rewrites each batch of a multi-batch records buffer through its view', async () => {
    const records = Buffer.concat([await kafkajsBatch(['a', 'b']), await kafkajsBatch(['c'])]);
    let next = 50n;
    for (const { batch, header } of validateBatches(records)) {
      setBaseOffset(batch, next);
      next += BigInt(header.lastOffsetDelta) + 1n;
    }
    expect(splitBatches(records).map((batch) => readBatchHeader(batch).baseOffset)).toEqual([50n, 52n]);
  });
});

describe('building batches', () => {
  it('builds an uncompressed batch that kafkajs decodes', async () => {
    const batch = buildRecordBatch({
      baseOffset: 7n,
      baseTimestamp: 1_700_000_000_000n,
      producerId: 3n,
      producerEpoch: 0,
      baseSequence: 0,
      records: [
        { key: Buffer.from('id-1'), value: Buffer.from('{"a":1}'), headers: [{ key: 'op', value: Buffer.from('c') }] },
        { key: null, value: null, timestamp: 1_700_000_000_100n },
      ],
    });
    expect(hasValidCrc(batch)).toBe(true);
    expect(computeBatchCrc(batch)).toBe(kafkajsCrc32c(batch.subarray(21)));
    expect(readBatchHeader(batch)).toMatchObject({ baseOffset: 7n, recordCount: 2, lastOffsetDelta: 1, maxTimestamp: 1_700_000_000_100n, producerId: 3n });
    const decoded = await kafkajsReadBatch(batch);
    expect(decoded.records).toHaveLength(2);
    expect(decoded.records[0]).toMatchObject({ offset: '7', timestamp: '1700000000000', headers: { op: Buffer.from('c') } });
    expect(decoded.records[0].key.toString()).toBe('id-1');
    expect(decoded.records[0].value.toString()).toBe('{"a":1}');
    expect(decoded.records[1]).toMatchObject({ offset: '8', key: null, value: null, timestamp: '1700000000100' });
  });

  it('refuses to build a compressed batch', () => {
    expect(() => buildRecordBatch({ attributes: 1, records: [] })).toThrow(/uncompressed/);
  });
});

describe('consumer protocol (JoinGroup metadata, SyncGroup assignment)', () => {
  it('reads the subscription kafkajs sends and writes one kafkajs reads', () => {
    // A v1 version number over the v0 layout (no ownedPartitions), as a custom kafkajs assigner may write.
    const bytes = MemberMetadata.encode({ version: 1, topics: ['orders', 'customers'], userData: Buffer.from('x') });
    expect(decodeSubscription(bytes)).toEqual({
      version: 1,
      topics: ['orders', 'customers'],
      userData: Buffer.from('x'),
      ownedPartitions: [],
      generationId: -1,
    });
    // kafkajs reads only the v0 prefix; a v0 subscription round-trips exactly.
    const encoded = encodeSubscription(0, { topics: ['orders'], userData: Buffer.alloc(0) });
    expect(MemberMetadata.decode(encoded)).toEqual({ version: 0, topics: ['orders'], userData: Buffer.alloc(0) });
  });

  it('reads the assignment kafkajs sends and writes one kafkajs reads', () => {
    const bytes = MemberAssignment.encode({ version: 1, assignment: { orders: [0, 2] } });
    expect(decodeAssignment(bytes)).toEqual({ version: 1, assignedPartitions: [{ topic: 'orders', partitions: [0, 2] }], userData: Buffer.alloc(0) });
    const encoded = encodeAssignment(1, { assignedPartitions: [{ topic: 'orders', partitions: [1] }], userData: Buffer.alloc(0) });
    expect(MemberAssignment.decode(encoded)).toEqual({ version: 1, assignment: { orders: [1] }, userData: Buffer.alloc(0) });
  });

  it('reads a newer subscription version with the newest layout it knows', () => {
    const v2 = encodeSubscription(2, { topics: ['orders'], ownedPartitions: [{ topic: 'orders', partitions: [0] }], generationId: 4 });
    const v3 = Buffer.concat([v2, Buffer.from([0, 1, 0x72])]); // a v3 rack id appended
    v3.writeInt16BE(3, 0);
    expect(decodeSubscription(v3)).toMatchObject({ version: 3, topics: ['orders'], generationId: 4 });
  });
});
