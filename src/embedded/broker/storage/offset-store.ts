import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Durability, SyncTarget } from './durability.js';
import { writeFileAtomically } from './atomic-file.js';

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface OffsetCommitEntry extends CommittedOffset {
  topic: string;
  partition: number;
}

/** One line of the commit log: offsets committed by a group, or a group/topic whose offsets are gone. */
type LogLine =
  | { group: string; commits: [topic: string, partition: number, offset: number, leaderEpoch: number, metadata: string | null][] }
  | { deleteGroup: string }
  | { deleteTopic: string };

const FILE = 'consumer-offsets.log';
const COMPACT_AFTER_BYTES = 16 * 1024 * 1024;

/**
 * Committed consumer group offsets: an in-memory table backed by an append-only JSON-lines log
 * (`<dataDir>/consumer-offsets.log`). A commit is written before it is acknowledged, so it survives
 * a killed process; a torn last line from a crash is ignored. The log is compacted on open and
 * whenever it grows large.
 */
export class OffsetStore {
  private readonly groups = new Map<string, Map<string, OffsetCommitEntry>>();
  private readonly path: string;
  private file: SyncTarget;
  private bytesSinceCompaction = 0;

  constructor(
    dataDir: string,
    private readonly durability: Durability,
  ) {
    this.path = join(dataDir, FILE);
    if (existsSync(this.path)) this.replay(readFileSync(this.path, 'utf8'));
    this.file = this.compact();
  }

  commit(group: string, entries: OffsetCommitEntry[]): void {
    let table = this.groups.get(group);
    if (!table) this.groups.set(group, (table = new Map()));
    for (const entry of entries) table.set(key(entry.topic, entry.partition), entry);
    this.append({ group, commits: entries.map((e) => [e.topic, e.partition, e.offset, e.leaderEpoch, e.metadata]) });
  }

  fetch(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(group)?.get(key(topic, partition));
  }

  /** Every committed offset of a group (OffsetFetch with topics = null). */
  entries(group: string): OffsetCommitEntry[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  deleteGroup(group: string): void {
    if (this.groups.delete(group)) this.append({ deleteGroup: group });
  }

  deleteTopic(topic: string): void {
    for (const table of this.groups.values()) {
      for (const [k, entry] of table) if (entry.topic === topic) table.delete(k);
    }
    this.append({ deleteTopic: topic });
  }

  close(): void {
    this.file.closed = true;
    closeSync(this.file.fd);
  }

  private append(line: LogLine): void {
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
    writeSync(this.file.fd, bytes);
    this.durability.written(this.file);
    this.bytesSinceCompaction += bytes.length;
    if (this.bytesSinceCompaction > COMPACT_AFTER_BYTES) {
      this.close();
      this.file = this.compact();
    }
  }

  private replay(content: string): void {
    for (const text of content.split('\n')) {
      if (text === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue; // the torn tail of a write interrupted by a crash
      }
      if ('deleteGroup' in line) this.groups.delete(line.deleteGroup);
      else if ('deleteTopic' in line) {
        for (const table of this.groups.values()) {
          for (const [k, entry] of table) if (entry.topic === line.deleteTopic) table.delete(k);
        }
      } else {
        let table = this.groups.get(line.group);
        if (!table) this.groups.set(line.group, (table = new Map()));
        for (const [topic, partition, offset, leaderEpoch, metadata] of line.commits) {
          table.set(key(topic, partition), { topic, partition, offset, leaderEpoch, metadata });
        }
      }
    }
  }

  /** Rewrites the log as one line per group and reopens it for appending. */
  private compact(): SyncTarget {
    const lines = [...this.groups].map(([group, table]) =>
      JSON.stringify({
        group,
        commits: [...table.values()].map((e) => [e.topic, e.partition, e.offset, e.leaderEpoch, e.metadata]),
      } satisfies LogLine),
    );
    writeFileAtomically(this.path, lines.map((l) => `${l}\n`).join(''));
    this.bytesSinceCompaction = 0;
    return { fd: openSync(this.path, 'a'), closed: false };
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
