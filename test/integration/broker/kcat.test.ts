import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../support/connector.js';
import { kafkaClient } from '../../support/embedded-broker.js';
import { startTestKafkaStack, startTestSaslKafka, testKafka, type TestKafkaStack } from '../../support/kafka-stack.js';

let stack: TestKafkaStack;

beforeAll(async () => {
  stack = await startTestKafkaStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Runs kcat against the broker (librdkafka, a second independent client implementation). */
function kcat(args: string[], input?: string, bootstrap = stack.brokers[0]!): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', ['-b', bootstrap, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kcat ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

/** Topics are created up front: the brokers run with auto-creation off, like production. */
async function createTopic(topic: string, numPartitions = 2): Promise<string> {
  const admin = kafkaClient(stack.brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

describe(`Kafka behaviour through kcat (librdkafka, ${testKafka} broker)`, () => {
  it('lists the broker and topics with kcat -L', async () => {
    const topic = await createTopic(uniqueName('listed'));
    await kcat(['-P', '-t', topic], 'hello\n');
    const listing = await kcat(['-L']);
    expect(listing).toMatch(new RegExp(`broker \\d+ at ${stack.brokers[0]!.replace(/\./g, '\\.')}`));
    expect(listing).toContain(`topic "${topic}" with 2 partitions`);
  });

  it('produces with kcat -P and reads back with kcat -C -e', async () => {
    const topic = await createTopic(uniqueName('lines'));
    const lines = Array.from({ length: 500 }, (_, i) => `line-${i}`);
    await kcat(['-P', '-t', topic, '-p', '0'], `${lines.join('\n')}\n`);
    const read = await kcat(['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q']);
    expect(read.trim().split('\n')).toEqual(lines);
  });

  it('consumes as a balanced group with kcat -G and resumes from the committed offsets', async () => {
    const topic = await createTopic(uniqueName('grouped'));
    await kcat(['-P', '-t', topic, '-K', ':'], 'a:1\nb:2\nc:3\nd:4\n');
    // (-o would override the committed offsets in -G mode, so the start comes from auto.offset.reset.)
    const groupRead = ['-G', uniqueName('kcat-readers'), '-X', 'auto.offset.reset=earliest', '-e', '-q', topic];
    const first = await kcat(groupRead);
    expect(first.trim().split('\n').sort()).toEqual(['1', '2', '3', '4']);

    await kcat(['-P', '-t', topic, '-K', ':'], 'e:5\n');
    const second = await kcat(groupRead);
    expect(second.trim()).toBe('5');
  });

  it('authenticates with SASL/PLAIN and refuses a wrong password', async () => {
    const secured = await startTestSaslKafka();
    try {
      const sasl = (password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${secured.username}`, '-X', `sasl.password=${password}`];
      const topic = uniqueName('private');
      const admin = kafkaClient(secured.brokers, { sasl: { mechanism: 'plain', username: secured.username, password: secured.password } }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic }] });
      await admin.disconnect();
      await kcat([...sasl(secured.password), '-P', '-t', topic], 'secret message\n', secured.brokers[0]);
      const read = await kcat([...sasl(secured.password), '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], undefined, secured.brokers[0]);
      expect(read.trim()).toBe('secret message');
      await expect(kcat([...sasl('wrong'), '-L', '-m', '3'], undefined, secured.brokers[0])).rejects.toThrow(/Authentication failed|authentication/i);
    } finally {
      await secured.stop();
    }
  });
});
