/**
 * A batch of Kafka messages packed into one ArrayBuffer, so it can be transferred to the producer
 * thread without copying each message or structured-cloning thousands of small objects.
 */
export interface KafkaMessage {
  topic: string;
  /** An explicit partition; absent: the producer's partitioner chooses by key. */
  partition?: number;
  key: Buffer | null;
  /** null: a tombstone. */
  value: Buffer | null;
}

export interface PackedBatch {
  topics: string[];
  /** Per message: topic index, partition (-1 = by key), key offset, key length (-1 = null), value offset, value length (-1 = null). */
  index: Int32Array;
  payload: ArrayBuffer;
}

const FIELDS = 6;

export function packBatch(messages: readonly KafkaMessage[]): PackedBatch {
  let size = 0;
  for (const message of messages) size += (message.key?.length ?? 0) + (message.value?.length ?? 0);
  const payload = new ArrayBuffer(size);
  const bytes = new Uint8Array(payload);
  const index = new Int32Array(messages.length * FIELDS);
  const topics: string[] = [];
  const topicIndex = new Map<string, number>();
  let offset = 0;
  const put = (buffer: Buffer | null, at: number) => {
    if (!buffer) {
      index[at] = offset;
      index[at + 1] = -1;
      return;
    }
    bytes.set(buffer, offset);
    index[at] = offset;
    index[at + 1] = buffer.length;
    offset += buffer.length;
  };
  messages.forEach((message, position) => {
    let topic = topicIndex.get(message.topic);
    if (topic === undefined) {
      topic = topics.push(message.topic) - 1;
      topicIndex.set(message.topic, topic);
    }
    const at = position * FIELDS;
    index[at] = topic;
    index[at + 1] = message.partition ?? -1;
    put(message.key, at + 2);
    put(message.value, at + 4);
  });
  return { topics, index, payload };
}

export interface UnpackedMessage {
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** The messages of a packed batch grouped by topic, keys and values as views into the payload. */
export function unpackBatch(batch: PackedBatch): { topic: string; messages: UnpackedMessage[] }[] {
  const byTopic = batch.topics.map((topic) => ({ topic, messages: [] as UnpackedMessage[] }));
  const view = (offset: number, length: number) => (length < 0 ? null : Buffer.from(batch.payload, offset, length));
  for (let at = 0; at < batch.index.length; at += FIELDS) {
    const message: UnpackedMessage = { key: view(batch.index[at + 2]!, batch.index[at + 3]!), value: view(batch.index[at + 4]!, batch.index[at + 5]!) };
    const partition = batch.index[at + 1]!;
    if (partition >= 0) message.partition = partition;
    byTopic[batch.index[at]!]!.messages.push(message);
  }
  return byTopic;
}
