/**
 * npm run bench:translate [-- --events N] [--only …] — translate throughput and lag, with its peers, in one run:
 *
 *   direct           the database's own limit on this machine: the same final rows written by one direct
 *                    COPY + INSERT … SELECT … ON CONFLICT (+ DELETE) per 10k events, no Kafka, no Avro;
 *   tandem-embedded  `tandem translate` (its own process) applying N change events pre-filled into a
 *                    3-partition topic of the embedded broker (upserts over N/5 keys with 10% deletes, a
 *                    9-column row of ~200 bytes, Confluent-framed Avro exactly as capture writes it),
 *                    timed from the process's spawn until the offsets stored in the target reach the
 *                    topic's end (its startup — module loading, validation, group join — is also shown);
 *   tandem-apache    tandem translate as above, from the same events in Apache Kafka
 *                    (scripts/apache-kafka.sh, one KRaft node);
 *   debezium         Debezium's JDBC sink connector (Kafka Connect standalone, bench/peers/debezium:
 *                    insert.mode upsert, delete.enabled, primary key from the record key, batch.size and
 *                    the reduction buffer on) applying the same N events 1:1 into a table of legacy's
 *                    shape, from the same Apache Kafka. Its topic holds Debezium change events as
 *                    JSON with schemas (JsonConverter, schemas.enable), written by this benchmark from
 *                    the same event sequence (the envelope, schemas and value encodings of Debezium's
 *                    PostgreSQL source: Decimal as base64 bytes, timestamptz as ZonedTimestamp; a
 *                    delete is an op 'd' event, no tombstone after it). Timed from the JVM's start and
 *                    from its connector's start until the target table has the expected rows (count,
 *                    then an md5 over all rows);
 *   lag              end-to-end lag under a steady 5k changes/s source load (inserts, 50 rows per
 *                    statement every 10 ms, larger when behind) with `tandem capture` and
 *                    `tandem translate` running in their own processes (embedded broker): source row
 *                    written (clock_timestamp() in legacy) → applied (clock_timestamp() in the
 *                    mapping), p50/p99 of all rows and of those written after --steady-warmup
 *                    seconds (5; the target is judged on these), and both by 5-second window.
 *
 * tandem's translate maps (lower(sku), price → cents, a CASE); Debezium copies columns 1:1 (it has no
 * mapping). Every contender's final rows are checked against the expected final state (md5 over all
 * rows). Every process runs on its own (tandem's workers, broker and registry, Apache Kafka, Kafka
 * Connect); PostgreSQL is the embedded one, legacy and each target as databases. The contenders run
 * one after another, direct first, the topics filled before any of them (untimed). Prints figures
 * with `uptime`'s load average, asserts nothing.
 *
 * Options: --events N (default 1M), --only direct,tandem-embedded,tandem-apache,debezium,lag (a
 * subset), --steady-seconds S (20), --steady-rate R (5000), --debezium-batch-size B (its batch.size
 * and max.poll.records, 500 = its default), --debezium-tasks T (3, one per partition, as tandem's
 * translate.concurrency), --runs R (direct and both tandem contenders R times, interleaved, each
 * in a fresh target database; the table shows medians, the notes every run), --steady-warmup S,
 * --cpu-prof DIR (V8 CPU profiles of the tandem translate processes in DIR/<contender>-<run>/,
 * written when they stop: summarise the largest file of a folder with
 * `npx tsx bench/cpu-profile-summary.ts FILE`). A CHECKPOINT precedes every timed contender.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { parseConnector } from '../src/config/load.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { createAvroType } from '../src/schema/avro-type.js';
import { toAvroKey, toAvroRow } from '../src/schema/avro-values.js';
import { readTableDefinition } from '../src/schema/catalog-reader.js';
import { deriveSchemas } from '../src/schema/derive.js';
import { createRegistryClient } from '../src/schema/registry-client.js';
import { encodeFrame } from '../src/schema/wire-format.js';
import { copyFrom } from '../src/translate/copy.js';
import { startApacheKafka, type ApacheKafka } from './peers/apache-kafka.js';
import { fetchDebezium, startDebeziumSink } from './peers/debezium.js';
import { processCpuSeconds, startPeer } from './peers/process.js';

const CONTENDERS = ['direct', 'tandem-embedded', 'tandem-apache', 'debezium', 'lag'] as const;
type Contender = (typeof CONTENDERS)[number];
const { values: options } = parseArgs({
  options: {
    events: { type: 'string', default: process.env.EVENTS ?? '1000000' },
    only: { type: 'string', default: CONTENDERS.join(',') },
    'steady-seconds': { type: 'string', default: '20' },
    'steady-rate': { type: 'string', default: '5000' },
    /** Rows written in the first seconds of the steady load (workers warming up) are shown apart from the steady percentiles. */
    'steady-warmup': { type: 'string', default: '5' },
    /** direct, tandem-embedded and tandem-apache this many times, interleaved; the table shows each one's median run. */
    runs: { type: 'string', default: '1' },
    'debezium-batch-size': { type: 'string', default: '500' },
    'debezium-tasks': { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const only = new Set(options.only.split(',').map((name) => name.trim()));
for (const name of only) if (!(CONTENDERS as readonly string[]).includes(name)) throw new Error(`--only takes a comma-separated list of ${CONTENDERS.join(', ')}, not '${name}'`);
const runs = (contender: Contender) => only.has(contender);
const integer = (name: string, text: string, min: number) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, not '${text}'`);
  return value;
};
const EVENTS = integer('events', options.events, 10);
const KEYS = Math.max(10, Math.floor(EVENTS / 5));
const CHUNK = 10_000;
const STEADY_SECONDS = integer('steady-seconds', options['steady-seconds'], 1);
const STEADY_RATE = integer('steady-rate', options['steady-rate'], 1);
const STEADY_WARMUP = integer('steady-warmup', options['steady-warmup'], 0);
const RUNS = integer('runs', options.runs, 1);
const DEBEZIUM_BATCH = integer('debezium-batch-size', options['debezium-batch-size'], 1);
const DEBEZIUM_TASKS = integer('debezium-tasks', options['debezium-tasks'], 1);
const PARTITIONS = 3;
/** Bytes per produce request to Apache Kafka: its record batches stay under message.max.bytes (1 MB) per partition. */
const APACHE_REQUEST_BYTES = 1_500_000;
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const COLUMNS = `id bigint PRIMARY KEY, customer_id int NOT NULL, sku text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL,
  status text NOT NULL, note text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL`;
const TARGET_COLUMNS = `id bigint PRIMARY KEY, customer_id int NOT NULL, sku text NOT NULL, qty int NOT NULL, price_cents bigint NOT NULL,
  status text NOT NULL, note text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL`;
const EXPRESSIONS = { sku: 'lower(sku)', price_cents: 'round(price * 100)', status: "CASE status WHEN 'N' THEN 'new' WHEN 'S' THEN 'shipped' ELSE 'other' END" };
/** The mapped projection of a legacy-shaped relation, for the expected digest. */
const MAPPED = `SELECT id, customer_id, ${EXPRESSIONS.sku} AS sku, qty, ${EXPRESSIONS.price_cents} AS price_cents, ${EXPRESSIONS.status} AS status, note, created_at, updated_at`;
const digestOf = (relation: string, priceColumn: 'price' | 'price_cents') =>
  `SELECT count(*)::text AS n, coalesce(md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s', id, customer_id, sku, qty, ${priceColumn}, status, note, created_at, updated_at), ',' ORDER BY id)), '') AS digest FROM ${relation}`;

/** xorshift: the same event sequence for every contender. */
function random(seed: number) {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

type Row = Record<string, string | null>;
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
      row: { id: String(key), customer_id: String(key % 5000), sku: `SKU-${(key * 7919) % 100000}-ABC`, qty: String(1 + (index % 20)), price: `${1 + Math.floor((index % 10000) / 100)}.${String(index % 100).padStart(2, '0')}`, status: index % 3 === 0 ? 'N' : 'S', note: index % 4 === 0 ? null : `note for ${key}: ${'x'.repeat(40)}`, created_at: stamp, updated_at: stamp },
    });
  }
  return events;
}

