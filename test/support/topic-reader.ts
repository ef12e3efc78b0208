import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { until } from './until.js';

/**
 * Every message value of a topic, from its start to the partitions' end offsets as they are when
 * the call starts: no more (nothing written later), no less (fails naming the partitions it could
 * not finish). Values are in offset order within each partition, partitions in ascending order.
 */
export async function readTopicValues(kafka: Kafka, topic: string, options: { timeoutMs?: number } = {}): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; low: string; high: string }[];
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const ends = new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  const values = new Map<number, { offset: bigint; value: string }[]>(offsets.map(({ partition }) => [partition, []]));
  const next = new Map<number, bigint>(offsets.map(({ partition, low }) => [partition, BigInt(low)]));
  const unfinished = () => [...ends].filter(([partition, end]) => next.get(partition)! < end);
  const state = () => [...ends].map(([partition, end]) => `partition ${partition} at ${next.get(partition)}/${end}`).join(', ');

  if (unfinished().length > 0) {
    const consumer = kafka.consumer({ groupId: `reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 500 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          if (offset >= ends.get(partition)!) return;
          values.get(partition)!.push({ offset, value: message.value?.toString() ?? '' });
          next.set(partition, offset + 1n);
        },
      });
      await until(() => unfinished().length === 0, { describe: `${topic} read up to its end offsets`, timeoutMs: options.timeoutMs ?? 30_000 }).catch((error: Error) => {
        throw new Error(`${error.message}: ${state()}`);
      });
    } finally {
      await consumer.disconnect();
    }
  }
  return [...values.keys()]
    .sort((a, b) => a - b)
    .flatMap((partition) => values.get(partition)!.map((entry) => entry.value));
}
