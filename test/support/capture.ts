import { Kafka, logLevel } from 'kafkajs';
import type { Type } from 'avsc';
import { createAvroType } from '../../src/schema/avro-type.js';
import { decodeFrame } from '../../src/schema/wire-format.js';

export interface DecodedEvent {
  topic: string;
  partition: number;
  offset: string;
  key: Record<string, unknown> | null;
  /** null for a tombstone. */
  value: Record<string, any> | null;
  keySchemaId: number | null;
  valueSchemaId: number | null;
}

/** Reads every message of the topics from the beginning and decodes the Confluent-framed Avro exactly (bigint longs). */
export async function readAllEvents(brokers: string[], registryUrl: string, topics: string[], options: { expectAtLeast?: number; idleMs?: number; timeoutMs?: number } = {}): Promise<DecodedEvent[]> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'test-reader' });
  const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}` });
  const types = new Map<number, Type>();
  const typeFor = async (id: number) => {
    let type = types.get(id);
    if (!type) {
      const response = await fetch(`${registryUrl}/schemas/ids/${id}`);
      const body = (await response.json()) as { schema: string };
      type = createAvroType(JSON.parse(body.schema));
      types.set(id, type);
    }
    return type;
  };
  const decode = async (buffer: Buffer | null) => {
    if (!buffer) return { id: null, value: null };
    const { schemaId, payload } = decodeFrame(buffer);
    return { id: schemaId, value: (await typeFor(schemaId)).fromBuffer(payload) as Record<string, any> };
  };
  const events: DecodedEvent[] = [];
  let lastMessageAt = Date.now();
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      lastMessageAt = Date.now();
      const key = await decode(message.key);
      const value = await decode(message.value);
      events.push({ topic, partition, offset: message.offset, key: key.value, value: value.value, keySchemaId: key.id, valueSchemaId: value.id });
    },
  });
  const started = Date.now();
  const idleMs = options.idleMs ?? 1500;
  const timeoutMs = options.timeoutMs ?? 60_000;
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const enough = events.length >= (options.expectAtLeast ?? 0);
    if (enough && Date.now() - lastMessageAt > idleMs) break;
  }
  await consumer.disconnect();
  return events;
}

/**
 * What a compacted topic would keep: the last state of each key (`after` of the last event, or
 * absent after a delete or tombstone).
 */
export function finalStateByKey<K>(events: DecodedEvent[], keyOf: (key: Record<string, unknown>) => K): Map<K, Record<string, any>> {
  const state = new Map<K, Record<string, any>>();
  for (const event of events) {
    if (!event.key) continue;
    const key = keyOf(event.key);
    const after = event.value?.after;
    if (after) state.set(key, after);
    else state.delete(key);
  }
  return state;
}
