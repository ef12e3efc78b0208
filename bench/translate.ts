/**
 * npx tsx bench/translate.ts [--events N] [--steady-seconds S] — translate throughput and lag:
 *
 *   (a) tandem translate applying N change events pre-filled into a 3-partition topic (upserts over
 *       N/5 keys with 10% deletes, a 9-column row of ~200 bytes, Confluent-framed Avro exactly as
 *       capture writes it), timed from the worker's start until the offsets stored in the target
 *       reach the topic's end;
 *   (b) the database's own limit on this machine: the same final rows written by one direct COPY +
 *       INSERT … SELECT … ON CONFLICT (+ DELETE) per 10k events, with no Kafka and no Avro;
 *   (c) end-to-end lag under a steady 5k changes/s source load with capture running: source row
 *       written (clock_timestamp() in legacy) → applied (clock_timestamp() in the mapping), p50/p99.
 *
 * Broker and registry run in their own processes (`tandem broker`, `tandem registry`); PostgreSQL is
 * the embedded one, legacy and target as two databases. Prints figures, asserts nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { startCapture } from '../src/capture/worker.js';
import { parseConnector } from '../src/config/load.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { createLogger } from '../src/observability/logger.js';
import { createCaptureMetrics } from '../src/observability/metrics.js';
import { createAvroType } from '../src/schema/avro-type.js';
import { toAvroKey, toAvroRow } from '../src/schema/avro-values.js';
import { readTableDefinition } from '../src/schema/catalog-reader.js';
import { deriveSchemas } from '../src/schema/derive.js';
import { createRegistryClient } from '../src/schema/registry-client.js';
import { encodeFrame } from '../src/schema/wire-format.js';
import { createTranslateMetrics } from '../src/translate/metrics.js';
import { startTranslate } from '../src/translate/worker.js';
import { startPeer } from './peers/process.js';

const { values: options } = parseArgs({
  options: {
    events: { type: 'string', default: process.env.EVENTS ?? '1000000' },
    'steady-seconds': { type: 'string', default: '20' },
    'steady-rate': { type: 'string', default: '5000' },
  },
});
const EVENTS = Number(options.events);
const KEYS = Math.max(10, Math.floor(EVENTS / 5));
const CHUNK = 10_000;
const STEADY_SECONDS = Number(options['steady-seconds']);
const STEADY_RATE = Number(options['steady-rate']);
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const logger = createLogger({ level: 'warn', pretty: false });

const COLUMNS = `id bigint PRIMARY KEY, customer_id int NOT NULL, sku text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL,
  status text NOT NULL, note text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL`;
const TARGET_COLUMNS = `id bigint PRIMARY KEY, customer_id int NOT NULL, sku text NOT NULL, qty int NOT NULL, price_cents bigint NOT NULL,
  status text NOT NULL, note text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL`;
const EXPRESSIONS = { sku: 'lower(sku)', price_cents: 'round(price * 100)', status: "CASE status WHEN 'N' THEN 'new' WHEN 'S' THEN 'shipped' ELSE 'other' END" };

/** xorshift: the same event sequence for (a) and (b). */
function random(seed: number) {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

type Row = Record<string, string>;
interface BenchEvent {
  key: number;
  row: Row | null;
}

function generate(): BenchEvent[] {
  const next = random(42);
  const live = new Set<number>();
  const events: BenchEvent[] = [];
  for (let index = 0; index < EVENTS; index++) {
    const key = 1 + Math.floor(next() * KEYS);
    if (live.has(key) && next() < 0.1) {
      live.delete(key);
      events.push({ key, row: null });
      continue;
    }
    live.add(key);
    const stamp = `2024-0${1 + (index % 9)}-1${index % 10} 1${index % 10}:00:00+00`;
    events.push({
      key,
      row: { id: String(key), customer_id: String(key % 5000), sku: `SKU-${(key * 7919) % 100000}-ABC`, qty: String(1 + (index % 20)), price: `${1 + Math.floor((index % 10000) / 100)}.${String(index % 100).padStart(2, "0")}`, status: index % 3 === 0 ? 'N' : 'S', note: index % 4 === 0 ? null! : `note for ${key}: ${'x'.repeat(40)}`, created_at: stamp, updated_at: stamp },
    });
  }
  return events;
}

async function main() {
  const postgres = await startEmbeddedPostgres();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-bench-translate-'));
  const children: { stop(): Promise<void> }[] = [];
  const child = async (args: string[], ready: RegExp) => {
    const peer = startPeer(process.execPath, [path.join(repoRoot, 'bin/tandem.js'), ...args], { name: `tandem ${args[0]}` });
    children.push(peer);
    return ready.exec(await peer.line(ready, 60_000))![1]!;
  };
  try {
    const broker = await child(['broker', '--port', '0', '--data-dir', path.join(dataDir, 'broker'), '--fsync', 'interval'], /(127\.0\.0\.1:\d+)/);
    const registryUrl = await child(['registry', '--port', '0', '--data-dir', path.join(dataDir, 'registry')], /(http:\/\/127\.0\.0\.1:\d+)/);
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('CREATE DATABASE legacy');
    await admin.query('CREATE DATABASE app');
    await admin.end();
    const legacyUrl = postgres.urlFor('legacy');
    const targetUrl = postgres.urlFor('app');
    const sql = async (url: string, text: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(text)).rows;
      } finally {
        await client.end();
      }
    };
    await sql(legacyUrl, `CREATE SCHEMA legacy; CREATE TABLE legacy.orders (${COLUMNS}); CREATE TABLE legacy.live (id bigint PRIMARY KEY, v int NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp());`);
    await sql(targetUrl, `CREATE SCHEMA app; CREATE TABLE app.orders (${TARGET_COLUMNS}); CREATE TABLE app.orders_direct (${TARGET_COLUMNS});
      CREATE TABLE app.live (id bigint PRIMARY KEY, v int NOT NULL, written_at timestamptz NOT NULL, applied_at timestamptz NOT NULL);`);

    console.log(`generating ${EVENTS} change events over ${KEYS} keys (10% deletes)…`);
    const events = generate();

    // (a) pre-fill the topic as capture would, then time translate.
    const connector = parseConnector({
      name: 'bench',
      source: { url: legacyUrl, schema: 'legacy', tables: ['legacy.orders'] },
      kafka: { brokers: [broker], topicPrefix: 'bench' },
      registry: { url: registryUrl },
      target: { url: targetUrl, schema: 'app' },
      mappings: { 'legacy.orders': { to: 'app.orders', columns: EXPRESSIONS } },
      translate: { concurrency: 3 },
    });
    const catalog = new pg.Client({ connectionString: legacyUrl });
    await catalog.connect();
    const definition = await readTableDefinition(catalog, 'legacy', 'orders');
    await catalog.end();
    const derived = deriveSchemas(definition, { topicPrefix: 'bench' });
    const registry = createRegistryClient({ url: registryUrl });
    const keyId = await registry.register(`${derived.topic}-key`, derived.keySchema);
    const valueId = await registry.register(`${derived.topic}-value`, derived.valueSchema);
    const keyType = createAvroType(derived.keySchema);
    const valueType = createAvroType(derived.valueSchema);
    const kafka = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic: derived.topic, numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    const fillStarted = performance.now();
    for (let start = 0; start < events.length; start += CHUNK) {
      const messages = events.slice(start, start + CHUNK).map((event, offset) => {
        const index = start + offset;
        const row = event.row ?? { id: String(event.key) };
        const source = { connector: 'bench', lsn: BigInt(index + 1), commitLsn: BigInt(index + 1), sequence: 0n, txId: BigInt(index + 1), tsMs: BigInt(Date.now()), schema: 'legacy', table: 'orders', snapshot: false };
        const envelope = {
          before: event.row ? null : toAvroRow(definition, Object.fromEntries(definition.columns.map((column) => [column.name, column.name === 'id' ? row.id : column.nullable ? null : emptyText(column.declaredType)]))).row,
          after: event.row ? toAvroRow(definition, event.row).row : null,
          op: event.row ? 'u' : 'd',
          source,
          tsMs: BigInt(Date.now()),
          unchangedToastColumns: [],
        };
        return { key: encodeFrame(keyId, keyType.toBuffer(toAvroKey(definition, row))), value: encodeFrame(valueId, valueType.toBuffer(envelope)) };
      });
      await producer.send({ topic: derived.topic, acks: -1, messages });
    }
    await producer.disconnect();
    const ends = await kafkaAdmin.fetchTopicOffsets(derived.topic);
    await kafkaAdmin.disconnect();
    const total = ends.reduce((sum, item) => sum + Number(item.high), 0);
    console.log(`topic pre-filled: ${total} messages in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

    const applyStarted = performance.now();
    const worker = await startTranslate(connector, { logger, metrics: createTranslateMetrics() });
    const target = new pg.Client({ connectionString: targetUrl });
    await target.connect();
    for (;;) {
      const { rows } = await target.query<{ applied: string | null }>('SELECT sum(next_offset)::text AS applied FROM tandem.translate_offsets');
      if (Number(rows[0]?.applied ?? 0) >= total) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const translateSeconds = (performance.now() - applyStarted) / 1000;
    await worker.stop();
    const { rows: batchStats } = await target.query<{ batches: string; average: string }>('SELECT count(*)::text AS batches, round(avg(last_offset - first_offset + 1))::text AS average FROM tandem.translate_batches');

    // (b) the same final rows, straight into PostgreSQL.
    await target.query(`CREATE TEMP TABLE direct_stage (op text, id bigint, customer_id int, sku text, qty int, price numeric(10,2), status text, note text, created_at timestamptz, updated_at timestamptz)`);
    const directStarted = performance.now();
    for (let start = 0; start < events.length; start += CHUNK) {
      const last = new Map<number, BenchEvent>();
      for (const event of events.slice(start, start + CHUNK)) {
        last.delete(event.key);
        last.set(event.key, event);
      }
      const lines = [...last.values()].map((event) => {
        const row = event.row;
        if (!row) return `d\t${event.key}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N`;
        return ['u', row.id, row.customer_id, row.sku, row.qty, row.price, row.status, row.note ?? '\\N', row.created_at, row.updated_at].join('\t');
      });
      await target.query('BEGIN');
      await copyText(target, 'COPY direct_stage FROM STDIN', `${lines.join('\n')}\n`);
      await target.query(`INSERT INTO app.orders_direct SELECT id, customer_id, lower(sku), qty, round(price * 100), CASE status WHEN 'N' THEN 'new' WHEN 'S' THEN 'shipped' ELSE 'other' END, note, created_at, updated_at
        FROM direct_stage WHERE op = 'u' ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, sku = EXCLUDED.sku, qty = EXCLUDED.qty, price_cents = EXCLUDED.price_cents,
        status = EXCLUDED.status, note = EXCLUDED.note, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`);
      await target.query(`DELETE FROM app.orders_direct d USING direct_stage s WHERE s.op = 'd' AND d.id = s.id`);
      await target.query('TRUNCATE direct_stage');
      await target.query('COMMIT');
    }
    const directSeconds = (performance.now() - directStarted) / 1000;
    const same = await target.query<{ differ: string }>(`SELECT count(*)::text AS differ FROM ((TABLE app.orders EXCEPT TABLE app.orders_direct) UNION ALL (TABLE app.orders_direct EXCEPT TABLE app.orders)) d`);
    const rows = await target.query<{ n: string }>('SELECT count(*)::text AS n FROM app.orders');

    // (c) steady load with capture running.
    const liveConnector = parseConnector({
      name: 'live',
      source: { url: legacyUrl, schema: 'legacy', tables: ['legacy.live'] },
      kafka: { brokers: [broker], topicPrefix: 'live' },
      registry: { url: registryUrl },
      target: { url: targetUrl, schema: 'app' },
      mappings: { 'legacy.live': { to: 'app.live', columns: { applied_at: 'clock_timestamp()' } } },
      capture: { snapshot: 'never', metricsPort: 0 },
    });
    const capture = await startCapture(liveConnector, { logger, metrics: createCaptureMetrics(), registry });
    const live = await startTranslate(liveConnector, { logger, metrics: createTranslateMetrics() });
    const writer = new pg.Client({ connectionString: legacyUrl });
    await writer.connect();
    const perTick = Math.max(1, Math.round(STEADY_RATE / 100));
    const steadyStarted = performance.now();
    let written = 0;
    while (performance.now() - steadyStarted < STEADY_SECONDS * 1000) {
      const due = Math.floor(((performance.now() - steadyStarted) / 1000) * STEADY_RATE);
      if (written < due) {
        const batch = Math.min(perTick, due - written);
        await writer.query('INSERT INTO legacy.live (id, v) SELECT g, 1 FROM generate_series($1::bigint, $2::bigint) g', [written + 1, written + batch]);
        written += batch;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    const achieved = written / ((performance.now() - steadyStarted) / 1000);
    for (;;) {
      const { rows: count } = await target.query<{ n: string }>('SELECT count(*)::text AS n FROM app.live');
      if (Number(count[0]!.n) >= written) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows: lag } = await target.query<{ p50: number; p99: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)) AS p99 FROM app.live`,
    );
    await writer.end();
    await live.stop();
    await capture.stop();
    await target.end();

    const rate = (count: number, seconds: number) => `${Math.round(count / seconds).toLocaleString('en-US')} events/s`;
    console.log('');
    console.log(`(a) tandem translate:        ${EVENTS} events in ${translateSeconds.toFixed(1)} s = ${rate(EVENTS, translateSeconds)}`);
    console.log(`    ${batchStats[0]!.batches} batches of ${batchStats[0]!.average} events on average`);
    console.log(`(b) direct COPY + upsert:    ${EVENTS} events in ${directSeconds.toFixed(1)} s = ${rate(EVENTS, directSeconds)}`);
    console.log(`    ratio (a)/(b): ${(directSeconds / translateSeconds).toFixed(2)} (target ≥ 0.7); final rows ${rows.rows[0]!.n}, rows differing between (a) and (b): ${same.rows[0]!.differ}`);
    console.log(`(c) steady load ${Math.round(achieved)} changes/s for ${STEADY_SECONDS} s, capture + translate: end-to-end lag p50 ${(lag[0]!.p50 * 1000).toFixed(0)} ms, p99 ${(lag[0]!.p99 * 1000).toFixed(0)} ms (target p99 < 1 s)`);
    console.log('    Debezium JDBC sink peer: not run by this benchmark yet.');
  } finally {
    for (const running of children.reverse()) await running.stop().catch(() => undefined);
    await postgres.stop();
  }
}

function emptyText(type: string): string {
  if (/int|numeric/.test(type)) return '0';
  if (/timestamp/.test(type)) return '1970-01-01 00:00:00+00';
  return '';
}

function copyText(client: pg.Client, text: string, data: string): Promise<number> {
  return import('../src/translate/copy.js').then(({ copyFrom }) => copyFrom(client, text, Buffer.from(data)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
