import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../support/embedded-broker.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ autoCreateTopics: true, defaultPartitions: 2 });
});

afterAll(async () => {
  await broker.stop();
});

/** Runs kcat against the broker (librdkafka, a second independent client implementation). */
function kcat(args: string[], input?: string, bootstrap = broker.brokers[0]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', ['-b', bootstrap, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kcat ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

describe('embedded broker with kcat (librdkafka)', () => {
  it('lists the broker and topics with kcat -L', async () => {
    await kcat(['-P', '-t', 'listed'], 'hello\n');
    const listing = await kcat(['-L']);
    expect(listing).toContain(`broker 0 at ${broker.brokers[0]}`);
    expect(listing).toContain('topic "listed" with 2 partitions');
  });

  it('produces with kcat -P and reads back with kcat -C -e', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line-${i}`);
    await kcat(['-P', '-t', 'lines', '-p', '0'], `${lines.join('\n')}\n`);
    const read = await kcat(['-C', '-t', 'lines', '-p', '0', '-o', 'beginning', '-e', '-q']);
    expect(read.trim().split('\n')).toEqual(lines);
  });

  it('consumes as a balanced group with kcat -G and resumes from the committed offsets', async () => {
    await kcat(['-P', '-t', 'grouped', '-K', ':'], 'a:1\nb:2\nc:3\nd:4\n');
    // (-o would override the committed offsets in -G mode, so the start comes from auto.offset.reset.)
    const groupRead = ['-G', 'kcat-readers', '-X', 'auto.offset.reset=earliest', '-e', '-q', 'grouped'];
    const first = await kcat(groupRead);
    expect(first.trim().split('\n').sort()).toEqual(['1', '2', '3', '4']);

    await kcat(['-P', '-t', 'grouped', '-K', ':'], 'e:5\n');
    const second = await kcat(groupRead);
    expect(second.trim()).toBe('5');
  });

  it('authenticates with SASL/PLAIN', async () => {
    const secured = await startTestBroker({ saslPlain: 'app:s3cret', autoCreateTopics: true });
    try {
      const sasl = (password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=app', '-X', `sasl.password=${password}`];
      await kcat([...sasl('s3cret'), '-P', '-t', 'private'], 'secret message\n', secured.brokers[0]);
      const read = await kcat([...sasl('s3cret'), '-C', '-t', 'private', '-o', 'beginning', '-e', '-q'], undefined, secured.brokers[0]);
      expect(read.trim()).toBe('secret message');
      await expect(kcat([...sasl('wrong'), '-L', '-m', '3'], undefined, secured.brokers[0])).rejects.toThrow(/Authentication failed|authentication/i);
    } finally {
      await secured.stop();
    }
  });
});
