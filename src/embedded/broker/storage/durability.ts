import { fdatasync } from 'node:fs';
import type { Logger } from '../../../observability/logger.js';
import type { FsyncPolicy } from '../options.js';

/** An open file whose written bytes may still be only in the OS page cache. */
export interface SyncTarget {
  readonly fd: number;
  closed: boolean;
}

/**
 * Decides when written files reach the disk, per the fsync policy. `flush()` is a group commit:
 * every caller that arrives while a round of fdatasyncs is running shares the next round, so N
 * concurrent acks=-1 produces cost about two fsync rounds, not N.
 */
export class Durability {
  private dirty = new Set<SyncTarget>();
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout | null;
  /** Rounds of fdatasyncs run so far (how well concurrent flushes were grouped). */
  rounds = 0;

  constructor(
    readonly policy: FsyncPolicy,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = policy === 'interval' ? setInterval(() => void this.flush(), intervalMs).unref() : null;
  }

  /** Records that bytes were written to `target` since its last sync. */
  written(target: SyncTarget): void {
    this.dirty.add(target);
  }

  /** Whether an acks=-1 produce (or an offset commit) must wait for `flush()` before it is answered. */
  get syncBeforeAck(): boolean {
    return this.policy === 'always';
  }

  /** Resolves once everything written before the call is on disk. */
  flush(): Promise<void> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    if (!this.next) {
      this.next = this.running.then(() => {
        this.next = null;
        return this.flush();
      });
    }
    return this.next;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private async round(): Promise<void> {
    this.rounds += 1;
    const targets = [...this.dirty];
    this.dirty.clear();
    await Promise.all(targets.filter((t) => !t.closed).map((t) => this.sync(t)));
  }

  private sync(target: SyncTarget): Promise<void> {
    return new Promise((resolve) => {
      fdatasync(target.fd, (error) => {
        // A file closed meanwhile (segment deleted) has nothing left to protect.
        if (error && !target.closed) this.logger.error({ err: error }, 'fdatasync failed');
        resolve();
      });
    });
  }
}
