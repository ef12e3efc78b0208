/**
 * The producer thread: runs the idempotent kafkajs producer for capture, so its per-message
 * encoding work runs on another core than WAL decoding and Avro encoding. Batches arrive packed
 * (batch-transfer.ts); each is answered once Kafka acknowledged it (acks=-1) or finally failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ICustomPartitioner } from 'kafkajs';
import type { LevelWithSilent } from 'pino';
import type { Connector } from '../config/index.js';
import { createLogger } from '../observability/logger.js';
import { registerSecret } from '../observability/redact.js';
import { unpackBatch, type PackedBatch } from './batch-transfer.js';
import { installLinearGrouping } from './kafkajs-grouping.js';
import { partitionOfKey } from './key-partition.js';

// Before anything loads kafkajs in this thread: its per-partition grouping is quadratic (kafkajs-grouping.ts).
installLinearGrouping();
const { createKafka } = await import('../kafka/client.js');

export type ToProducerThread = { type: 'send'; id: number; batch: PackedBatch } | { type: 'disconnect' };
export type FromProducerThread = { type: 'ready' } | { type: 'sent'; id: number } | { type: 'failed'; id: number | null; message: string };

const { kafka: config, logLevel, secrets } = workerData as { kafka: Connector['kafka']; logLevel: LevelWithSilent; secrets: string[] };
for (const secret of secrets) registerSecret(secret);
const port = parentPort!;
const post = (message: FromProducerThread) => port.postMessage(message);
const logger = createLogger({ level: logLevel }).child({ thread: 'kafka-producer' });

/**
 * kafkajs's default partitioner, without its per-message costs (a filtered copy of the partition
 * list, murmur2 over BigInt Longs): an explicit partition as given (keyless and truncate events),
 * else the key's partition among the topic's current partitions, the same one as before.
 */
const byKey: ICustomPartitioner = () => ({ topic, partitionMetadata, message }) => {
  if (message.partition !== undefined && message.partition !== null) return message.partition;
  const { key } = message;
  if (key === null || key === undefined) throw new Error(`a message to ${topic} without key needs an explicit partition`);
  return partitionOfKey(typeof key === 'string' ? Buffer.from(key) : key, partitionMetadata.length);
};
const producer = createKafka(config, logger).producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: byKey,
});

port.on('message', (message: ToProducerThread) => {
  if (message.type === 'disconnect') {
    void producer.disconnect().finally(() => port.close());
    return;
  }
  producer.sendBatch({ acks: -1, topicMessages: unpackBatch(message.batch) }).then(
    () => post({ type: 'sent', id: message.id }),
    (error: unknown) => post({ type: 'failed', id: message.id, message: (error as Error).message }),
  );
});

producer.connect().then(
  () => post({ type: 'ready' }),
  (error: unknown) => post({ type: 'failed', id: null, message: (error as Error).message }),
);
