import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/observability/logger.js';
import { buildRecordBatch, readBatchHeader, splitBatches } from '../../../../src/embedded/broker/protocol/index.js';
import { Durability } from '../../../../src/embedded/broker/storage/durability.js';
import { PartitionLog } from '../../../../src/embedded/broker/storage/partition-log.js';

let dir: string;
const durability = new Durability('never', 1000, createLogger({ level: 'silent' }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-log-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function open(segmentBytes = 1024 * 1024, logStartOffset = 0) {
  return PartitionLog.open(dir, { segmentBytes, durability, logStartOffset });
}

/** A batch of `count` records of about `size` bytes each. */
function batch(count: number, size = 10, label = 'r'): Buffer {
  return buildRecordBatch({ records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`${label}${i}`.padEnd(size, '.')) })) });
}

function append(log: PartitionLog, bytes: Buffer): number {
  return log.append(bytes, readBatchHeader(bytes).lastOffsetDelta);
}

function baseOffsets(records: Buffer | null): number[] {
  return records ? splitBatches(records).map((b) => Number(readBatchHeader(b).baseOffset)) : [];
}

describe('partition log', () => {
  it('assigns consecutive offsets to appended batches', () => {
    const { log } = open();
    expect(append(log, batch(3))).toBe(0);
    expect(append(log, batch(2))).toBe(3);
    expect(log.logEndOffset).toBe(5);
    log.close();
  });

  it('reads from the batch that contains the requested offset', () => {
    const { log } = open();
    append(log, batch(3));
    append(log, batch(3));
    append(log, batch(3));
    expect(baseOffsets(log.read(4, 1 << 20))).toEqual([3, 6]);
    expect(log.read(9, 1 << 20)).toBeNull();
    log.close();
  });

  it('returns whole batches within maxBytes, but always at least one batch', () => {
    const { log } = open();
    const size = batch(5, 100).length;
    for (let i = 0; i < 4; i++) append(log, batch(5, 100));
    expect(baseOffsets(log.read(0, size * 2 + 10))).toEqual([0, 5]);
    expect(baseOffsets(log.read(0, 1))).toEqual([0]);
    log.close();
  });

  it('rolls to a new segment file named by its base offset when the active one is full', () => {
    const { log } = open(2048);
    for (let i = 0; i < 10; i++) append(log, batch(5, 100));
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.endsWith('.log')).length).toBeGreaterThan(1);
    expect(files[0]).toBe('00000000000000000000.index');
    expect(files).toContain('00000000000000000000.log');
    expect(baseOffsets(log.read(0, 1 << 20)).length).toBeGreaterThan(0);
    expect(baseOffsets(log.read(45, 1 << 20))).toEqual([45]);
    log.close();
  });

  it('reopens with every segment and offset intact', () => {
    const first = open(2048).log;
    for (let i = 0; i < 10; i++) append(first, batch(5, 100, `b${i}-`));
    first.close();
    const { log, truncatedBytes } = open(2048);
    expect(truncatedBytes).toBe(0);
    expect(log.logEndOffset).toBe(50);
    const all: number[] = [];
    for (let offset = 0; offset < 50; offset = all[all.length - 1] + 5) all.push(...baseOffsets(log.read(offset, 1 << 20)));
    expect(all).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    expect(append(log, batch(1))).toBe(50);
    log.close();
  });

  it('cuts a batch torn by a crash off the end of the active segment', () => {
    const first = open().log;
    append(first, batch(3));
    append(first, batch(3));
    first.close();
    const segment = join(dir, '00000000000000000000.log');
    const intactSize = statSync(segment).size;
    appendFileSync(segment, batch(4).subarray(0, 30)); // half a batch

    const { log, truncatedBytes } = open();
    expect(truncatedBytes).toBe(30);
    expect(statSync(segment).size).toBe(intactSize);
    expect(log.logEndOffset).toBe(6);
    expect(append(log, batch(1))).toBe(6);
    log.close();
  });

  it('cuts a batch whose CRC does not match', () => {
    const first = open().log;
    append(first, batch(3));
    first.close();
    const corrupt = batch(2);
    corrupt[corrupt.length - 1] ^= 0xff;
    corrupt.writeBigInt64BE(3n, 0);
    appendFileSync(join(dir, '00000000000000000000.log'), corrupt);

    const { log, truncatedBytes } = open();
    expect(truncatedBytes).toBe(corrupt.length);
    expect(log.logEndOffset).toBe(3);
    log.close();
  });

  it('rebuilds a sealed segment\'s index when it does not match the log', () => {
    const first = open(2048).log;
    for (let i = 0; i < 10; i++) append(first, batch(5, 100));
    first.close();
    writeFileSync(join(dir, '00000000000000000000.index'), Buffer.alloc(5));
    const { log } = open(2048);
    expect(baseOffsets(log.read(5, 1))).toEqual([5]);
    log.close();
  });

  it('deletes records below a new log start, dropping whole segments', () => {
    const { log } = open(2048);
    for (let i = 0; i < 10; i++) append(log, batch(5, 100));
    const before = readdirSync(dir).length;
    log.deleteRecordsBefore(30);
    expect(log.logStartOffset).toBe(30);
    expect(readdirSync(dir).length).toBeLessThan(before);
    expect(baseOffsets(log.read(30, 1))).toEqual([30]);
    log.close();
  });

  it('starts a fresh segment at the log start when every record is deleted', () => {
    const { log } = open();
    append(log, batch(3));
    log.deleteRecordsBefore(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log'))).toEqual(['00000000000000000003.log']);
    expect(append(log, batch(1))).toBe(3);
    log.close();
    expect(open(1024 * 1024, 3).log.logStartOffset).toBe(3);
  });
});
