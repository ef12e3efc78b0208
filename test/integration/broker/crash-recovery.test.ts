import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { kafkaClient } from '../../support/embedded-broker.js';
import { spawnBroker, type BrokerProcess } from '../../support/broker-process.js';
import { describeEmbeddedOnly } from '../../support/kafka-stack.js';
import { until } from '../../support/until.js';

let running: BrokerProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await running?.kill('SIGKILL');
  running = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describeEmbeddedOnly('embedded broker killed with SIGKILL', 'it kills and restarts our broker process and tests its log recovery and fsync modes', () => {
  it('keeps every acknowledged message and committed offset across kill -9 and restart', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-crash-'));
    running = await spawnBroker(['--data-dir', dataDir, '--fsync', 'interval', '--fsync-interval-ms', '60000']);
    let kafka = kafkaClient([running.bootstrap], { retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 2 }] });
    await admin.disconnect();

    // A consumer group commits as it goes; we note every commit the broker acknowledged.
    const acknowledgedCommits = new Map<number, number>();
    const consumer = kafka.consumer({ groupId: 'bookkeepers', maxWaitTimeInMs: 200 });
    consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
      for (const topic of payload.topics) for (const p of topic.partitions) acknowledgedCommits.set(Number(p.partition), Number(p.offset));
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ledger', fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });

    // Producers keep sending; the broker dies in the middle of the stream.
    const acknowledged = new Set<string>();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    let stop = false;
    const producing = (async () => {
      for (let batch = 0; !stop; batch++) {
        const values = Array.from({ length: 200 }, (_, i) => `entry-${batch}-${i}`);
        try {
          await producer.send({ topic: 'ledger', acks: -1, messages: values.map((value) => ({ key: value, value })) });
        } catch {
          return; // the broker is gone: this batch was never acknowledged
        }
        for (const value of values) acknowledged.add(value);
      }
    })();
    await until(() => acknowledged.size >= 20_000 && acknowledgedCommits.size >= 2, { describe: '20k acknowledged messages and a committed offset for both partitions', timeoutMs: 60_000 });
    await running.kill('SIGKILL');
    stop = true;
    await producing;
    await Promise.allSettled([producer.disconnect(), consumer.disconnect()]);

    running = await spawnBroker(['--data-dir', dataDir]);
    kafka = kafkaClient([running.bootstrap]);
    const restartedAdmin = kafka.admin();
    await restartedAdmin.connect();
    const [committed] = await restartedAdmin.fetchOffsets({ groupId: 'bookkeepers', topics: ['ledger'] });
    for (const { partition, offset } of committed.partitions) {
      expect(Number(offset)).toBeGreaterThanOrEqual(acknowledgedCommits.get(partition) ?? 0);
    }
    const ends = await restartedAdmin.fetchTopicOffsets('ledger');
    await restartedAdmin.disconnect();
    const total = ends.reduce((sum, p) => sum + Number(p.high), 0);
    expect(total).toBeGreaterThanOrEqual(acknowledged.size);

    const stored = new Set<string>();
    const reader = kafka.consumer({ groupId: 'auditor', maxWaitTimeInMs: 200 });
    await reader.connect();
    await reader.subscribe({ topic: 'ledger', fromBeginning: true });
    await reader.run({ eachBatch: async ({ batch }) => batch.messages.forEach((m) => stored.add(m.value!.toString())) });
    await until(() => stored.size >= total, { describe: `all ${total} stored messages read back after the restart`, timeoutMs: 60_000 });
    await reader.disconnect();
    const missing = [...acknowledged].filter((value) => !stored.has(value));
    expect(missing).toEqual([]);
    expect(stored.size).toBe(total); // and nothing stored twice under different offsets
  });

  it('stops cleanly on SIGTERM', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-stop-'));
    running = await spawnBroker(['--data-dir', dataDir]);
    const stopped = running.nextLine(/broker stopped/);
    await running.kill('SIGTERM');
    await stopped;
    expect(running.child.exitCode).toBe(0);
  });
});
