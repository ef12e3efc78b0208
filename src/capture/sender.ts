import { TandemError } from '../errors.js';
import type { BatchProducer } from './producer-thread.js';

/** One Kafka message and what to tell once Kafka acknowledged it. Passed to kafkajs as the message itself. */
export interface OutgoingEvent {
  topic: string;
  key: Buffer | null;
  /** null: a tombstone. */
  value: Buffer | null;
  /** Its source transaction, told how many of its events Kafka acknowledged (acks=-1). */
  transaction: { acknowledge(count: number): void };
  /** For metrics: the table, and the op (null for a tombstone). */
  table: string;
  op: string | null;
}

export interface SenderOptions {
  /** Events per produce request. kafkajs groups a request's messages per partition in quadratic time, so keep it modest. */
  maxBatchEvents?: number;
  /** Bytes per produce request; below the brokers' default max.message.bytes (1 MiB) even if all go to one partition. */
  maxBatchBytes?: number;
  /** Bytes buffered before enqueue() makes the reader wait: the backpressure bound. */
  maxBufferedBytes?: number;
  /** Called after each acknowledged batch, per run of events of one table and op (tombstones excluded). */
  onAcknowledged?: (table: string, op: string, events: number) => void;
  onBatchSent?: (events: number, bytes: number) => void;
}

/**
 * Hands change events to Kafka in order, one produce request in flight at a time (the idempotent
 * producer keeps per-partition order), and makes the WAL reader wait while too much is buffered so
 * memory stays bounded however large a transaction is.
 */
export class EventSender {
  private queue: OutgoingEvent[] = [];
  private bufferedBytes = 0;
  private sending: Promise<void> | null = null;
  private failure: Error | null = null;
  private drained: (() => void)[] = [];
  /** Events ever queued and ever acknowledged: barriers wait for the second to reach the first. */
  private queuedTotal = 0;
  private acknowledgedTotal = 0;
  private barriers: { target: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly maxBatchEvents: number;
  private readonly maxBatchBytes: number;
  private readonly maxBufferedBytes: number;

  constructor(
    private readonly producer: BatchProducer,
    private readonly options: SenderOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 2000;
    this.maxBatchBytes = options.maxBatchBytes ?? 900 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  /** Queues an event; the returned promise resolves when there is room for more (await it). */
  enqueue(event: OutgoingEvent): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const size = (event.value?.length ?? 0) + (event.key?.length ?? 0);
    this.queue.push(event);
    this.queuedTotal++;
    this.bufferedBytes += size;
    this.pump();
    if (this.bufferedBytes < this.maxBufferedBytes) return undefined;
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Resolves when everything queued so far has been acknowledged by Kafka (later events need not be). */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = this.queuedTotal;
    if (this.acknowledgedTotal >= target) return Promise.resolve();
    return new Promise((resolve, reject) => this.barriers.push({ target, resolve, reject }));
  }

  private pump(): void {
    if (this.sending || this.queue.length === 0 || this.failure) return;
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxBatchEvents && bytes < this.maxBatchBytes) {
      const event = this.queue[count++]!;
      bytes += (event.value?.length ?? 0) + (event.key?.length ?? 0);
    }
    const batch = this.queue.splice(0, count);
    this.sending = this.send(batch).finally(() => {
      this.sending = null;
      this.pump();
    });
  }

  private async send(batch: OutgoingEvent[]): Promise<void> {
    let bytes = 0;
    for (const event of batch) bytes += (event.value?.length ?? 0) + (event.key?.length ?? 0);
    try {
      await this.producer.send(batch);
    } catch (error) {
      this.failure = new TandemError(`Kafka did not acknowledge ${batch.length} change events: ${(error as Error).message}`, {
        fix: 'check the brokers; capture restarts from the last acknowledged transaction, so nothing is lost',
        cause: error,
      });
      this.releaseWaiters();
      for (const barrier of this.barriers.splice(0)) barrier.reject(this.failure);
      return;
    }
    this.bufferedBytes -= bytes;
    this.acknowledgedTotal += batch.length;
    forEachRun(batch, (a, b) => a.transaction === b.transaction, (first, count) => first.transaction.acknowledge(count));
    const onAcknowledged = this.options.onAcknowledged;
    if (onAcknowledged) {
      const events = batch.filter((event) => event.op !== null);
      forEachRun(events, (a, b) => a.table === b.table && a.op === b.op, (first, count) => onAcknowledged(first.table, first.op!, count));
    }
    this.options.onBatchSent?.(batch.length, bytes);
    this.barriers = this.barriers.filter((barrier) => {
      if (barrier.target > this.acknowledgedTotal) return true;
      barrier.resolve();
      return false;
    });
    if (this.bufferedBytes < this.maxBufferedBytes) this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const waiters = this.drained;
    this.drained = [];
    for (const resolve of waiters) resolve();
  }
}

/** Calls `tell` once per run of consecutive alike events (the events of one transaction come together). */
function forEachRun(events: OutgoingEvent[], alike: (a: OutgoingEvent, b: OutgoingEvent) => boolean, tell: (first: OutgoingEvent, count: number) => void): void {
  let start = 0;
  for (let index = 1; index <= events.length; index++) {
    if (index === events.length || !alike(events[index]!, events[start]!)) {
      tell(events[start]!, index - start);
      start = index;
    }
  }
}