// ---- Debezium change events as JSON with schemas (what Debezium's PostgreSQL source writes with JsonConverter, schemas.enable=true)

const field = (name: string, type: string, optional: boolean, extra: Record<string, unknown> = {}) => ({ type, optional, field: name, ...extra });
const DBZ_ROW_FIELDS = [
  field('id', 'int64', false),
  field('customer_id', 'int32', false),
  field('sku', 'string', false),
  field('qty', 'int32', false),
  field('price', 'bytes', false, { name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '10' } }),
  field('status', 'string', false),
  field('note', 'string', true),
  field('created_at', 'string', false, { name: 'io.debezium.time.ZonedTimestamp', version: 1 }),
  field('updated_at', 'string', false, { name: 'io.debezium.time.ZonedTimestamp', version: 1 }),
];
const DBZ_KEY_SCHEMA = JSON.stringify({ type: 'struct', fields: [field('id', 'int64', false)], optional: false, name: 'dbz.legacy.orders.Key' });
const DBZ_VALUE_SCHEMA = JSON.stringify({
  type: 'struct',
  fields: [
    { type: 'struct', fields: DBZ_ROW_FIELDS, optional: true, name: 'dbz.legacy.orders.Value', field: 'before' },
    { type: 'struct', fields: DBZ_ROW_FIELDS, optional: true, name: 'dbz.legacy.orders.Value', field: 'after' },
    {
      type: 'struct',
      fields: [
        field('version', 'string', false),
        field('connector', 'string', false),
        field('name', 'string', false),
        field('ts_ms', 'int64', false),
        field('snapshot', 'string', true, { name: 'io.debezium.data.Enum', version: 1, parameters: { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' }, default: 'false' }),
        field('db', 'string', false),
        field('sequence', 'string', true),
        field('schema', 'string', false),
        field('table', 'string', false),
        field('txId', 'int64', true),
        field('lsn', 'int64', true),
        field('xmin', 'int64', true),
      ],
      optional: false,
      name: 'io.debezium.connector.postgresql.Source',
      field: 'source',
    },
    field('op', 'string', false),
    field('ts_ms', 'int64', true),
  ],
  optional: false,
  name: 'dbz.legacy.orders.Envelope',
  version: 2,
});

/** Connect's Decimal in JSON: the unscaled value as big-endian two's complement bytes, base64. */
function decimalBase64(text: string, scale: number): string {
  const [whole = '0', fraction = ''] = text.split('.');
  let unscaled = BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale));
  const negative = unscaled < 0n;
  let bytes = 1;
  while (negative ? unscaled < -(1n << BigInt(8 * bytes - 1)) : unscaled >= 1n << BigInt(8 * bytes - 1)) bytes++;
  if (negative) unscaled += 1n << BigInt(8 * bytes);
  return Buffer.from(unscaled.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}

/** '2024-01-10 10:00:00+00' → Debezium's ZonedTimestamp '2024-01-10T10:00:00Z'. */
const zoned = (stamp: string) => new Date(stamp.replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString().replace('.000Z', 'Z');

function debeziumRow(row: Row) {
  return { id: Number(row.id), customer_id: Number(row.customer_id), sku: row.sku, qty: Number(row.qty), price: decimalBase64(row.price!, 2), status: row.status, note: row.note, created_at: zoned(row.created_at!), updated_at: zoned(row.updated_at!) };
}

function debeziumMessage(event: BenchEvent, index: number): { key: string; value: string } {
  const now = Date.now();
  const source = { version: '3.6.1.Final', connector: 'postgresql', name: 'dbz', ts_ms: now, snapshot: 'false', db: 'legacy', sequence: null, schema: 'legacy', table: 'orders', txId: index + 1, lsn: index + 1, xmin: null };
  // A delete's `before` carries the key (REPLICA IDENTITY DEFAULT) and the non-optional columns' defaults, as Debezium writes it.
  const payload = event.row
    ? { before: null, after: debeziumRow(event.row), source, op: 'u', ts_ms: now }
    : { before: { id: event.key, customer_id: 0, sku: '', qty: 0, price: decimalBase64('0', 2), status: '', note: null, created_at: '1970-01-01T00:00:00Z', updated_at: '1970-01-01T00:00:00Z' }, after: null, source, op: 'd', ts_ms: now };
  return { key: `{"schema":${DBZ_KEY_SCHEMA},"payload":{"id":${event.key}}}`, value: `{"schema":${DBZ_VALUE_SCHEMA},"payload":${JSON.stringify(payload)}}` };
}

// ---- helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg().map((value) => value.toFixed(2)).join(', ')}`;
  }
};
const load1 = () => loadavg()[0]!.toFixed(1);

async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number, alive?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    const dead = alive?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Sends messages in order, one request at a time, each at most `maxBytes` (0: `CHUNK` messages). */
async function produceInOrder(producer: Producer, topic: string, messages: { key: Buffer | string; value: Buffer | string }[], maxBytes: number): Promise<void> {
  let start = 0;
  while (start < messages.length) {
    let end = start;
    let bytes = 0;
    while (end < messages.length && (maxBytes === 0 ? end - start < CHUNK : bytes < maxBytes || end === start)) {
      bytes += messages[end]!.value.length + messages[end]!.key.length;
      end++;
    }
    await producer.send({ topic, acks: -1, messages: messages.slice(start, end) });
    start = end;
  }
}

interface Result {
  contender: Contender | 'debezium-jvm';
  run: number;
  name: string;
  broker: string;
  seconds: number;
  events: number;
  cpuSeconds?: number;
  /** tandem: from the process's spawn until it logged "translate running". */
  startupSeconds?: number;
  load: string;
  note?: string;
}

async function main() {
  const startedAt = new Date();
  console.log(`bench:translate — ${EVENTS.toLocaleString('en-US')} events, contenders: ${[...only].join(', ')}`);
  console.log(`uptime at start: ${uptime()}`);
  const needsApache = runs('tandem-apache') || runs('debezium');
  const needsEmbedded = runs('tandem-embedded') || runs('lag');
  const connectVersion = runs('debezium') ? (await fetchDebezium()).connectVersion : undefined;
  const postgres = await startEmbeddedPostgres();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-bench-translate-'));
  const stops: (() => Promise<unknown>)[] = [() => postgres.stop()];
  const child = async (args: string[], ready: RegExp) => {
    const peer = startPeer(process.execPath, [path.join(repoRoot, 'bin/tandem.js'), ...args], { name: `tandem ${args[0]}` });
    stops.push(() => peer.stop());
    return ready.exec(await peer.line(ready, 60_000))![1]!;
  };
  const results: Result[] = [];
  /** Keeps a result and prints it at once (a run cut short still shows what it measured). */
  const record = (result: Result) => {
    results.push(result);
    console.log(`  ${result.name}${result.broker === '–' ? '' : ` ← ${result.broker}`}: ${result.seconds.toFixed(1)} s, ${Math.round(result.events / result.seconds).toLocaleString('en-US')} events/s${result.cpuSeconds === undefined ? '' : `, ${result.cpuSeconds.toFixed(1)} CPU s`}, load ${result.load}`);
  };
  const checks: string[] = [];
  let lagLine: string | undefined;
  let apacheKafka: ApacheKafka | undefined;
  const profileDir = options['cpu-prof'];
  try {
    const broker = needsEmbedded ? await child(['broker', '--port', '0', '--data-dir', path.join(dataDir, 'broker'), '--fsync', 'interval'], /(127\.0\.0\.1:\d+)/) : undefined;
    const registryUrl = await child(['registry', '--port', '0', '--data-dir', path.join(dataDir, 'registry')], /(http:\/\/127\.0\.0\.1:\d+)/);
    if (needsApache) {
      apacheKafka = await startApacheKafka(repoRoot, path.join(dataDir, 'apache-kafka'));
      stops.push(() => apacheKafka!.stop());
      await warmUp(apacheKafka.address);
      console.log(`Apache Kafka ${apacheKafka.version} on ${apacheKafka.address}${connectVersion ? `, Debezium 3.6.1 JDBC sink on Kafka Connect ${connectVersion}` : ''}`);
    }
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    for (const database of ['legacy', 'app', 'sink']) await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const legacyUrl = postgres.urlFor('legacy');
    const sql = async <T extends pg.QueryResultRow = Record<string, string>>(url: string, text: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<T>(text)).rows;
      } finally {
        await client.end();
      }
    };
    await sql(legacyUrl, `CREATE SCHEMA legacy; CREATE TABLE legacy.orders (${COLUMNS}); CREATE TABLE legacy.live (id bigint PRIMARY KEY, v int NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp());`);
    await sql(postgres.urlFor('app'), `CREATE SCHEMA app; CREATE TABLE app.orders_direct (${TARGET_COLUMNS}); CREATE TABLE app.orders_expected (${COLUMNS});
      CREATE TABLE app.live (id bigint PRIMARY KEY, v int NOT NULL, written_at timestamptz NOT NULL, applied_at timestamptz NOT NULL);`);
    // Debezium's sink copies 1:1: the target has legacy's shape (created here, schema.evolution none).
    await sql(postgres.urlFor('sink'), `CREATE SCHEMA app; CREATE TABLE app.orders (${COLUMNS});`);

    console.log(`generating ${EVENTS.toLocaleString('en-US')} change events over ${KEYS.toLocaleString('en-US')} keys (10% deletes)…`);
    let events = generate();

    // The expected final state (untimed), and its digests: legacy's shape (Debezium) and mapped (tandem, direct).
    const app = new pg.Client({ connectionString: postgres.urlFor('app') });
    await app.connect();
    {
      const last = new Map<number, Row | null>();
      for (const event of events) last.set(event.key, event.row);
      const lines: string[] = [];
      for (const row of last.values()) if (row) lines.push([row.id, row.customer_id, row.sku, row.qty, row.price, row.status, row.note ?? '\\N', row.created_at, row.updated_at].join('\t'));
      await copyFrom(app, 'COPY app.orders_expected FROM STDIN', Buffer.from(`${lines.join('\n')}\n`));
    }
    const expectedRaw = (await app.query<{ n: string; digest: string }>(digestOf('app.orders_expected', 'price'))).rows[0]!;
    const expectedMapped = (await app.query<{ n: string; digest: string }>(digestOf(`(${MAPPED} FROM app.orders_expected) mapped`, 'price_cents'))).rows[0]!;
    console.log(`expected final state: ${Number(expectedRaw.n).toLocaleString('en-US')} rows`);
    const check = async (label: string, url: string, relation: string, mapped: boolean) => {
      const got = (await sql<{ n: string; digest: string }>(url, digestOf(relation, mapped ? 'price_cents' : 'price')))[0]!;
      const want = mapped ? expectedMapped : expectedRaw;
      checks.push(`${label}: ${Number(got.n).toLocaleString('en-US')} rows, ${got.digest === want.digest ? 'equal to the expected final state (md5 over all rows)' : `DIFFERENT from the expected final state (${want.n} rows)`}`);
    };

    // ---- fill the topics (untimed): tandem's Avro into the embedded broker and/or Apache Kafka, Debezium's JSON into Apache Kafka.
    const connectorInput = (name: string, brokerAddress: string, targetUrl: string) => ({
      name,
      source: { url: legacyUrl, schema: 'legacy', tables: ['legacy.orders'] },
      kafka: { brokers: [brokerAddress], topicPrefix: 'bench' },
      registry: { url: registryUrl },
      target: { url: targetUrl, schema: 'app' },
      mappings: { 'legacy.orders': { to: 'app.orders', columns: EXPRESSIONS } },
      translate: { concurrency: PARTITIONS },
    });
    parseConnector(connectorInput('bench', 'localhost:9092', postgres.urlFor('app')));
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
    const avroMessage = (event: BenchEvent, index: number) => {
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
    };
    interface Sink {
      label: string;
      kafka: Kafka;
      producer?: Producer;
      maxBytes: number;
    }
    const openSink = async (label: string, address: string, topics: string[], maxBytes: number): Promise<Sink> => {
      const kafka = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING });
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      await kafkaAdmin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS })) });
      await kafkaAdmin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      return { label, kafka, producer, maxBytes };
    };
    const topicSize = async (kafka: Kafka, topic: string) => {
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      try {
        return (await kafkaAdmin.fetchTopicOffsets(topic)).reduce((sum, item) => sum + Number(item.high), 0);
      } finally {
        await kafkaAdmin.disconnect();
      }
    };
    // The Avro and the JSON topics fill at the same time (each topic in order, one request at a time).
    const fillAvro = async () => {
      const avroSinks: Sink[] = [];
      if (runs('tandem-embedded')) avroSinks.push(await openSink('embedded broker', broker!, [derived.topic], 0));
      if (runs('tandem-apache')) avroSinks.push(await openSink('Apache Kafka', apacheKafka!.address, [derived.topic], APACHE_REQUEST_BYTES));
      if (avroSinks.length === 0) return;
      const fillStarted = process.hrtime.bigint();
      for (let start = 0; start < events.length; start += CHUNK) {
        const messages = events.slice(start, start + CHUNK).map((event, offset) => avroMessage(event, start + offset));
        await Promise.all(avroSinks.map((sink) => produceInOrder(sink.producer!, derived.topic, messages, sink.maxBytes)));
      }
      for (const sink of avroSinks) await sink.producer!.disconnect();
      console.log(`Avro topic ${derived.topic} pre-filled on ${avroSinks.map((sink) => sink.label).join(' and ')} in ${since(fillStarted).toFixed(1)} s`);
    };
    const DBZ_TOPIC = 'dbz.legacy.orders';
    const fillJson = async () => {
      if (!runs('debezium')) return;
      const sink = await openSink('Apache Kafka', apacheKafka!.address, [DBZ_TOPIC], APACHE_REQUEST_BYTES);
      const fillStarted = process.hrtime.bigint();
      let bytes = 0;
      for (let start = 0; start < events.length; start += CHUNK) {
        const messages = events.slice(start, start + CHUNK).map((event, offset) => debeziumMessage(event, start + offset));
        for (const message of messages) bytes += message.key.length + message.value.length;
        await produceInOrder(sink.producer!, DBZ_TOPIC, messages, sink.maxBytes);
      }
      await sink.producer!.disconnect();
      console.log(`JSON-with-schemas topic ${DBZ_TOPIC} pre-filled on Apache Kafka in ${since(fillStarted).toFixed(1)} s (${(bytes / 1e6).toFixed(0)} MB, ${Math.round(bytes / EVENTS)} bytes per event)`);
    };
    await Promise.all([fillAvro(), fillJson()]);
    if (runs('debezium')) {
      const records = await topicSize(new Kafka({ brokers: [apacheKafka!.address], logLevel: logLevel.NOTHING }), DBZ_TOPIC);
      if (records !== EVENTS) throw new Error(`${DBZ_TOPIC} holds ${records} records, not ${EVENTS}`);
    }

    // ---- tandem translate, in its own process (`tandem translate --config …`, as in production): from
    // the process's spawn until the offsets stored in the target reach the topic's end.
    const runTranslate = async (contender: 'tandem-embedded' | 'tandem-apache', brokerAddress: string, run: number) => {
      // A fresh target database and consumer group per run.
      const database = `${contender.replace('-', '_')}_${run}`;
      await sql(postgres.url, `CREATE DATABASE ${database}`);
      const targetUrl = postgres.urlFor(database);
      await sql(targetUrl, `CREATE SCHEMA app; CREATE TABLE app.orders (${TARGET_COLUMNS});`);
      const name = `${contender}-${run}`;
      const connectorFile = path.join(dataDir, `${name}.connector.ts`);
      writeFileSync(connectorFile, `export default ${JSON.stringify(connectorInput(`bench-${name}`, brokerAddress, targetUrl), null, 2)};\n`);
      const total = await topicSize(new Kafka({ brokers: [brokerAddress], logLevel: logLevel.NOTHING }), derived.topic);
      const target = new pg.Client({ connectionString: targetUrl });
      await target.connect();
      await target.query('CHECKPOINT');
      const loadBefore = load1();
      // One folder per process: every thread (the main one, tsx's module loader) writes its own profile.
      const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(profileDir, name)] : [];
      const started = process.hrtime.bigint();
      const worker = startPeer(process.execPath, [...profile, path.join(repoRoot, 'bin/tandem.js'), 'translate', '--config', connectorFile, '--log-level', 'info', '--metrics-port', '0'], { name: `tandem translate (${name})`, logFile: path.join(dataDir, `${name}.log`) });
      stops.push(() => worker.stop());
      let running: number | undefined;
      void worker.line(/translate running/, 3_600_000).then(() => (running = since(started)), () => undefined);
      const pid = worker.child.pid!;
      let cpuSeconds = 0;
      await until(`${name} to apply ${total} events (log: ${path.join(dataDir, `${name}.log`)})`, async () => {
        cpuSeconds = processCpuSeconds(pid);
        const { rows } = await target.query<{ applied: string | null }>('SELECT sum(next_offset)::text AS applied FROM tandem.translate_offsets').catch(() => ({ rows: [{ applied: '0' }] }));
        return Number(rows[0]?.applied ?? 0) >= total;
      }, 3_600_000, () => (worker.child.exitCode !== null ? `tandem translate exited:\n${worker.output.slice(-20).join('\n')}` : undefined));
      const seconds = since(started);
      const loadAfter = load1();
      await worker.stop();
      if (profileDir) console.log(`CPU profiles of ${name}'s threads (the largest is the main thread): ${path.join(profileDir, name)}`);
      const { rows: batchStats } = await target.query<{ batches: string; average: string }>('SELECT count(*)::text AS batches, round(avg(last_offset - first_offset + 1))::text AS average FROM tandem.translate_batches');
      await target.end();
      const startup = running === undefined ? '' : `; process start → "translate running" (validated, group joined): ${running.toFixed(1)} s`;
      record({ contender, run, name: 'tandem translate, from process start', broker: contender === 'tandem-embedded' ? 'embedded' : 'Apache Kafka', seconds, events: EVENTS, cpuSeconds, startupSeconds: running, load: `${loadBefore}→${loadAfter}`, note: `${batchStats[0]!.batches} batches of ${batchStats[0]!.average} events on average${startup}; CPU s: the tandem translate process` });
      await check(`tandem translate (${contender === 'tandem-embedded' ? 'embedded broker' : 'Apache Kafka'}, run ${run}) → app.orders`, targetUrl, 'app.orders', true);
    };

    // ---- direct: the same final rows, straight into PostgreSQL.
    if (runs('direct')) await app.query(`CREATE TEMP TABLE direct_stage (op text, id bigint, customer_id int, sku text, qty int, price numeric(10,2), status text, note text, created_at timestamptz, updated_at timestamptz)`);
    const runDirect = async (run: number) => {
      await app.query('TRUNCATE app.orders_direct');
      await app.query('CHECKPOINT');
      const loadBefore = load1();
      const started = process.hrtime.bigint();
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
        await app.query('BEGIN');
        await copyFrom(app, 'COPY direct_stage FROM STDIN', Buffer.from(`${lines.join('\n')}\n`));
        await app.query(`INSERT INTO app.orders_direct SELECT id, customer_id, lower(sku), qty, round(price * 100), CASE status WHEN 'N' THEN 'new' WHEN 'S' THEN 'shipped' ELSE 'other' END, note, created_at, updated_at
          FROM direct_stage WHERE op = 'u' ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, sku = EXCLUDED.sku, qty = EXCLUDED.qty, price_cents = EXCLUDED.price_cents,
          status = EXCLUDED.status, note = EXCLUDED.note, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`);
        await app.query(`DELETE FROM app.orders_direct d USING direct_stage s WHERE s.op = 'd' AND d.id = s.id`);
        await app.query('TRUNCATE direct_stage');
        await app.query('COMMIT');
      }
      record({ contender: 'direct', run, name: 'direct COPY + INSERT … ON CONFLICT per 10k', broker: '–', seconds: since(started), events: EVENTS, load: `${loadBefore}→${load1()}`, note: 'no Kafka, no Avro, one connection; CPU is PostgreSQL’s' });
      await check(`direct (run ${run}) → app.orders_direct`, postgres.urlFor('app'), 'app.orders_direct', true);
    };

    for (let run = 1; run <= RUNS; run++) {
      const of = RUNS > 1 ? `, run ${run} of ${RUNS}` : '';
      if (runs('direct')) {
        console.log(`direct COPY + upsert${of}… (${uptime()})`);
        await runDirect(run);
      }
      if (runs('tandem-embedded')) {
        console.log(`tandem translate ← embedded broker${of}… (${uptime()})`);
        await runTranslate('tandem-embedded', broker!, run);
      }
      if (runs('tandem-apache')) {
        console.log(`tandem translate ← Apache Kafka${of}… (${uptime()})`);
        await runTranslate('tandem-apache', apacheKafka!.address, run);
      }
    }
    events = [];

    // ---- Debezium JDBC sink: from the JVM's start (and its connector's) until the table has the expected rows.
    if (runs('debezium')) {
      console.log(`Debezium JDBC sink ← Apache Kafka (batch.size ${DEBEZIUM_BATCH}, ${DEBEZIUM_TASKS} task${DEBEZIUM_TASKS > 1 ? 's' : ''})… (${uptime()})`);
      const sinkUrl = postgres.urlFor('sink');
      const target = new pg.Client({ connectionString: sinkUrl });
      await target.connect();
      await target.query('CHECKPOINT');
      const loadBefore = load1();
      const started = process.hrtime.bigint();
      const workDir = path.join(dataDir, 'debezium-sink');
      const debezium = await startDebeziumSink({ bootstrap: apacheKafka!.address, pgUrl: sinkUrl, topics: [DBZ_TOPIC], table: 'app.orders', batchSize: DEBEZIUM_BATCH, schemaEvolution: 'none', tasks: DEBEZIUM_TASKS, workDir });
      stops.push(() => debezium.stop());
      const alive = () => (debezium.process.child.exitCode !== null ? `Kafka Connect exited:\n${debezium.process.output.slice(-30).join('\n')}` : undefined);
      let digestChecks = 0;
      await until(`the Debezium sink to reach the expected ${expectedRaw.n} rows (log: ${path.join(workDir, 'connect.log')})`, async () => {
        const { rows } = await target.query<{ n: string }>('SELECT count(*)::text AS n FROM app.orders');
        if (rows[0]!.n !== expectedRaw.n) return false;
        digestChecks++;
        return (await target.query<{ digest: string }>(digestOf('app.orders', 'price'))).rows[0]!.digest === expectedRaw.digest;
      }, 3_600_000, alive);
      const done = process.hrtime.bigint();
      const cpu = debezium.cpuSeconds();
      const connectorStart = await debezium.started;
      const fromConnector = Number(done - connectorStart.at) / 1e9;
      const total = Number(done - started) / 1e9;
      const loadAfter = load1();
      await debezium.stop();
      await target.end();
      record({ contender: 'debezium', run: 1, name: 'Debezium JDBC sink, from its connector start', broker: 'Apache Kafka', seconds: fromConnector, events: EVENTS, cpuSeconds: cpu - connectorStart.cpuSeconds, load: `${loadBefore}→${loadAfter}`, note: `1:1 copy (no mapping), batch.size ${DEBEZIUM_BATCH}, reduction buffer on, ${DEBEZIUM_TASKS} task(s); CPU s: the Connect JVM; the count was equal ${digestChecks} time(s) before the md5 was` });
      record({ contender: 'debezium-jvm', run: 1, name: 'Debezium JDBC sink, from JVM start', broker: 'Apache Kafka', seconds: total, events: EVENTS, cpuSeconds: cpu, load: `${loadBefore}→${loadAfter}`, note: `JVM and Kafka Connect startup: ${(total - fromConnector).toFixed(1)} s, ${connectorStart.cpuSeconds.toFixed(1)} CPU s` });
      await check('Debezium JDBC sink → sink app.orders (legacy shape)', sinkUrl, 'app.orders', false);
    }

    // ---- lag: steady load with capture running (embedded broker).
    if (runs('lag')) {
      console.log(`steady ${STEADY_RATE} changes/s for ${STEADY_SECONDS} s, capture + translate… (${uptime()})`);
      // capture and translate in their own processes, as deployed; the writer is this process.
      const liveFile = path.join(dataDir, 'live.connector.ts');
      const liveInput = {
        name: 'live',
        source: { url: legacyUrl, schema: 'legacy', tables: ['legacy.live'] },
        kafka: { brokers: [broker!], topicPrefix: 'live' },
        registry: { url: registryUrl },
        target: { url: postgres.urlFor('app'), schema: 'app' },
        mappings: { 'legacy.live': { to: 'app.live', columns: { applied_at: 'clock_timestamp()' } } },
        capture: { snapshot: 'never', metricsPort: 0 },
      };
      parseConnector(liveInput);
      writeFileSync(liveFile, `export default ${JSON.stringify(liveInput, null, 2)};\n`);
      const loadBefore = load1();
      const worker = (command: 'capture' | 'translate', ready: RegExp) => {
        const peer = startPeer(process.execPath, [path.join(repoRoot, 'bin/tandem.js'), command, '--config', liveFile, '--log-level', 'info', ...(command === 'translate' ? ['--metrics-port', '0'] : [])], { name: `tandem ${command} (lag)`, logFile: path.join(dataDir, `lag-${command}.log`) });
        stops.push(() => peer.stop());
        return peer.line(ready, 120_000).then(() => peer);
      };
      const capture = await worker('capture', /streaming changes from slot/);
      const live = await worker('translate', /translate running/);
      const writer = new pg.Client({ connectionString: legacyUrl });
      await writer.connect();
      const perTick = Math.max(1, Math.round(STEADY_RATE / 100));
      const steadyStarted = performance.now();
      let written = 0;
      while (performance.now() - steadyStarted < STEADY_SECONDS * 1000) {
        const due = Math.floor(((performance.now() - steadyStarted) / 1000) * STEADY_RATE);
        if (written < due) {
          // Behind schedule (a slow statement on a loaded machine): catch up with larger statements, up to 10 ticks' worth.
          const batch = Math.min(perTick * 10, due - written);
          await writer.query('INSERT INTO legacy.live (id, v) SELECT g, 1 FROM generate_series($1::bigint, $2::bigint) g', [written + 1, written + batch]);
          written += batch;
        } else {
          await sleep(2);
        }
      }
      const achieved = written / ((performance.now() - steadyStarted) / 1000);
      await until(`${written} rows in app.live`, async () => Number((await app.query<{ n: string }>('SELECT count(*)::text AS n FROM app.live')).rows[0]!.n) >= written, 600_000);
      const percentiles = (where: string) =>
        app.query<{ n: string; p50: number; p99: number; max: number }>(
          `SELECT count(*)::text AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)) AS p50,
                  percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)) AS p99,
                  max(extract(epoch FROM applied_at - written_at)) AS max FROM app.live WHERE ${where}`,
        );
      const { rows: lag } = await percentiles('true');
      const { rows: steady } = await percentiles(`written_at >= (SELECT min(written_at) FROM app.live) + interval '${STEADY_WARMUP} seconds'`);
      // The same by 5-second window of writing: a slow start (JIT, first batches) or periodic stalls show here.
      const { rows: windows } = await app.query<{ window: number; n: string; p50: number; p99: number }>(
        `SELECT floor(extract(epoch FROM written_at - first.at) / 5)::int AS window, count(*)::text AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)) AS p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)) AS p99
           FROM app.live, (SELECT min(written_at) AS at FROM app.live) first GROUP BY 1 ORDER BY 1`,
      );
      await writer.end();
      await live.stop();
      await capture.stop();
      const ms = (value: number) => `${(value * 1000).toFixed(0)} ms`;
      const judged = STEADY_WARMUP > 0 && Number(steady[0]!.n) > 0 ? steady[0]! : lag[0]!;
      lagLine = `end-to-end lag at ${Math.round(achieved).toLocaleString('en-US')} changes/s for ${STEADY_SECONDS} s (capture + translate, embedded broker, load ${loadBefore}→${load1()}): all rows p50 ${ms(lag[0]!.p50)}, p99 ${ms(lag[0]!.p99)}, max ${ms(lag[0]!.max)}` +
        (judged === lag[0] ? '' : `; after the first ${STEADY_WARMUP} s (workers warm) p50 ${ms(judged.p50)}, p99 ${ms(judged.p99)}, max ${ms(judged.max)}`) +
        ` — target p99 < 1 s${judged === lag[0] ? '' : ' (after the first seconds)'}: ${judged.p99 < 1 ? 'met' : 'NOT met'}\n    by 5 s window of writing (p50/p99): ${windows.map((window) => `${window.window * 5}–${window.window * 5 + 5} s ${ms(window.p50)}/${ms(window.p99)}`).join(', ')}`;
    }
    await app.end();

    printReport(results, checks, lagLine, { kafkaVersion: apacheKafka?.version, connectVersion, startedAt });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

