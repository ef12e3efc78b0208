import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setBaseOffset, setPartitionLeaderEpoch } from '../protocol/index.js';
import type { Durability } from './durability.js';
import { Segment, type ScannedBatch } from './segment.js';

export interface PartitionLogOptions {
  segmentBytes: number;
  durability: Durability;
  /** Persisted by the caller (DeleteRecords); records below it are gone even if still in a segment. */
  logStartOffset: number;
}

/**
 * The append-only log of one partition: `<dataDir>/<topic>-<partition>/`, a list of segments of
 * which only the last (active) one is written. Offsets are JS numbers (safe to 2^53).
 */
export class PartitionLog {
  private readonly segments: Segment[] = [];
  logStartOffset: number;

  private constructor(
    readonly dir: string,
    private readonly options: PartitionLogOptions,
  ) {
    this.logStartOffset = options.logStartOffset;
  }

  /** Opens (recovering the active segment) or creates the log in `dir`. */
  static open(dir: string, options: PartitionLogOptions): { log: PartitionLog; truncatedBytes: number } {
    mkdirSync(dir, { recursive: true });
    const log = new PartitionLog(dir, options);
    const baseOffsets = readdirSync(dir)
      .filter((name) => /^\d{20}\.log$/.test(name))
      .map((name) => Number(name.slice(0, 20)))
      .sort((a, b) => a - b);
    let truncatedBytes = 0;
    baseOffsets.forEach((baseOffset, i) => {
      const opened = Segment.open(dir, baseOffset, i === baseOffsets.length - 1);
      log.segments.push(opened.segment);
      truncatedBytes += opened.truncatedBytes;
    });
    if (log.segments.length === 0) log.segments.push(Segment.create(dir, options.logStartOffset));
    log.logStartOffset = Math.max(options.logStartOffset, log.segments[0].baseOffset);
    return { log, truncatedBytes };
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1];
  }

  /**
   * Appends one validated batch: assigns its offsets (rewriting baseOffset in the caller's buffer),
   * writes it to the active segment, rolls to a new segment when the active one is full.
   * Returns the batch's base offset.
   */
  append(batch: Buffer, lastOffsetDelta: number): number {
    if (this.active.size >= this.options.segmentBytes) this.roll();
    const baseOffset = this.active.nextOffset;
    setBaseOffset(batch, BigInt(baseOffset));
    setPartitionLeaderEpoch(batch, 0);
    this.active.append(batch, lastOffsetDelta);
    this.options.durability.written(this.active);
    return baseOffset;
  }

  /** Whole batches from the one containing `offset`, about `maxBytes` (at least one batch); null at the end. */
  read(offset: number, maxBytes: number): Buffer | null {
    return this.segmentContaining(offset).read(offset, maxBytes);
  }

  /** Visits batch headers from the batch containing `fromOffset` to the end; stop by returning false. */
  forEachBatch(fromOffset: number, visit: (batch: ScannedBatch) => boolean | void): void {
    let stopped = false;
    for (const segment of this.segments) {
      if (stopped) return;
      if (segment.nextOffset <= fromOffset) continue;
      segment.forEachBatch(Math.max(fromOffset, segment.baseOffset), (batch) => {
        if (visit(batch) === false) {
          stopped = true;
          return false;
        }
        return true;
      });
    }
  }

  /** Batch headers of the last two segments: enough to rebuild the state of idempotent producers. */
  recentBatches(visit: (batch: ScannedBatch) => void): void {
    for (const segment of this.segments.slice(-2)) segment.forEachBatch(segment.baseOffset, visit);
  }

  /** DeleteRecords: moves the log start and removes segments that lie wholly below it. */
  deleteRecordsBefore(offset: number): void {
    this.logStartOffset = Math.max(this.logStartOffset, Math.min(offset, this.logEndOffset));
    while (this.segments.length > 1 && this.segments[0].nextOffset <= this.logStartOffset) {
      this.segments.shift()!.delete();
    }
    if (this.segments.length === 1 && this.active.nextOffset <= this.logStartOffset && !this.active.isEmpty) {
      // Everything is deleted: start a fresh segment at the log start so the old file can go.
      const old = this.segments.shift()!;
      this.segments.push(Segment.create(this.dir, this.logStartOffset));
      old.delete();
    }
  }

  close(): void {
    for (const segment of this.segments) segment.close();
  }

  /** Closes and removes the partition directory (DeleteTopics). */
  destroy(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private roll(): void {
    if (this.options.durability.policy !== 'never') this.active.syncToDisk();
    this.segments.push(Segment.create(this.dir, this.active.nextOffset));
  }

  private segmentContaining(offset: number): Segment {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle].baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return this.segments[low];
  }
}

export function partitionDir(dataDir: string, topic: string, partition: number): string {
  return join(dataDir, `${topic}-${partition}`);
}
