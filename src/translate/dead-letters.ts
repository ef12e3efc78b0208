/**
 * Dead letters: a change that cannot be decoded, mapped or written goes to `<topic>.dlq` unchanged
 * (key and value as consumed), with headers saying why and where it came from. Sent before the
 * batch commits, so a crash can repeat a dead letter but never lose one; `tandem dlq replay`
 * applies each source offset at most once (tandem.translate_dead_letters).
 */
import type { Kafka, Producer, IHeaders, KafkaMessage } from 'kafkajs';

export const DLQ_SUFFIX = '.dlq';

export const HEADERS = {
  error: 'tandem.error',
  topic: 'tandem.source.topic',
  partition: 'tandem.source.partition',
  offset: 'tandem.source.offset',
  connector: 'tandem.connector',
  time: 'tandem.time',
} as const;

export function deadLetterTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  error: string;
  /** The source key (text of its columns), when the message could be decoded. */
  key?: string;
}

export interface DeadLetterSink {
  send(connector: string, letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

export function createDeadLetterSink(kafka: Kafka, partitions = 1): DeadLetterSink {
  let producer: Producer | null = null;
  const ensured = new Set<string>();
  return {
    async send(connector, letters) {
      if (letters.length === 0) return;
      if (!producer) {
        producer = kafka.producer({ allowAutoTopicCreation: false });
        await producer.connect();
      }
      const topics = [...new Set(letters.map((letter) => deadLetterTopic(letter.topic)))].filter((topic) => !ensured.has(topic));
      if (topics.length > 0) {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const existing = new Set(await admin.listTopics());
          const missing = topics.filter((topic) => !existing.has(topic));
          if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: partitions })) }).catch((error: { type?: string }) => {
            if (error.type !== 'TOPIC_ALREADY_EXISTS') throw error;
          });
        } finally {
          await admin.disconnect();
        }
        topics.forEach((topic) => ensured.add(topic));
      }
      const time = new Date().toISOString();
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...new Set(letters.map((letter) => letter.topic))].map((topic) => ({
          topic: deadLetterTopic(topic),
          messages: letters
            .filter((letter) => letter.topic === topic)
            .map((letter) => ({
              key: letter.message.key,
              value: letter.message.value,
              headers: {
                ...letter.message.headers,
                [HEADERS.error]: letter.error,
                [HEADERS.topic]: letter.topic,
                [HEADERS.partition]: String(letter.partition),
                [HEADERS.offset]: letter.message.offset,
                [HEADERS.connector]: connector,
                [HEADERS.time]: time,
              } satisfies IHeaders,
            })),
        })),
      });
    },
    async close() {
      await producer?.disconnect().catch(() => undefined);
    },
  };
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}