function printReport(all: Result[], checks: string[], lagLine: string | undefined, versions: { kafkaVersion?: string; connectVersion?: string; startedAt: Date }) {
  const format = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const rate = (result: Result) => result.events / result.seconds;
  // One row per contender: its median run by time; every run's rate in its note when there are several.
  const runsOf = new Map<string, Result[]>();
  for (const result of all) runsOf.set(result.contender, [...(runsOf.get(result.contender) ?? []), result]);
  const results = [...runsOf.values()].map((runs) => {
    const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)]!;
    if (runs.length === 1) return median;
    const rates = `median of ${runs.length} runs (run ${median.run}); runs: ${runs.map((run) => `${format(rate(run))} (load ${run.load})`).join(', ')} events/s`;
    return { ...median, note: median.note ? `${rates}; ${median.note}` : rates };
  });
  const find = (contender: Result['contender']) => results.find((result) => result.contender === contender);
  const direct = find('direct');
  const header = ['#', 'contender', 'from', 'seconds', 'events/s', '× direct', 'CPU s', 'load 1m'];
  const rows = results.map((result, index) => [String(index + 1), result.name, result.broker, format(result.seconds, 1), format(rate(result)), direct ? `${(rate(result) / rate(direct)).toFixed(2)}×` : '–', result.cpuSeconds === undefined ? '–' : format(result.cpuSeconds, 1), result.load]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const numeric = (column: number) => column >= 3 && column <= 6;
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ')} |`;
  const peers = [versions.kafkaVersion && `Apache Kafka ${versions.kafkaVersion}`, versions.connectVersion && `Debezium 3.6.1 JDBC sink on Kafka Connect ${versions.connectVersion}`].filter(Boolean).join(', ');
  let out = `\n## bench:translate — ${format(EVENTS)} change events (upserts over ${format(KEYS)} keys, 10% deletes), 3 partitions${RUNS > 1 ? `, median of ${RUNS} runs (Debezium: one)` : ''}${peers ? `, ${peers}` : ''}\n`;
  out += `started ${versions.startedAt.toISOString()}, finished ${new Date().toISOString()}\n`;
  out += `uptime: ${uptime()}\n\n`;
  out += `${line(header)}\n| ${widths.map((width, column) => (numeric(column) ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |\n`;
  out += `${rows.map(line).join('\n')}\n\n`;
  for (const [index, result] of results.entries()) if (result.note) out += `${index + 1}. ${result.note}\n`;
  out += '\n';
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  /** tandem's rate without its process's startup (module loading, validation, group join), against `other`. */
  const afterStartup = (tandem: Result, other: Result) => (tandem.startupSeconds === undefined ? '' : ` (after its ${tandem.startupSeconds.toFixed(1)} s startup: ${(tandem.events / (tandem.seconds - tandem.startupSeconds) / rate(other)).toFixed(2)}×)`);
  for (const contender of ['tandem-embedded', 'tandem-apache'] as const) {
    const tandem = find(contender);
    if (tandem && direct) out += `tandem (${tandem.broker}) / direct: ${(rate(tandem) / rate(direct)).toFixed(2)}× events/s — target ≥ 0.7×: ${verdict(rate(tandem) / rate(direct) >= 0.7)}${afterStartup(tandem, direct)}\n`;
  }
  const apache = find('tandem-apache');
  const debezium = find('debezium');
  const debeziumJvm = find('debezium-jvm');
  if (apache && debezium) {
    const ratio = rate(apache) / rate(debezium);
    out += `tandem / Debezium (both from Apache Kafka; tandem from its process start, Debezium from its connector start): ${ratio.toFixed(2)}× events/s — target ≥ 3×: ${verdict(ratio >= 3)}${debeziumJvm ? ` (both from their process start: ${(rate(apache) / rate(debeziumJvm)).toFixed(2)}×)` : ''}\n`;
    if (apache.cpuSeconds && debezium.cpuSeconds) out += `CPU: the Debezium JVM (from its connector start) used ${(debezium.cpuSeconds / apache.cpuSeconds).toFixed(2)}× the CPU seconds of the tandem translate process (from its start); PostgreSQL's backends are counted for neither\n`;
  }
  if (lagLine) out += `${lagLine}\n`;
  if (checks.length > 0) {
    const different = checks.filter((line) => line.includes('DIFFERENT'));
    out += different.length === 0 ? `\nfinal rows: all ${checks.length} targets equal to the expected final state (count and md5 over all rows): ${checks.map((line) => line.split(':')[0]).join('; ')}\n` : `\nfinal rows: ${checks.join('; ')}\n`;
  }
  process.stdout.write(out);
}

/**
 * A fresh Apache Kafka creates __consumer_offsets on the first group request (kafkajs then logs "The
 * group coordinator is not available" while it loads): one untimed group lookup first.
 */
async function warmUp(address: string): Promise<void> {
  const admin = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await until('the group coordinator of Apache Kafka', () => admin.describeGroups(['bench.warm-up']).then(() => true, () => false), 120_000);
  } finally {
    await admin.disconnect();
  }
}

function emptyText(type: string): string {
  if (/int|numeric/.test(type)) return '0';
  if (/timestamp/.test(type)) return '1970-01-01 00:00:00+00';
  return '';
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
