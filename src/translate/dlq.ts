/**
 * `tandem dlq`: reading the dead-letter topics (`<topic>.dlq`) to their end, with each letter's
 * state from tandem.translate_dead_letters, and replaying them: each source offset is applied at
 * most once (the replay marks it in the transaction that writes the rows).
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import type { Translator } from './apply.js';
import { deadLetterTopic, HEADERS, headerText } from './dead-letters.js';

export interface DeadLetterRecord {
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  error: string;
  time: string;
  /** The message as it was consumed from the source topic (offset = source offset). */
  message: KafkaMessage;
  /** pending, replayed, superseded (a later change of the row was applied), or unknown (not recorded in the target). */
  state: 'pending' | 'replayed' | 'superseded' | 'unknown';
}

/** Every dead letter of the topics, in DLQ order, once per source offset (a crash may have sent one twice). */
export async function readDeadLetters(kafka: Kafka, client: pg.ClientBase, sourceTopics: readonly string[]): Promise<DeadLetterRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, Map<number, bigint>>();
  let topics: string[];
  try {
    const existing = new Set(await admin.listTopics());
    topics = sourceTopics.map(deadLetterTopic).filter((topic) => existing.has(topic));
    for (const topic of topics) {
      ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).filter((item) => BigInt(item.high) > BigInt(item.low)).map((item) => [item.partition, BigInt(item.high)])));
    }
  } finally {
    await admin.disconnect();
  }
  const remaining = [...ends.values()].reduce((sum, partitions) => sum + partitions.size, 0);
  const records: DeadLetterRecord[] = [];
  if (remaining > 0) {
    const consumer = kafka.consumer({ groupId: `tandem-dlq-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: topics.filter((topic) => ends.get(topic)!.size > 0), fromBeginning: true });
      let open = remaining;
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ topic, partition, message }) => {
              const end = ends.get(topic)?.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              const sourceOffset = headerText(message.headers, HEADERS.offset) ?? '';
              records.push({
                dlqTopic: topic,
                dlqPartition: partition,
                dlqOffset: message.offset,
                sourceTopic: headerText(message.headers, HEADERS.topic) ?? topic.replace(/\.dlq$/, ''),
                sourcePartition: Number(headerText(message.headers, HEADERS.partition) ?? -1),
                sourceOffset,
                error: headerText(message.headers, HEADERS.error) ?? '',
                time: headerText(message.headers, HEADERS.time) ?? '',
                message: { ...message, offset: sourceOffset },
                state: 'unknown',
              });
              if (BigInt(message.offset) === end - 1n && --open === 0) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }
  const unique = new Map<string, DeadLetterRecord>();
  for (const record of records) unique.set(`${record.sourceTopic}:${record.sourcePartition}:${record.sourceOffset}`, record);
  const { rows } = await client.query<{ topic: string; partition: number; kafka_offset: string; replayed: boolean; superseded: boolean }>(
    `SELECT topic, partition, kafka_offset::text, replayed_at IS NOT NULL AS replayed, superseded_by_offset IS NOT NULL AS superseded FROM tandem.translate_dead_letters WHERE topic = ANY($1::text[])`,
    [sourceTopics],
  );
  const states = new Map<string, DeadLetterRecord["state"]>(rows.map((row) => [`${row.topic}:${row.partition}:${row.kafka_offset}`, row.replayed ? 'replayed' : row.superseded ? 'superseded' : 'pending']));
  return [...unique.entries()].map(([id, record]) => ({ ...record, state: states.get(id) ?? 'unknown' }));
}

export interface ReplayResult {
  record: DeadLetterRecord;
  status: 'applied' | 'already replayed' | 'superseded' | 'failed';
  detail?: string;
}

/** Replays the pending dead letters in DLQ order; each source offset is applied at most once. */
export async function replayDeadLetters(translator: Translator, pool: pg.Pool, records: readonly DeadLetterRecord[]): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for (const record of records) {
    if (record.state === 'replayed') {
      results.push({ record, status: 'already replayed' });
      continue;
    }
    const client = await pool.connect();
    try {
      const outcome = await translator.replay(client, record.sourceTopic, record.sourcePartition, record.message);
      results.push({ record, ...outcome });
    } catch (error) {
      results.push({ record, status: 'failed', detail: (error as Error).message });
    } finally {
      client.release();
    }
  }
  return results;
}

/** The source topics `--topic` selects: a connector topic, or its DLQ topic; all of them by default. */
export function selectTopics(connector: Connector, topic: string | undefined): string[] {
  const all = connector.source.tables.map((table) => `${connector.kafka.topicPrefix}.${table}`);
  if (!topic) return all;
  const source = topic.replace(/\.dlq$/, '');
  if (!all.includes(source)) throw new TandemError(`topic ${topic} is not one of connector ${connector.name}'s topics`, { fix: `use one of ${all.join(', ')} (or its .dlq topic)` });
  return [source];
}
