import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { ApiKey, ErrorCode, decodeResponse, encodeRequest } from '../../../src/embedded/broker/protocol/index.js';
import { startTestBroker, type TestBroker } from '../../support/embedded-broker.js';
import { describeEmbeddedOnly } from '../../support/kafka-stack.js';
import { until } from '../../support/until.js';

let broker: TestBroker | undefined;

afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

function dial(bootstrap: string): Promise<Socket> {
  const [host, port] = bootstrap.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes bytes and resolves with everything the broker sends until it closes the connection. */
function sendUntilClosed(socket: Socket, bytes: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error('the broker kept the connection open')), timeoutMs);
    socket.on('data', (chunk) => received.push(chunk));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

/** Sends one request and reads one response frame. */
function roundTrip(socket: Socket, request: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        socket.off('data', onData);
        resolve(buffered.subarray(4, 4 + buffered.readInt32BE(0)));
      }
    };
    socket.on('data', onData);
    socket.write(request);
  });
}

async function produceAndConsume(test: TestBroker): Promise<void> {
  const kafka = test.kafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: `still-alive-${Date.now()}` }] });
  const [topic] = (await admin.listTopics()).filter((t) => t.startsWith('still-alive'));
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'alive' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `check-${Date.now()}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let value: string | undefined;
  await consumer.run({ eachMessage: async ({ message }) => void (value ??= message.value!.toString()) });
  await until(() => value, { describe: `the message on ${topic}` });
  await consumer.disconnect();
  expect(value).toBe('alive');
}

describeEmbeddedOnly('embedded broker facing bad input', 'raw malformed bytes test our own frame reader and codec', () => {
  it('closes a connection that sends garbage and keeps serving kafkajs', async () => {
    broker = await startTestBroker();
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await sendUntilClosed(await dial(broker.brokers[0]), garbage);

    // A plausible length with a body that is not a request.
    const bogus = Buffer.alloc(40, 0xff);
    bogus.writeInt32BE(36, 0);
    await sendUntilClosed(await dial(broker.brokers[0]), bogus);

    // A request cut short inside its body.
    const metadata = encodeRequest(ApiKey.Metadata, 1, 7, 'test', { topics: [{ name: 'some-topic' }] });
    const truncated = Buffer.concat([Buffer.from([0, 0, 0, 12]), metadata.subarray(4, 16)]);
    await sendUntilClosed(await dial(broker.brokers[0]), truncated);

    await produceAndConsume(broker);
  });

  it('refuses a frame length of gigabytes without allocating it', async () => {
    broker = await startTestBroker();
    const before = process.memoryUsage().arrayBuffers;
    const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
    await sendUntilClosed(await dial(broker.brokers[0]), huge);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50 * 1024 * 1024);
    await produceAndConsume(broker);
  });

  it('answers an ApiVersions version it does not know with UNSUPPORTED_VERSION in the v0 layout', async () => {
    broker = await startTestBroker();
    const socket = await dial(broker.brokers[0]);
    // ApiVersions v9 (newer than any we serve): size, api key 18, version 9, correlation id 42,
    // client id "x", the empty tagged section of header v2; the body does not matter.
    const request = Buffer.from([0, 0, 0, 12, 0, 18, 0, 9, 0, 0, 0, 42, 0, 1, 0x78, 0]);
    const frame = await roundTrip(socket, request);
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, frame);
    expect(correlationId).toBe(42);
    expect(body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys.find((k) => k.apiKey === ApiKey.Fetch)).toMatchObject({ minVersion: 4, maxVersion: 11 });
    socket.destroy();
  });

  it('requires SASL/PLAIN before anything but ApiVersions and the SASL requests', async () => {
    broker = await startTestBroker({ saslPlain: 'app:s3cret' });
    const [bootstrap] = broker.brokers;

    const unauthenticated = await dial(bootstrap);
    await sendUntilClosed(unauthenticated, encodeRequest(ApiKey.Metadata, 1, 1, 'test', { topics: null }));

    const good = broker.kafka({ sasl: { mechanism: 'plain', username: 'app', password: 's3cret' } });
    const admin = good.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'secured' }] });
    expect(await admin.listTopics()).toEqual(['secured']);
    await admin.disconnect();

    const bad = broker.kafka({ sasl: { mechanism: 'plain', username: 'app', password: 'wrong' }, retry: { retries: 0 } });
    const badAdmin = bad.admin();
    await expect(badAdmin.connect()).rejects.toThrow(/SASL PLAIN authentication failed|Authentication failed/i);
  });
});
