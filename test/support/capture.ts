import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Type } from 'avsc';
import { createAvroType } from '../../src/schema/avro-type.js';
import { decodeFrame } from '../../src/schema/wire-format.js';
import type { TestDatabase } from './postgres.js';
import { until } from './until.js';

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

/**
 * Reads every message of the topics, from the beginning up to the partitions' end offsets, and
 * decodes the Confluent-framed Avro exactly (bigint longs). The end offsets are taken when the call
 * starts, or, with `expectAtLeast`, once the topics hold at least that many messages (waited for
 * with until(), so a topic that never gets there fails naming what it holds). Never stops on a
 * quiet spell: it returns exactly the messages below the end offsets, or fails.
 */
export async function readAllEvents(brokers: string[], registryUrl: string, topics: string[], options: { expectAtLeast?: number; timeoutMs?: number } = {}): Promise<DecodedEvent[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'test-reader' });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<string, bigint>;
  try {
    const endOffsets = async () => {
      const result = new Map<string, bigint>();
      let total = 0n;
      for (const topic of topics) {
        for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
          result.set(`${topic}:${partition}`, BigInt(high));
          total += BigInt(high) - BigInt(low);
        }
      }
      return { result, total };
    };
    const expected = BigInt(options.expectAtLeast ?? 0);
    let held = 0n;
    ends = (
      await until(
        async () => {
          const current = await endOffsets();
          held = current.total;
          return current.total >= expected ? current : null;
        },
        { describe: `at least ${expected} messages in ${topics.join(', ')}`, timeoutMs },
      ).catch((error: Error) => {
        throw new Error(`${error.message}; the topics hold ${held}`);
      })
    ).result;
  } finally {
    await admin.disconnect();
  }

  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 500 });
  const types = new Map<number, Type>();
  const typeFor = async (id: number) => {
    let type = types.get(id);
    if (!type) {
      const response = await fetch(`${registryUrl}/schemas/ids/${id}`);
      if (!response.ok) throw new Error(`schema id ${id} is not in the registry at ${registryUrl} (HTTP ${response.status})`);
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
  // Next offset to read per partition; a partition is done once it reaches its end offset.
  const positions = new Map<string, bigint>();
  const remaining = () => [...ends].filter(([partition, end]) => (positions.get(partition) ?? 0n) < end);
  let failure: unknown;
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const id = `${topic}:${partition}`;
        const offset = BigInt(message.offset);
        if (offset >= (ends.get(id) ?? 0n)) return; // written after the end offsets were taken
        positions.set(id, offset + 1n);
        try {
          const key = await decode(message.key);
          const value = await decode(message.value);
          events.push({ topic, partition, offset: message.offset, key: key.value, value: value.value, keySchemaId: key.id, valueSchemaId: value.id });
        } catch (error) {
          failure ??= error;
        }
      },
    });
    const describeEnds = () => [...ends].map(([id, end]) => `${id} ${positions.get(id) ?? 0n}/${end}`).join(', ');
    await until(() => failure !== undefined || remaining().length === 0, {
      describe: `reading ${topics.join(', ')} up to its end offsets (read/end when the reader started: ${describeEnds()})`,
      timeoutMs,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; read/end now: ${describeEnds()}`);
    });
  } finally {
    await consumer.disconnect();
  }
  if (failure !== undefined) throw failure;
  return events;
}

/**
 * Waits until capture (in this process or a child) finished the snapshots of `tables` and confirmed
 * its slot (tandem_<connector>) up to the WAL's end at the call: Kafka then holds every row and
 * every change up to there, since capture confirms only what Kafka acknowledged. Counting messages
 * instead would stop early when replays after a crash add duplicates.
 */
export async function waitUntilCaptured(db: TestDatabase, connector: string, tables: string[], timeoutMs = 120_000): Promise<void> {
  await until(
    async () => {
      const [row] = await db.sql<{ done: string[] | null }>(`SELECT ARRAY(SELECT jsonb_array_elements_text(state->'snapshot'->'done')) AS done FROM _tandem.capture_state WHERE connector = $1`, [connector]);
      return row?.done && tables.every((table) => row.done!.includes(table));
    },
    { describe: `the snapshots of ${tables.join(', ')} recorded as done for connector ${connector}`, timeoutMs, intervalMs: 100 },
  );
  const [{ lsn }] = (await db.sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
  await until(
    async () => (await db.sql<{ caught_up: boolean }>(`SELECT confirmed_flush_lsn >= $1::pg_lsn AS caught_up FROM pg_replication_slots WHERE slot_name = $2`, [lsn, `tandem_${connector}`]))[0]?.caught_up,
    { describe: `slot tandem_${connector} confirmed up to ${lsn}`, timeoutMs, intervalMs: 100 },
  );
}

/**
 * The events without the replays capture may send after a restart (at-least-once): a change is
 * identified by its (commit LSN, position in the transaction), a snapshot read by its table and
 * key; the first copy is kept. Tombstones follow their delete.
 */
export function withoutReplays(events: DecodedEvent[]): DecodedEvent[] {
  const seen = new Set<string>();
  let keepTombstone = false;
  return events.filter((event) => {
    if (event.value === null) return keepTombstone;
    const source = event.value.source as { commitLsn?: bigint | null; sequence?: bigint | number; table?: string };
    const identity = event.value.op === 'r' ? `r:${event.topic}:${JSON.stringify(event.key, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}` : `${String(source.commitLsn)}:${String(source.sequence)}:${event.partition}`;
    keepTombstone = !seen.has(identity);
    seen.add(identity);
    return keepTombstone;
  });
}

/**
 * The events in source commit order (commit LSN, then position in the transaction). Kafka orders
 * within a partition only, and readAllEvents returns partitions as the consumer fetched them; a
 * tombstone stays right after the delete before it in its partition.
 */
export function inCommitOrder(events: DecodedEvent[]): DecodedEvent[] {
  const units: DecodedEvent[][] = [];
  const lastUnit = new Map<string, DecodedEvent[]>();
  const byOffset = [...events].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  for (const event of byOffset) {
    const partition = `${event.topic}:${event.partition}`;
    const previous = lastUnit.get(partition);
    if (event.value === null && previous) previous.push(event);
    else {
      const unit = [event];
      units.push(unit);
      lastUnit.set(partition, unit);
    }
  }
  const position = (unit: DecodedEvent[]): [bigint, bigint] => {
    const source = unit[0]!.value?.source as { commitLsn?: bigint; sequence?: bigint | number } | undefined;
    return [BigInt(source?.commitLsn ?? 0n), BigInt(source?.sequence ?? 0)];
  };
  units.sort((a, b) => {
    const [lsnA, seqA] = position(a);
    const [lsnB, seqB] = position(b);
    return lsnA !== lsnB ? (lsnA < lsnB ? -1 : 1) : seqA !== seqB ? (seqA < seqB ? -1 : 1) : 0;
  });
  return units.flat();
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
