import type { Lsn } from '../pg/lsn.js';

/** One source transaction on its way to Kafka. */
export interface TrackedTransaction {
  /** An event of this transaction was handed to the sender. */
  sent(): void;
  /** Kafka acknowledged `count` of its events. */
  acknowledge(count: number): void;
  /** The whole transaction was read; it ends at `commitEndLsn`. */
  commit(commitEndLsn: Lsn): void;
}

/**
 * Decides how far the replication slot may be confirmed: to the commit LSN of the newest
 * transaction whose every event Kafka acknowledged, and no further. Transactions are begun in
 * commit order (pgoutput sends them that way), so the durable point is a prefix of that order.
 */
export class AckTracker {
  private readonly pending: { commitEndLsn: Lsn | null; outstanding: number }[] = [];
  private durable: Lsn;

  constructor(startLsn: Lsn) {
    this.durable = startLsn;
  }

  begin(): TrackedTransaction {
    const entry: { commitEndLsn: Lsn | null; outstanding: number } = { commitEndLsn: null, outstanding: 0 };
    this.pending.push(entry);
    return {
      sent: () => {
        entry.outstanding++;
      },
      acknowledge: (count) => {
        entry.outstanding -= count;
        if (entry.outstanding < 0) throw new Error('acknowledged more events than were sent');
        this.advance();
      },
      commit: (commitEndLsn) => {
        entry.commitEndLsn = commitEndLsn;
        this.advance();
      },
    };
  }

  /** Highest LSN safe to confirm to the slot. */
  get durableLsn(): Lsn {
    return this.durable;
  }

  /** Transactions read but not yet fully acknowledged. */
  get inFlight(): number {
    return this.pending.length;
  }

  private advance(): void {
    while (this.pending.length > 0) {
      const oldest = this.pending[0]!;
      if (oldest.commitEndLsn === null || oldest.outstanding > 0) return;
      this.pending.shift();
      if (oldest.commitEndLsn > this.durable) this.durable = oldest.commitEndLsn;
    }
  }
}
