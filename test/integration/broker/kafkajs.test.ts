import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { uniqueName } from '../../support/connector.js';
import { kafkaClient, startTestBroker } from '../../support/embedded-broker.js';
import { startKafkaFaultProxy } from '../../support/kafka-proxy.js';
import { itEmbeddedOnly, startTestKafkaStack, testKafka, type TestKafkaStack } from '../../support/kafka-stack.js';
import { readTopicValues } from '../../support/topic-reader.js';
import { until } from '../../support/until.js';

// Every test body here runs against the broker TANDEM_TEST_KAFKA selects (our embedded broker or
// Apache Kafka): what it asserts is Kafka's behaviour, so both must pass it unchanged.
let stack: TestKafkaStack;
let kafka: Kafka;

beforeAll(async () => {
  stack = await startTestKafkaStack();
  kafka = kafkaClient(stack.brokers);
});

afterAll(async () => {
  await stack?.stop();
});

describe(`Kafka behaviour through kafkajs (${testKafka} broker)`, () => {
  it('creates, lists, describes and deletes topics through the admin client', async () => {
    const orders = uniqueName('orders');
    const customers = uniqueName('customers');
    const ours = (topics: string[]) => topics.filter((topic) => topic === orders || topic === customers).sort();
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: orders, numPartitions: 3 }, { topic: customers }] })).toBe(true);
      expect(await admin.createTopics({ topics: [{ topic: orders, numPartitions: 3 }] })).toBe(false);
      expect(ours(await admin.listTopics())).toEqual([customers, orders].sort());

      const metadata = await admin.fetchTopicMetadata({ topics: [orders] });
      expect(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      await admin.createPartitions({ topicPartitions: [{ topic: customers, count: 2 }] });
      // Kafka spreads new partitions to the brokers' metadata asynchronously.
      await until(async () => (await admin.fetchTopicOffsets(customers)).length === 2, { describe: `${customers} with 2 partitions` });

      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: orders }], includeSynonyms: false });
      expect(configs.resources[0]!.configEntries.map((e) => e.configName)).toContain('cleanup.policy');

      await admin.deleteTopics({ topics: [orders] });
      await until(async () => !(await admin.listTopics()).includes(orders), { describe: `${orders} gone from the topic list` });
      expect(ours(await admin.listTopics())).toEqual([customers]);
    } finally {
      await admin.disconnect();
    }
  });

  it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION when auto-creation is off', async () => {
    const producer = kafkaClient(stack.brokers, { retry: { retries: 1, initialRetryTime: 50 } }).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await expect(producer.send({ topic: uniqueName('nowhere'), messages: [{ value: 'x' }] })).rejects.toThrow(/does not host this topic-partition|UNKNOWN_TOPIC/i);
    } finally {
      await producer.disconnect();
    }
  });

  it("refuses a record batch over the topic's max.message.bytes with MESSAGE_TOO_LARGE", async () => {
    const topic = uniqueName('big');
    const client = kafkaClient(stack.brokers, { retry: { retries: 0 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: 'max.message.bytes', value: '10000' }] }] });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: Buffer.alloc(20_000, 1) }] })).rejects.toThrow(/larger than the max message size/i);
      await producer.send({ topic, messages: [{ value: Buffer.alloc(1_000, 1) }] });
    } finally {
      await producer.disconnect();
    }
  });

  it('refuses a consumer whose session timeout is below group.min.session.timeout.ms with INVALID_SESSION_TIMEOUT', async () => {
    const topic = uniqueName('sessions');
    await createTopic(kafka, topic);
    const consumer = kafka.consumer({ groupId: uniqueName('short-sessions'), sessionTimeout: 4000, heartbeatInterval: 400 });
    await consumer.connect();
    try {
      let crash: (Error & { type?: string }) | undefined;
      consumer.on(consumer.events.CRASH, ({ payload }) => void (crash ??= payload.error));
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      const error = await until(() => crash, { describe: 'the consumer to fail joining its group' });
      expect(error.type).toBe('INVALID_SESSION_TIMEOUT');
    } finally {
      await consumer.disconnect();
    }
  });

  it('delivers 100k messages while members crash, leave and join, redelivering only what was not committed', async () => {
    const topic = uniqueName('events');
    const groupId = uniqueName('workers');
    await createTopic(kafka, topic, 3);

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
      // The shortest session Kafka allows by default; maxWaitTimeInMs stays below it because kafkajs
      // does not heartbeat during a long poll.
      const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 1000, maxBytesPerPartition: 64 * 1024 });
      const member: Member = { consumer, crash: false, crashed: false, processedSinceCommit: 0 };
      consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
        member.processedSinceCommit = 0;
        for (const committedTopic of payload.topics) {
          for (const p of committedTopic.partitions) committed[Number(p.partition)] = Math.max(committed[Number(p.partition)]!, Number(p.offset));
        }
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
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
            if (Number(message.offset) < committed[partition]!) duplicatesBeforeCommit += 1;
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
    // The stream keeps flowing while members change: the producer stays up to 10k messages ahead of
    // what the group has processed (so it pauses while the crashed member's partition waits).
    const producing = (async () => {
      for (let sent = 0; sent < total; sent += 1000) {
        await until(() => sent - deliveries.size <= 10_000, { describe: `the group to process up to ${sent - 10_000}`, timeoutMs: 60_000 });
        const messages = Array.from({ length: 1000 }, (_, i) => ({ key: String(sent + i), value: `event-${sent + i}` }));
        await producer.send({ topic, acks: -1, messages });
      }
    })();

    const delivered = (count: number) => until(() => deliveries.size >= count, { describe: `${count} deliveries`, timeoutMs: 60_000 });
    await delivered(25_000);
    members[0]!.crash = true; // removed by the coordinator when its session times out
    await until(() => members[0]!.crashed, { describe: 'the first member to crash mid-batch', timeoutMs: 60_000 });
    await delivered(50_000);
    await members[1]!.consumer.disconnect(); // leaves cleanly
    await delivered(65_000);
    members.push(await startMember()); // joins
    await producing;
    await delivered(total);

    releaseCrashed();
    await Promise.allSettled([members[0], members[2], members[3]].map((m) => m!.consumer.disconnect()));
    await producer.disconnect();
    expect(deliveries.size).toBe(total);
    expect(duplicates).toBeGreaterThanOrEqual(20); // the crashed member's uncommitted work was redone
    expect(duplicatesBeforeCommit).toBe(0);
  }, 240_000);

  it('lets a retrying idempotent producer whose responses are lost create no duplicates', async () => {
    const topic = uniqueName('payments');
    await createTopic(kafka, topic);
    // Responses to the 2nd, 5th and 6th Produce are lost after the broker appended the batch.
    const proxy = await startKafkaFaultProxy(stack.brokers);
    let produces = 0;
    const dropped = new Set([2, 5, 6]);
    proxy.faults.dropResponse = (apiKey) => apiKey === 0 && dropped.has(++produces);
    try {
      const producer = kafkaClient(proxy.brokers, { retry: { retries: 10, initialRetryTime: 50 } }).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let batch = 0; batch < 10; batch++) {
        const messages = Array.from({ length: 100 }, (_, i) => ({ value: `payment-${batch * 100 + i}` }));
        await producer.send({ topic, acks: -1, messages });
      }
      await producer.disconnect();
    } finally {
      await proxy.stop();
    }
    expect(produces).toBe(13); // ten batches, three of them sent twice
    expect(await readTopicValues(kafka, topic)).toEqual(Array.from({ length: 1000 }, (_, i) => `payment-${i}`));
  });

  it('shows the same lost responses duplicate records of a producer that is not idempotent', async () => {
    const topic = uniqueName('plain');
    await createTopic(kafka, topic);
    const proxy = await startKafkaFaultProxy(stack.brokers);
    let produces = 0;
    proxy.faults.dropResponse = (apiKey) => apiKey === 0 && ++produces === 1;
    try {
      const producer = kafkaClient(proxy.brokers, { retry: { retries: 5, initialRetryTime: 50 } }).producer();
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'once' }] });
      await producer.disconnect();
    } finally {
      await proxy.stop();
    }
    expect(await readTopicValues(kafka, topic)).toEqual(['once', 'once']);
  });

  it('answers a parked long-poll fetch as soon as a message arrives', async () => {
    const topic = uniqueName('live');
    await createTopic(kafka, topic);
    // Each fetch may wait a minute for data: the message can only arrive within the deadline below
    // if the broker answers the parked fetch when the message is appended.
    const consumer = kafka.consumer({ groupId: uniqueName('live'), maxWaitTimeInMs: 60_000, sessionTimeout: 120_000, rebalanceTimeout: 60_000 });
    let fetches = 0;
    consumer.on(consumer.events.FETCH_START, () => void (fetches += 1));
    const received: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString()) });
    await until(() => fetches > 0, { describe: 'the consumer to send its first fetch' });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: 'ping' }] });
      await until(() => received.includes('ping'), { describe: 'the message, well before the 60 s fetch wait ends', timeoutMs: 30_000 });
      // Stopping waits for the parked fetch; one more message releases it.
      const stopped = consumer.disconnect();
      await producer.send({ topic, messages: [{ value: 'release' }] });
      await stopped;
    } finally {
      await producer.disconnect();
    }
    expect(received[0]).toBe('ping');
  });

  it('serves offsets by time, deletes records and deletes groups', async () => {
    const topic = uniqueName('history');
    const groupId = uniqueName('auditors');
    await createTopic(kafka, topic);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'old', timestamp: '1000' }] });
    await producer.send({ topic, messages: [{ value: 'new', timestamp: '5000' }] });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    try {
      const [byTime] = await admin.fetchTopicOffsetsByTimestamp(topic, 3000);
      expect(byTime!.offset).toBe('1');
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
      const [offsets] = await admin.fetchTopicOffsets(topic);
      expect(offsets).toMatchObject({ low: '1', high: '2' });
      expect(await readTopicValues(kafka, topic)).toEqual(['new']);

      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] });
      expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '2' })]);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);
      await admin.deleteGroups([groupId]);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(groupId);
    } finally {
      await admin.disconnect();
    }
  });

  itEmbeddedOnly('creates an unknown topic with the default partition count when auto-creation is on', 'auto-creation is our broker option; the shared Apache Kafka node runs with auto.create.topics.enable=false, as in production', async () => {
    const broker = await startTestBroker({ autoCreateTopics: true, defaultPartitions: 2 });
    try {
      const client = broker.kafka();
      const producer = client.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      await producer.send({ topic: 'appears', messages: [{ value: 'x' }] });
      await producer.disconnect();
      const admin = client.admin();
      await admin.connect();
      expect((await admin.fetchTopicOffsets('appears')).length).toBe(2);
      await admin.disconnect();
    } finally {
      await broker.stop();
    }
  });
});

async function createTopic(client: Kafka, topic: string, numPartitions = 1): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
  } finally {
    await admin.disconnect();
  }
}
