import type { Pgoutput } from 'pg-logical-replication';
import { AckTracker, type TrackedTransaction } from './ack-tracker.js';
import type { TableCodec, TableCodecs } from './codecs.js';
import { emitChange } from './emitter.js';
import type { ChangeEvent, Op, SourceInfo } from './events.js';
import type { IncrementalSnapshots } from './incremental.js';
import { parseLsn, type Lsn } from '../pg/lsn.js';
import type { MessageSender } from './sender.js';
import type { TextRow } from './snapshot.js';
import { SIGNAL_TABLE } from '../pg/bookkeeping/source.js';
import type { PgoutputMessage } from './stream.js';
import { keyText } from './watermark.js';

const OPS: Record<'insert' | 'update' | 'delete', Op> = { insert: 'c', update: 'u', delete: 'd' };

/**
 * Turns the pgoutput message stream into change events: transactions are tracked from Begin to
 * Commit so the slot is confirmed only past fully acknowledged ones; rows of the signal table drive
 * incremental snapshots instead of becoming events.
 */
export class ChangeStreamHandler {
  readonly tracker: AckTracker;
  private transaction: TrackedTransaction | null = null;
  private xid = 0;
  private commitLsn: Lsn = 0n;
  private commitTimeMs = 0;
  private sequence = 0;
  private signalRelationOid = -1;
  /** Commit time of the newest transaction read to its end (Commit message), for slot lag in seconds. */
  lastCommitTimeMs = 0;

  constructor(
    private readonly connectorName: string,
    startLsn: Lsn,
    private readonly codecs: TableCodecs,
    private readonly sender: MessageSender,
    private readonly snapshots: IncrementalSnapshots,
  ) {
    this.tracker = new AckTracker(startLsn);
  }

  /** A promise only when reading must wait (backpressure, a Relation's catalog lookups): most messages need none. */
  handle = (lsn: Lsn, message: PgoutputMessage): Promise<void> | undefined => {
    switch (message.tag) {
      case 'begin':
        this.transaction = this.tracker.begin();
        this.xid = message.xid;
        this.commitLsn = message.commitLsn ? parseLsn(message.commitLsn) : lsn;
        this.commitTimeMs = Number((message.commitTime as bigint) / 1000n);
        this.sequence = 0;
        return;
      case 'relation':
        if (`${message.schema}.${message.name}` === SIGNAL_TABLE) this.signalRelationOid = message.relationOid;
        else return this.codecs.onRelation(message);
        return;
      case 'insert':
      case 'update':
      case 'delete':
        if (message.relation.relationOid === this.signalRelationOid) return this.onSignal(lsn, message);
        return this.onRowChange(lsn, message);
      case 'truncate': {
        let wait: Promise<void> | undefined;
        for (const relation of message.relations) {
          if (relation.relationOid === this.signalRelationOid) continue;
          const codec = this.codecs.forRelation(relation.relationOid);
          wait = this.emit(codec, { op: 't', before: null, after: null, source: this.source(codec, lsn) }) ?? wait;
        }
        return wait;
      }
      case 'commit':
        this.lastCommitTimeMs = this.commitTimeMs;
        this.transaction?.commit(message.commitEndLsn ? parseLsn(message.commitEndLsn) : lsn);
        this.transaction = null;
        return;
      default:
        // Heartbeat messages, types and origins carry no rows; a heartbeat's transaction still moves the slot.
        return;
    }
  };

  private onRowChange(lsn: Lsn, message: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete): Promise<void> | undefined {
    const codec = this.codecs.forRelation(message.relation.relationOid);
    const before = message.tag === 'insert' ? null : ((message.old ?? message.key ?? null) as TextRow | null);
    const after = message.tag === 'delete' ? null : (message.new as TextRow);
    this.snapshots.onChange(codec.table, before, after);
    // A primary key update is a delete of the old key and a create of the new one (as Debezium does),
    // so that each key's topic history stays complete. The old key comes as the key tuple, or within
    // the old row under REPLICA IDENTITY FULL.
    if (message.tag === 'update' && before && codec.hasKey && keyText(codec.definition.keyColumns, before) !== keyText(codec.definition.keyColumns, after!)) {
      this.emit(codec, { op: 'd', before, after: null, source: this.source(codec, lsn) });
      return this.emit(codec, { op: 'c', before: null, after, source: this.source(codec, lsn) });
    }
    return this.emit(codec, { op: OPS[message.tag], before, after, source: this.source(codec, lsn) });
  }

  private async onSignal(lsn: Lsn, message: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete): Promise<void> {
    if (message.tag !== 'insert') return;
    const closed = this.snapshots.onSignal(message.new as TextRow);
    if (!closed) return;
    const codec = await this.codecs.forSnapshot(closed.table);
    for (const row of closed.rows) {
      const wait = this.emit(codec, { op: 'r', before: null, after: row, source: { ...this.source(codec, lsn), snapshot: true } });
      if (wait) await wait;
    }
    closed.done();
  }

  private emit(codec: TableCodec, change: ChangeEvent): Promise<void> | undefined {
    return emitChange(this.sender, codec, change, this.transaction!);
  }

  private source(codec: TableCodec, lsn: Lsn): SourceInfo {
    return {
      connector: this.connectorName,
      lsn,
      commitLsn: this.commitLsn,
      sequence: this.sequence++,
      txId: this.xid,
      tsMs: this.commitTimeMs,
      schema: codec.schema,
      table: codec.tableName,
      snapshot: false,
    };
  }
}
