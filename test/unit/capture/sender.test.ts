import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from '../../../src/capture/batch-transfer.js';
import type { BatchProducer } from '../../../src/capture/producer-thread.js';
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_BUFFERED_BYTES, MessageSender, nextBatchLength, type OutgoingMessage } from '../../../src/capture/sender.js';
import { until } from '../../support/until.js';

/** A producer whose batches stay in flight until the test acknowledges or fails them. */
function manualProducer() {
  const batches: { messages: readonly KafkaMessage[]; acknowledge(): void; fail(error: Error): void }[] = [];
  const producer: BatchProducer = {
    send: (messages) => new Promise<void>((resolve, reject) => batches.push({ messages, acknowledge: resolve, fail: reject })),
    disconnect: async () => undefined,
  };
  return { producer, batches };
}

function counter() {
  const counts = { sent: 0, acknowledged: 0 };
  return { counts, ack: { acknowledge: (count: number) => (counts.acknowledged += count) } };
}

const message = (ack: OutgoingMessage['ack'], bytes = 10, op: string | null = 'c', table = 'legacy.t'): OutgoingMessage => ({ topic: 't', key: null, value: Buffer.alloc(bytes), ack, table, op });

describe('MessageSender: batching, acknowledgement and backpressure', () => {
  it('cuts batches at MAX_BATCH_MESSAGES messages and at MAX_BATCH_BYTES bytes, a message crossing the limit included', () => {
    const small = Array.from({ length: MAX_BATCH_MESSAGES + 5 }, () => ({ topic: 't', key: null, value: Buffer.alloc(1) }));
    expect(nextBatchLength(small)).toBe(MAX_BATCH_MESSAGES);
    expect(nextBatchLength(small.slice(0, 7))).toBe(7);
    expect(nextBatchLength(small, 10)).toBe(MAX_BATCH_MESSAGES - 5);
    const large = Array.from({ length: 4 }, () => ({ topic: 't', key: Buffer.alloc(100), value: Buffer.alloc(MAX_BATCH_BYTES / 2) }));
    expect(nextBatchLength(large)).toBe(2);
    expect(nextBatchLength([{ topic: 't', key: null, value: Buffer.alloc(MAX_BATCH_BYTES * 2) }, ...large])).toBe(1);
    expect(nextBatchLength([])).toBe(0);
  });

  it('keeps one produce request in flight, in order, and tells each transaction how many of its messages Kafka acknowledged', async () => {
    const { producer, batches } = manualProducer();
    const sender = new MessageSender(producer);
    const first = counter();
    const second = counter();
    sender.enqueue(message(first.ack));
    sender.enqueue(message(first.ack));
    sender.enqueue(message(second.ack));
    sender.enqueue(message(null));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.messages).toHaveLength(1);
    batches[0]!.acknowledge();
    await until(() => batches.length === 2, { describe: 'the second batch, sent once the first was acknowledged' });
    expect(first.counts.acknowledged).toBe(1);
    expect(batches[1]!.messages).toHaveLength(3);
    batches[1]!.acknowledge();
    await until(() => second.counts.acknowledged === 1, { describe: 'the second transaction acknowledged' });
    expect(first.counts.acknowledged).toBe(2);
  });

  it('sends a long queue (tens of thousands of messages) whole, each message once and in order', async () => {
    const { producer, batches } = manualProducer();
    const sender = new MessageSender(producer);
    const { counts, ack } = counter();
    const total = 40_007; // several batches, and past the 16k sent messages after which the sender compacts its queue
    const queued = Array.from({ length: total }, () => message(ack, 1));
    for (const each of queued) void sender.enqueue(each);
    const flushed = sender.flush();
    const received: KafkaMessage[] = [];
    for (let batch = 0; received.length < total; batch++) {
      await until(() => batches.length > batch, { describe: `batch ${batch + 1}`, intervalMs: 1 });
      received.push(...batches[batch]!.messages);
      batches[batch]!.acknowledge();
    }
    await flushed;
    expect(received.length).toBe(total);
    expect(received.every((each, index) => each === queued[index])).toBe(true);
    expect(counts.acknowledged).toBe(total);
  });

  it('counts acknowledged events per table and op, leaving out messages that are no event of their own', async () => {
    const { producer, batches } = manualProducer();
    const events: [string, string, number][] = [];
    let bytes = 0;
    const sender = new MessageSender(producer, { onAcknowledged: (table, op, count) => events.push([table, op, count]), onBytesAcknowledged: (count) => (bytes += count) });
    sender.enqueue(message(null, 10, 'd'));
    sender.enqueue(message(null, 0, null));
    sender.enqueue(message(null, 10, 'c', 'legacy.a'));
    sender.enqueue(message(null, 10, 't', 'legacy.a'));
    sender.enqueue(message(null, 10, null, 'legacy.a'));
    batches[0]!.acknowledge();
    await until(() => batches.length === 2, { describe: 'the second batch' });
    batches[1]!.acknowledge();
    await sender.flush();
    expect(events).toEqual([
      ['legacy.t', 'd', 1],
      ['legacy.a', 'c', 1],
      ['legacy.a', 't', 1],
    ]);
    expect(bytes).toBe(40);
  });

  it('makes the reader wait once MAX_BUFFERED_BYTES are buffered, and lets it go on when Kafka acknowledged', async () => {
    const { producer, batches } = manualProducer();
    const sender = new MessageSender(producer);
    const size = 1024 * 1024;
    let wait: Promise<void> | undefined;
    let queued = 0;
    while (!wait) {
      wait = sender.enqueue(message(null, size));
      queued++;
    }
    expect(queued).toBe(MAX_BUFFERED_BYTES / size);
    let released = false;
    void wait.then(() => (released = true));
    while (batches.some((batch) => batch.messages.length > 0) && !released) {
      batches.shift()!.acknowledge();
      await until(() => batches.length > 0 || released, { describe: 'the next batch or the reader released' });
    }
    expect(released).toBe(true);
  });

  it('resolves flush() once everything queued before it is acknowledged, and rejects it and later enqueues after a failure', async () => {
    const { producer, batches } = manualProducer();
    const sender = new MessageSender(producer);
    sender.enqueue(message(null));
    let flushed = false;
    const flush = sender.flush().then(() => (flushed = true));
    sender.enqueue(message(null));
    batches[0]!.acknowledge();
    await flush;
    expect(flushed).toBe(true);
    await until(() => batches.length === 2, { describe: 'the second batch' });
    const pending = sender.flush();
    batches[1]!.fail(new Error('broker gone'));
    await expect(pending).rejects.toThrow('Kafka did not acknowledge 1 change event messages: broker gone');
    expect(() => sender.enqueue(message(null))).toThrow('broker gone');
  });
});
