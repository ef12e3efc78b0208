import { closeSync, existsSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_BATCH_HEADER_SIZE, RECORD_BATCH_LOG_OVERHEAD, hasValidCrc, readBatchHeader, type RecordBatchHeader } from '../protocol/index.js';
import type { SyncTarget } from './durability.js';

const INDEX_ENTRY_BYTES = 8;
const SCAN_CHUNK_BYTES = 1024 * 1024;

/** A batch found while scanning a segment file. */
export interface ScannedBatch {
  position: number;
  size: number;
  header: RecordBatchHeader;
}

/**
 * One segment of a partition log: `<baseOffset 20 digits>.log` holds record batches back to back,
 * exactly as produced except for the assigned baseOffset; `.index` holds one 8-byte entry per batch
 * (offset relative to the segment's base, int32 file position). The index is also kept in memory,
 * so finding the batch that contains an offset is a binary search with no I/O.
 */
export class Segment implements SyncTarget {
  closed = false;
  /** Bytes in the .log file. */
  size = 0;
  /** The offset the next appended batch gets. */
  nextOffset: number;
  private relativeOffsets = new Int32Array(64);
  private positions = new Int32Array(64);
  private count = 0;
  private indexFd: number;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly fd: number,
  ) {
    this.nextOffset = baseOffset;
    this.indexFd = openSync(indexPath(dir, baseOffset), 'a+');
  }

  static create(dir: string, baseOffset: number): Segment {
    return new Segment(dir, baseOffset, openSync(logPath(dir, baseOffset), 'a+'));
  }

  /**
   * Opens an existing segment. The active (last) segment is recovered: every batch is checked
   * (length, offsets, CRC) and the file is cut after the last intact batch, which removes a batch
   * torn by a crash. Sealed segments trust their index when it agrees with the log's size.
   */
  static open(dir: string, baseOffset: number, recover: boolean): { segment: Segment; truncatedBytes: number } {
    const segment = new Segment(dir, baseOffset, openSync(logPath(dir, baseOffset), 'a+'));
    const fileSize = fstatSync(segment.fd).size;
    if (!recover && segment.loadIndex(fileSize)) return { segment, truncatedBytes: 0 };
    segment.count = 0;
    const validEnd = segment.scan(fileSize, recover, (batch) => {
      segment.addToIndex(Number(batch.header.baseOffset), batch.header.lastOffsetDelta, batch.position, batch.size);
    });
    if (validEnd < fileSize) ftruncateSync(segment.fd, validEnd);
    segment.size = validEnd;
    segment.rewriteIndexFile();
    return { segment, truncatedBytes: fileSize - validEnd };
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Appends one batch whose baseOffset was already set to `nextOffset`. */
  append(batch: Buffer, lastOffsetDelta: number): void {
    const position = this.size;
    writeSync(this.fd, batch);
    this.addToIndex(this.nextOffset, lastOffsetDelta, position, batch.length);
    const entry = Buffer.allocUnsafe(INDEX_ENTRY_BYTES);
    entry.writeInt32BE(this.relativeOffsets[this.count - 1], 0);
    entry.writeInt32BE(position, 4);
    writeSync(this.indexFd, entry);
  }

  /**
   * The whole batches from the one containing `offset`, up to `maxBytes` in total, but always at
   * least the first batch even if it is larger (as Kafka does, so a big batch never blocks a consumer).
   * Null when the segment holds nothing at or after `offset`.
   */
  read(offset: number, maxBytes: number): Buffer | null {
    if (offset >= this.nextOffset || this.count === 0) return null;
    const first = this.batchContaining(offset);
    const start = this.positions[first];
    let last = first;
    let low = first + 1;
    let high = this.count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.endOf(middle) - start <= maxBytes) {
        last = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    const length = this.endOf(last) - start;
    const bytes = Buffer.allocUnsafe(length);
    readFully(this.fd, bytes, start);
    return bytes;
  }

  /** Calls `visit` for each batch header from the one containing `fromOffset` on; stops when it returns false. */
  forEachBatch(fromOffset: number, visit: (batch: ScannedBatch) => boolean | void): void {
    if (this.count === 0 || fromOffset >= this.nextOffset) return;
    this.scan(this.size, false, visit, this.positions[this.batchContaining(fromOffset)]);
  }

  /** Forces the log and its index to disk (when the segment is sealed by a roll). */
  syncToDisk(): void {
    fsyncSync(this.fd);
    fsyncSync(this.indexFd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    closeSync(this.indexFd);
  }

  delete(): void {
    this.close();
    rmSync(logPath(this.dir, this.baseOffset), { force: true });
    rmSync(indexPath(this.dir, this.baseOffset), { force: true });
  }

  private batchContaining(offset: number): number {
    const relative = offset - this.baseOffset;
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.relativeOffsets[middle] <= relative) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  private endOf(batch: number): number {
    return batch + 1 < this.count ? this.positions[batch + 1] : this.size;
  }

  private addToIndex(baseOffset: number, lastOffsetDelta: number, position: number, size: number): void {
    if (this.count === this.positions.length) {
      this.relativeOffsets = grow(this.relativeOffsets);
      this.positions = grow(this.positions);
    }
    this.relativeOffsets[this.count] = baseOffset - this.baseOffset;
    this.positions[this.count] = position;
    this.count += 1;
    this.nextOffset = baseOffset + lastOffsetDelta + 1;
    this.size = Math.max(this.size, position + size);
  }

  /** Loads the .index file; false when it does not match the log (then the caller rebuilds it). */
  private loadIndex(fileSize: number): boolean {
    const indexSize = fstatSync(this.indexFd).size;
    if (indexSize === 0 || indexSize % INDEX_ENTRY_BYTES !== 0) return false;
    const bytes = Buffer.allocUnsafe(indexSize);
    readFully(this.indexFd, bytes, 0);
    const count = indexSize / INDEX_ENTRY_BYTES;
    this.relativeOffsets = new Int32Array(count);
    this.positions = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      this.relativeOffsets[i] = bytes.readInt32BE(i * INDEX_ENTRY_BYTES);
      this.positions[i] = bytes.readInt32BE(i * INDEX_ENTRY_BYTES + 4);
    }
    this.count = count;
    // The last indexed batch must end exactly at the end of the log.
    const lastPosition = this.positions[count - 1];
    if (lastPosition + RECORD_BATCH_HEADER_SIZE > fileSize) return false;
    const header = Buffer.allocUnsafe(RECORD_BATCH_HEADER_SIZE);
    readFully(this.fd, header, lastPosition);
    const last = readBatchHeader(header);
    if (Number(last.baseOffset) !== this.baseOffset + this.relativeOffsets[count - 1]) return false;
    if (lastPosition + RECORD_BATCH_LOG_OVERHEAD + last.batchLength !== fileSize) return false;
    this.size = fileSize;
    this.nextOffset = Number(last.baseOffset) + last.lastOffsetDelta + 1;
    return true;
  }

  private rewriteIndexFile(): void {
    const bytes = Buffer.allocUnsafe(this.count * INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.count; i++) {
      bytes.writeInt32BE(this.relativeOffsets[i], i * INDEX_ENTRY_BYTES);
      bytes.writeInt32BE(this.positions[i], i * INDEX_ENTRY_BYTES + 4);
    }
    ftruncateSync(this.indexFd, 0);
    writeSync(this.indexFd, bytes);
  }

  /**
   * Walks the batches of the file from `position` in 1 MiB reads and returns where the last intact
   * batch ends (or where `visit` asked to stop). A batch is intact when it is complete, v2, continues the offsets, and (with
   * `checkCrc`) its CRC matches.
   */
  private scan(fileSize: number, checkCrc: boolean, visit: (batch: ScannedBatch) => boolean | void, position = 0): number {
    let expectedOffset = position === 0 ? this.baseOffset : -1;
    let chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let chunkStart = position;
    let chunkLength = 0;
    for (;;) {
      if (position + RECORD_BATCH_LOG_OVERHEAD > fileSize) return position;
      let inChunk = position - chunkStart;
      if (inChunk + RECORD_BATCH_HEADER_SIZE > chunkLength) {
        chunkStart = position;
        chunkLength = readSync(this.fd, chunk, 0, Math.min(chunk.length, fileSize - position), position);
        inChunk = 0;
      }
      if (chunkLength - inChunk < RECORD_BATCH_HEADER_SIZE) return position;
      const size = RECORD_BATCH_LOG_OVERHEAD + chunk.readInt32BE(inChunk + 8);
      if (size < RECORD_BATCH_HEADER_SIZE || position + size > fileSize) return position;
      if (inChunk + size > chunkLength) {
        if (size > chunk.length) chunk = Buffer.allocUnsafe(size);
        chunkStart = position;
        chunkLength = readSync(this.fd, chunk, 0, Math.min(chunk.length, fileSize - position), position);
        inChunk = 0;
      }
      const batch = chunk.subarray(inChunk, inChunk + size);
      let header: RecordBatchHeader;
      try {
        header = readBatchHeader(batch);
      } catch {
        return position;
      }
      const baseOffset = Number(header.baseOffset);
      if (expectedOffset >= 0 && baseOffset !== expectedOffset) return position;
      if (header.lastOffsetDelta < 0 || (checkCrc && !hasValidCrc(batch))) return position;
      if (visit({ position, size, header }) === false) return position + size;
      expectedOffset = baseOffset + header.lastOffsetDelta + 1;
      position += size;
    }
  }
}

export function logPath(dir: string, baseOffset: number): string {
  return join(dir, `${String(baseOffset).padStart(20, '0')}.log`);
}

function indexPath(dir: string, baseOffset: number): string {
  return join(dir, `${String(baseOffset).padStart(20, '0')}.index`);
}

export function segmentExists(dir: string, baseOffset: number): boolean {
  return existsSync(logPath(dir, baseOffset));
}

function readFully(fd: number, into: Buffer, position: number): void {
  let done = 0;
  while (done < into.length) {
    const read = readSync(fd, into, done, into.length - done, position + done);
    if (read === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += read;
  }
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
