import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../../support/embedded-broker.js';

let broker: TestBroker | undefined;

afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('embedded broker with kafkajs', () => {
  it('creates, lists, describes and deletes topics through the admin client', async () => {
    broker = await startTestBroker();
    const admin = broker.kafka().admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'customers' }] })).toBe(true);
      expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(false);
      expect((await admin.listTopics()).sort()).toEqual(['customers', 'orders']);

      const metadata = await admin.fetchTopicMetadata({ topics: ['orders'] });
      expect(metadata.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      await admin.createPartitions({ topicPartitions: [{ topic: 'customers', count: 2 }] });
      expect((await admin.fetchTopicOffsets('customers')).length).toBe(2);

      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: 'orders' }], includeSynonyms: false });
      expect(configs.resources[0].configEntries.map((e) => e.configName)).toContain('cleanup.policy');

      await admin.deleteTopics({ topics: ['orders'] });
      expect(await admin.listTopics()).toEqual(['customers']);
    } finally {
      await admin.disconnect();
    }
  });

  it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION unless auto-creation is on', async () => {
    broker = await startTestBroker();
    const producer = broker.kafka({ retry: { retries: 1, initialRetryTime: 50 } }).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await expect(producer.send({ topic: 'nowhere', messages: [{ value: 'x' }] })).rejects.toThrow(/does not host this topic-partition|UNKNOWN_TOPIC/i);
    await producer.disconnect();
    await broker.stop();

    broker = await startTestBroker({ autoCreateTopics: true, defaultPartitions: 2 });
    const kafka = broker.kafka();
    const autoProducer = kafka.producer({ allowAutoTopicCreation: true });
    await autoProducer.connect();
    await autoProducer.send({ topic: 'appears', messages: [{ value: 'x' }] });
    await autoProducer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsets('appears')).length).toBe(2);
    await admin.disconnect();
  });

  it('refuses a record batch over max-message-bytes with MESSAGE_TOO_LARGE', async () => {
    broker = await startTestBroker({ maxMessageBytes: 10_000 });
    const kafka = broker.kafka({ retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'big' }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await expect(producer.send({ topic: 'big', messages: [{ value: Buffer.alloc(20_000, 1) }] })).rejects.toThrow(/larger than the max message size/i);
    await producer.send({ topic: 'big', messages: [{ value: Buffer.alloc(1_000, 1) }] });
    await producer.disconnect();
  });

  it('delivers 100k messages while members crash, leave and join, redelivering only what was not committed', async () => {
    broker = await startTestBroker();
    const kafka = broker.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 3 }] });
    await admin.disconnect();

    const total = 100_000;
    const deliveries = new Map<string, number>(); // "partition:offset" -> times processed
    const committed = [-1, -1, -1]; // highest offset the broker acknowledged as committed, per partition
    let duplicates = 0;
    let duplicatesBeforeCommit = 0;
    let releaseCrashed = () => {};
    const crashedForever = new Promise<void>((resolve) => (releaseCrashed = resolve));

    interface Member {
      consumer: Consumer;
      /** Set to make the member hang mid-batch: it stops heartbeating, like a crashed process. */
      crash: boolean;
      crashed: boolean;
      processedSinceCommit: number;
    }

    const startMember = async (): Promise<Member> => {
      // maxWaitTimeInMs stays below the session timeout: kafkajs does not heartbeat during a long poll.
      const consumer = kafka.consumer({
        groupId: 'workers',
        sessionTimeout: 4000,
        heartbeatInterval: 400,
        maxWaitTimeInMs: 1000,
        maxBytesPerPartition: 64 * 1024,
      });
      const member: Member = { consumer, crash: false, crashed: false, processedSinceCommit: 0 };
      consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
        member.processedSinceCommit = 0;
        for (const topic of payload.topics) {
          for (const p of topic.partitions) committed[Number(p.partition)] = Math.max(committed[Number(p.partition)], Number(p.offset));
        }
      });
      await consumer.connect();
      await consumer.subscribe({ topic: 'events', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }: EachMessagePayload) => {
          if (member.crashed) return; // a zombie after the test let it go: its work does not count
          if (member.crash && member.processedSinceCommit >= 20) {
            member.crashed = true; // dies with 20+ processed but uncommitted messages
            await crashedForever;
            return;
          }
          const key = `${partition}:${message.offset}`;
          const seen = deliveries.get(key) ?? 0;
          if (seen > 0) {
            duplicates += 1;
            if (Number(message.offset) < committed[partition]) duplicatesBeforeCommit += 1;
          }
          deliveries.set(key, seen + 1);
          member.processedSinceCommit += 1;
        },
      });
      return member;
    };

    const members = [await startMember(), await startMember(), await startMember()];
    const producer = kafka.producer();
    await producer.connect();
    const producing = (async () => {
      for (let sent = 0; sent < total; sent += 1000) {
        const messages = Array.from({ length: 1000 }, (_, i) => ({ key: String(sent + i), value: `event-${sent + i}` }));
        await producer.send({ topic: 'events', acks: -1, messages });
        await sleep(40); // keep the stream flowing while members change
      }
    })();

    await until(() => deliveries.size >= 25_000, 60_000, '25k deliveries');
    members[0].crash = true; // removed by the coordinator when its session times out
    await until(() => deliveries.size >= 50_000, 60_000, '50k deliveries');
    await members[1].consumer.disconnect(); // leaves cleanly
    await until(() => deliveries.size >= 65_000, 60_000, '65k deliveries');
    members.push(await startMember()); // joins
    await producing;
    await until(() => deliveries.size >= total, 90_000, 'every message');

    releaseCrashed();
    await Promise.allSettled([members[0], members[2], members[3]].map((m) => m.consumer.disconnect()));
    await producer.disconnect();
    expect(members[0].crashed).toBe(true);
    expect(deliveries.size).toBe(total);
    expect(duplicates).toBeGreaterThan(0); // the crashed member's uncommitted work was redone
    expect(duplicatesBeforeCommit).toBe(0);
  });

  it('lets a retrying idempotent producer whose responses are lost create no duplicates', async () => {
    let produces = 0;
    const dropped = new Set([2, 5, 6]);
    broker = await startTestBroker({
      testHooks: { dropResponse: (apiKey) => apiKey === 0 && dropped.has(++produces) },
    });
    const kafka = broker.kafka({ retry: { retries: 10, initialRetryTime: 50 } });
    await createTopic(kafka, 'payments');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 100 }, (_, i) => ({ value: `payment-${batch * 100 + i}` }));
      await producer.send({ topic: 'payments', acks: -1, messages });
    }
    await producer.disconnect();

    expect(produces).toBeGreaterThan(10); // the dropped responses were retried
    const values = await readAll(kafka, 'payments', 1000);
    expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => `payment-${i}`));
  });

  it('shows the same lost responses duplicate records of a producer that is not idempotent', async () => {
    let produces = 0;
    broker = await startTestBroker({ testHooks: { dropResponse: (apiKey) => apiKey === 0 && ++produces === 1 } });
    const kafka = broker.kafka({ retry: { retries: 5, initialRetryTime: 50 } });
    await createTopic(kafka, 'plain');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'plain', acks: -1, messages: [{ value: 'once' }] });
    await producer.disconnect();
    expect(await readAll(kafka, 'plain', 2)).toEqual(['once', 'once']);
  });

  it('answers a long-poll fetch as soon as a message arrives', async () => {
    broker = await startTestBroker();
    const kafka = broker.kafka();
    await createTopic(kafka, 'live');
    const consumer = kafka.consumer({ groupId: 'live', maxWaitTimeInMs: 5_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'live', fromBeginning: true });
    let receivedAt = 0;
    await consumer.run({ eachMessage: async () => void (receivedAt = Date.now()) });
    await sleep(1500); // the consumer is now parked in a long poll
    const producer = kafka.producer();
    await producer.connect();
    const sentAt = Date.now();
    await producer.send({ topic: 'live', messages: [{ value: 'ping' }] });
    await until(() => receivedAt > 0, 10_000, 'the message');
    expect(receivedAt - sentAt).toBeLessThan(1000);
    await producer.disconnect();
    await consumer.disconnect();
  });

  it('serves offsets by time, deletes records and deletes groups', async () => {
    broker = await startTestBroker();
    const kafka = broker.kafka();
    await createTopic(kafka, 'history');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'history', messages: [{ value: 'old', timestamp: '1000' }] });
    await producer.send({ topic: 'history', messages: [{ value: 'new', timestamp: '5000' }] });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const [byTime] = await admin.fetchTopicOffsetsByTimestamp('history', 3000);
    expect(byTime.offset).toBe('1');
    await admin.deleteTopicRecords({ topic: 'history', partitions: [{ partition: 0, offset: '1' }] });
    const [offsets] = await admin.fetchTopicOffsets('history');
    expect(offsets).toMatchObject({ low: '1', high: '2' });
    expect(await readAll(kafka, 'history', 1)).toEqual(['new']);

    await admin.setOffsets({ groupId: 'auditors', topic: 'history', partitions: [{ partition: 0, offset: '2' }] });
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain('auditors');
    await admin.deleteGroups(['auditors']);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('auditors');
    await admin.disconnect();
  });
});

async function createTopic(kafka: Kafka, topic: string, numPartitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

/** Reads `count` values from the start of a topic with a throwaway consumer group. */
async function readAll(kafka: Kafka, topic: string, count: number): Promise<string[]> {
  const values: string[] = [];
  const consumer = kafka.consumer({ groupId: `reader-${Math.random()}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  await until(() => values.length >= count, 30_000, `${count} messages on ${topic}`);
  await sleep(300); // anything beyond `count` would show up now
  await consumer.disconnect();
  return values;
}
