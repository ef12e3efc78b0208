/**
 * npm run bench:debezium-sink-smoke — checks the Debezium peer end to end on a small workload:
 * Debezium's PostgreSQL source streams CHANGES row changes (inserts, updates, deletes) of
 * legacy.orders into Apache Kafka (JSON with schemas), then Debezium's JDBC sink applies the topic
 * 1:1 (upsert, deletes on, primary key from the record key) into a table of another database. Passes
 * when the target has the same rows as the source. Options: --changes N (default 3000).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { startApacheKafka } from './peers/apache-kafka.js';
import { fetchDebezium, startDebeziumSink, startDebeziumSource } from './peers/debezium.js';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '3000' } } });
const CHANGES = Number(values.changes);
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TOPIC = 'dbz.legacy.orders';

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main() {
  const workDir = mkdtempSync(path.join(tmpdir(), 'tandem-dbz-smoke-'));
  await fetchDebezium();
  const postgres = await startEmbeddedPostgres();
  const kafkaServer = await startApacheKafka(repoRoot, path.join(workDir, 'kafka'));
  const kafka = new Kafka({ brokers: [kafkaServer.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const source = new pg.Client({ connectionString: postgres.url });
  await source.connect();
  const stops: (() => Promise<void>)[] = [];
  try {
    await source.query(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL, placed_at timestamptz NOT NULL DEFAULT now());
      CREATE PUBLICATION dbz FOR TABLE legacy.orders;`);
    await source.query(`SELECT pg_create_logical_replication_slot('dbz_smoke', 'pgoutput')`);
    await source.query('CREATE DATABASE sink');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 3 }] });

    // inserts, then updates of every other row, then deletes of every tenth: CHANGES changes in all
    const inserts = Math.ceil(CHANGES * 0.6);
    const deletes = Math.floor(CHANGES * 0.1);
    const updates = CHANGES - inserts - deletes;
    await source.query(`INSERT INTO legacy.orders (id, customer_id, total, status) SELECT g, g % 100, (g % 10000) / 100.0, 'new' FROM generate_series(1, $1::bigint) g`, [inserts]);
    await source.query(`UPDATE legacy.orders SET status = 'paid', total = total + 1.5 WHERE id <= $1`, [updates]);
    await source.query(`DELETE FROM legacy.orders WHERE id > $1::bigint`, [inserts - deletes]);
    // a delete is an event and a tombstone
    const expectedRecords = CHANGES + deletes;

    const debeziumSource = await startDebeziumSource({ bootstrap: kafkaServer.address, pgUrl: postgres.url, slot: 'dbz_smoke', publication: 'dbz', tables: ['legacy.orders'], topicPrefix: 'dbz', schemas: true, workDir: path.join(workDir, 'source') });
    stops.push(() => debeziumSource.stop());
    const countRecords = async () => (await admin.fetchTopicOffsets(TOPIC)).reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
    await until(`${expectedRecords} records in ${TOPIC}`, async () => (await countRecords()) >= expectedRecords);
    process.stdout.write(`source: ${await countRecords()} records in ${TOPIC} (${CHANGES} changes + ${deletes} tombstones)\n`);

    const sinkUrl = postgres.urlFor('sink');
    const target = new pg.Client({ connectionString: sinkUrl });
    await target.connect();
    stops.push(() => target.end());
    await target.query('CREATE SCHEMA app');
    const started = process.hrtime.bigint();
    const debeziumSink = await startDebeziumSink({ bootstrap: kafkaServer.address, pgUrl: sinkUrl, topics: [TOPIC], table: 'app.orders', schemaEvolution: 'basic', workDir: path.join(workDir, 'sink') });
    stops.push(() => debeziumSink.stop());
    const expectedRows = inserts - deletes;
    const rowsIn = async (client: pg.Client, table: string) => {
      try {
        return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      } catch {
        return -1; // not created yet
      }
    };
    const digest = (client: pg.Client, table: string) =>
      client.query(`SELECT md5(string_agg(format('%s|%s|%s|%s|%s', id, customer_id, total, status, placed_at), ',' ORDER BY id)) AS d FROM ${table}`).then((r) => r.rows[0].d as string);
    const sourceDigest = await digest(source, 'legacy.orders');
    // counts equal and the last updates applied: the same rows
    await until(`${expectedRows} rows in app.orders with the source's content`, async () => (await rowsIn(target, 'app.orders')) === expectedRows && (await digest(target, 'app.orders')) === sourceDigest);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const columns = (await target.query(`SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS c FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'orders'`)).rows[0].c;
    process.stdout.write(`sink: app.orders has ${expectedRows} rows, equal to legacy.orders (md5 of all rows ${sourceDigest}), ${seconds.toFixed(1)} s after the sink started, JVM CPU ${debeziumSink.cpuSeconds().toFixed(1)} s\n`);
    process.stdout.write(`sink table created by the connector: ${columns}\n`);
    process.stdout.write('1 passed, 0 failed\n');
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await admin.disconnect();
    await source.end();
    await kafkaServer.stop();
    await postgres.stop();
  }
}

await main();
process.exit(0);
