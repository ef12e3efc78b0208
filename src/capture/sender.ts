import { TandemError } from '../errors.js';
import type { KafkaMessage } from './batch-transfer.js';
import type { BatchProducer } from './producer-thread.js';

/** Told how many of its messages Kafka acknowledged (acks=-1): a source transaction (ack-tracker.ts). */
export interface AcknowledgementTarget {
  acknowledge(count: number): void;
}

/** One Kafka message and whom to tell once Kafka acknowledged it. Passed to kafkajs as the message itself. */
export interface OutgoingMessage extends KafkaMessage {
  /** null: nobody counts this message; its sender waits with flush() instead (the initial snapshot). */
  ack: AcknowledgementTarget | null;
  /** For metrics: the table, and the op (null for a message that is no event of its own: a tombstone, a truncate's copy). */
  table: string;
  op: string | null;
}

/**
 * Messages per produce request. Requests are sent one at a time, so fewer and larger ones mean fewer
 * round trips; with capture-sized events (~125 bytes) MAX_BATCH_BYTES cuts first, near 7,000. (It
 * was 2,000 while kafkajs grouped partitions in quadratic time: see kafkajs-grouping.ts.)
 */
export const MAX_BATCH_MESSAGES = 10000;
/** Bytes per produce request; below the brokers' default max.message.bytes (1 MiB) even if all go to one partition. */
export const MAX_BATCH_BYTES = 900 * 1024;
/** Bytes buffered before enqueue() makes the reader wait: the backpressure bound. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface SenderHooks {
  /** After each acknowledged batch, per run of messages of one table and op (messages with op null excluded). */
  onAcknowledged?: (table: string, op: string, events: number) => void;
  /** After each acknowledged batch: its bytes (keys + values). */
  onBytesAcknowledged?: (bytes: number) => void;
}

const sizeOf = (message: KafkaMessage) => (message.value?.length ?? 0) + (message.key?.length ?? 0);

/**
 * Hands messages to Kafka in order, one produce request in flight at a time (the idempotent
 * producer keeps per-partition order), and makes the WAL reader wait while too much is buffered so
 * memory stays bounded however large a transaction is.
 */
export class MessageSender {
  /** Messages not yet handed to the producer: queue[head..]. An index, not shift/splice, which move the whole rest. */
  private queue: OutgoingMessage[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private sending: Promise<void> | null = null;
  private failure: Error | null = null;
  private drained: (() => void)[] = [];
  /** Messages ever queued and ever acknowledged: flush() barriers wait for the second to reach the first. */
  private queuedTotal = 0;
  private acknowledgedTotal = 0;
  private barriers: { target: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(
    private readonly producer: BatchProducer,
    private readonly hooks: SenderHooks = {},
  ) {}

  /** Queues a message; the returned promise resolves when there is room for more (await it). */
  enqueue(message: OutgoingMessage): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.queue.push(message);
    this.queuedTotal++;
    this.bufferedBytes += sizeOf(message);
    this.pump();
    if (this.bufferedBytes < MAX_BUFFERED_BYTES) return undefined;
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Resolves when everything queued so far has been acknowledged by Kafka (later messages need not be). */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = this.queuedTotal;
    if (this.acknowledgedTotal >= target) return Promise.resolve();
    return new Promise((resolve, reject) => this.barriers.push({ target, resolve, reject }));
  }

  private pump(): void {
    if (this.sending || this.head === this.queue.length || this.failure) return;
    const end = this.head + nextBatchLength(this.queue, this.head);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.sending = this.send(batch).finally(() => {
      this.sending = null;
      this.pump();
    });
  }

  private async send(batch: OutgoingMessage[]): Promise<void> {
    let bytes = 0;
    for (const message of batch) bytes += sizeOf(message);
    try {
      await this.producer.send(batch);
    } catch (error) {
      this.failure = new TandemError(`Kafka did not acknowledge ${batch.length} change event messages: ${(error as Error).message}`, {
        fix: 'check the brokers; capture restarts from the last acknowledged transaction, so nothing is lost',
        cause: error,
      });
      this.releaseWaiters();
      for (const barrier of this.barriers.splice(0)) barrier.reject(this.failure);
      return;
    }
    this.bufferedBytes -= bytes;
    this.acknowledgedTotal += batch.length;
    forEachRun(batch, (a, b) => a.ack === b.ack, (first, count) => first.ack?.acknowledge(count));
    const { onAcknowledged } = this.hooks;
    if (onAcknowledged) {
      const events = batch.filter((message) => message.op !== null);
      forEachRun(events, (a, b) => a.table === b.table && a.op === b.op, (first, count) => onAcknowledged(first.table, first.op!, count));
    }
    this.hooks.onBytesAcknowledged?.(bytes);
    this.barriers = this.barriers.filter((barrier) => {
      if (barrier.target > this.acknowledgedTotal) return true;
      barrier.resolve();
      return false;
    });
    if (this.bufferedBytes < MAX_BUFFERED_BYTES) this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const waiters = this.drained;
    this.drained = [];
    for (const resolve of waiters) resolve();
  }
}

/** Sent messages at the queue's front are dropped once this many have gone (amortized: a copy of the rest). */
const COMPACT_AFTER = 16 * 1024;

/**
 * How many queued messages, from `start`, the next produce request takes: up to MAX_BATCH_MESSAGES,
 * and messages until MAX_BATCH_BYTES is reached (the one crossing it included, so a large message
 * still goes).
 */
export function nextBatchLength(queue: readonly KafkaMessage[], start = 0): number {
  let count = 0;
  let bytes = 0;
  while (start + count < queue.length && count < MAX_BATCH_MESSAGES && bytes < MAX_BATCH_BYTES) bytes += sizeOf(queue[start + count++]!);
  return count;
}

/** Calls `tell` once per run of consecutive alike messages (the messages of one transaction come together). */
function forEachRun(messages: OutgoingMessage[], alike: (a: OutgoingMessage, b: OutgoingMessage) => boolean, tell: (first: OutgoingMessage, count: number) => void): void {
  let start = 0;
  for (let index = 1; index <= messages.length; index++) {
    if (index === messages.length || !alike(messages[index]!, messages[start]!)) {
      tell(messages[start]!, index - start);
      start = index;
    }
  }
}
