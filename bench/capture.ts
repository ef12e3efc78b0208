/**
 * npm run bench:capture [-- --changes N] — capture throughput and CPU against two peers, in one run
 * on one machine, over the same WAL:
 *
 *   1. pg_recvlogical (pgoutput → /dev/null): the decoding limit;
 *   2. tandem capture → the embedded broker (`tandem broker`, its own process);
 *   3. tandem capture → Apache Kafka (scripts/apache-kafka.sh, one KRaft node);
 *   4. Debezium's PostgreSQL connector (Kafka Connect standalone, bench/peers/debezium) → the same
 *      Apache Kafka, JSON converter without schemas (Confluent's Avro converter is not on Maven Central).
 *
 * The embedded PostgreSQL gets one table, its publication (another, identical, for Debezium) and one
 * pgoutput slot per contender, all created before the workload (N row changes: N/2 inserts, then
 * N/2 updates, 1000 rows per transaction), so every contender reads the same changes. Each is timed from its start until every
 * event is in Kafka (tandem: the slot position Kafka acknowledged reaches the WAL's end; Debezium: the
 * topic's end offsets add up to N; pg_recvlogical: it reaches --endpos). CPU seconds: the tandem
 * process (capture and its producer thread, not the broker), the pg_recvlogical process, the
 * Debezium JVM (/proc/<pid>/stat); beside them, apart, the broker's (embedded or Apache Kafka) and
 * the PostgreSQL walsender's that decoded the contender's slot. Debezium is also measured
 * from its connector's start, without the JVM's and Kafka Connect's startup. Brokers and the
 * registry run in their own processes. Prints figures, asserts nothing. `--only tandem-embedded,...`
 * runs a subset (recvlogical, tandem-embedded, tandem-apache, debezium); `--runs R` runs each contender
 * R times (a slot per run, runs interleaved) and shows the median run, for a machine under load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { parseConnector } from '../src/config/load.js';
import { parseLsn } from '../src/pg/lsn.js';
import { startCapture } from '../src/capture/worker.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { createLogger } from '../src/observability/logger.js';
import { createCaptureMetrics } from '../src/observability/metrics.js';
import { createRegistryClient } from '../src/schema/registry-client.js';
import { startApacheKafka } from './peers/apache-kafka.js';
import { fetchDebezium, startDebeziumSource } from './peers/debezium.js';
import { exitedChildrenCpuSeconds, processCpuSeconds, startPeer } from './peers/process.js';

const { values: options } = parseArgs({
  options: {
    changes: { type: 'string', default: process.env.CHANGES ?? '1000000' },
    /** Each contender this many times over the same WAL (one slot per run, runs interleaved); the table shows the median run. */
    runs: { type: 'string', default: '1' },
    /** A subset, e.g. `--only tandem-embedded` for a profile (`node --cpu-prof`). */
    only: { type: 'string', default: 'recvlogical,tandem-embedded,tandem-apache,debezium' },
  },
});
const CONTENDERS = ['recvlogical', 'tandem-embedded', 'tandem-apache', 'debezium'] as const;
const only = new Set(options.only.split(',').map((name) => name.trim()));
for (const name of only) if (!(CONTENDERS as readonly string[]).includes(name)) throw new Error(`--only takes a comma-separated list of ${CONTENDERS.join(', ')}, not '${name}'`);
const CHANGES = Number(options.changes);
if (!Number.isInteger(CHANGES) || CHANGES < 2) throw new Error(`--changes must be an integer of at least 2, not ${options.changes}`);
const RUNS = Number(options.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, not ${options.runs}`);
const ROWS_PER_TRANSACTION = 1000;
/** tandem's topics have 3 partitions (capture/codecs.ts): Debezium's topic gets as many. */
const PARTITIONS = 3;
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

interface Result {
  name: string;
  seconds: number;
  cpuSeconds: number;
  /** CPU seconds the broker (embedded or Apache Kafka) used meanwhile. */
  brokerCpuSeconds?: number;
  /** CPU seconds of the PostgreSQL walsender that decoded the slot for it (the same work for every contender). */
  walsenderCpuSeconds?: number;
  note?: string;
}

async function startTandemChild(args: string[], ready: RegExp): Promise<{ address: string; pid: number; stop(): Promise<void> }> {
  // BENCH_CHILD_CPU_PROF=DIR: V8 CPU profiles of the broker and registry too (written when they stop).
  const profile = process.env.BENCH_CHILD_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CHILD_CPU_PROF] : [];
  const child = startPeer(process.execPath, [...profile, path.join(repoRoot, 'bin/tandem.js'), ...args], { name: `tandem ${args[0]}` });
  const line = await child.line(ready, 60_000);
  return { address: ready.exec(line)![1]!, pid: child.child.pid!, stop: () => child.stop() };
}

function findPgRecvlogical(): string {
  for (const candidate of ['/usr/lib/postgresql/17/bin/pg_recvlogical', '/usr/lib/postgresql/16/bin/pg_recvlogical', '/usr/lib/postgresql/15/bin/pg_recvlogical', 'pg_recvlogical']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('pg_recvlogical not found: apt-get install postgresql-client (or postgresql-15)');
}

/**
 * Follows the walsender serving `slot` (pg_replication_slots.active_pid) and its CPU seconds every
 * 50 ms; stop() gives the last reading. A walsender that exits first (pg_recvlogical at --endpos)
 * misses at most its last 50 ms.
 */
function sampleWalsender(admin: pg.Client, slot: string): { stop(): Promise<number | undefined> } {
  let pid: number | undefined;
  let cpu: number | undefined;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      if (pid === undefined) pid = (await admin.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]?.pid ?? undefined;
      if (pid !== undefined) cpu = processCpuSeconds(pid);
    } catch {
      // the walsender exited: keep the last reading
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), 50);
  return {
    async stop() {
      clearInterval(timer);
      while (busy) await sleep(5);
      await sample();
      return cpu;
    },
  };
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const recvlogical = findPgRecvlogical();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-bench-'));
  const withDebezium = only.has('debezium');
  const connectVersion = withDebezium ? (await fetchDebezium()).connectVersion : undefined;
  const postgres = await startEmbeddedPostgres();
  const stops: (() => Promise<unknown>)[] = [() => postgres.stop()];
  const results: Result[] = [];
  try {
    const broker = await startTandemChild(['broker', '--port', '0', '--data-dir', path.join(dataDir, 'broker'), '--fsync', 'interval'], /(127\.0\.0\.1:\d+)/);
    stops.push(() => broker.stop());
    const registry = await startTandemChild(['registry', '--port', '0', '--data-dir', path.join(dataDir, 'registry')], /(http:\/\/127\.0\.0\.1:\d+)/);
    stops.push(() => registry.stop());
    const apacheKafka = await startApacheKafka(repoRoot, path.join(dataDir, 'apache-kafka'));
    stops.push(() => apacheKafka.stop());
    process.stdout.write(`Apache Kafka ${apacheKafka.version} on ${apacheKafka.address}, embedded broker on ${broker.address}\n`);
    const kafka = new Kafka({ brokers: [apacheKafka.address], logLevel: logLevel.NOTHING });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    stops.push(() => kafkaAdmin.disconnect());
    await warmUp(kafka);

    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    stops.push(() => admin.end());
    await admin.query(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL, placed_at timestamptz NOT NULL DEFAULT now());
      CREATE PUBLICATION bench FOR TABLE legacy.orders;
      CREATE PUBLICATION bench_debezium FOR TABLE legacy.orders;`);
    // All slots start at the same point, before any change: one per contender and run.
    const slot = (base: string, run: number) => (run === 1 ? base : `${base}_${run}`);
    const slots = Array.from({ length: RUNS }, (_, index) => ['bench_recvlogical', 'bench_capture_embedded', 'bench_capture_apache', 'bench_debezium'].map((base) => slot(base, index + 1))).flat();
    await admin.query(`SELECT ${slots.map((name) => `pg_create_logical_replication_slot('${name}', 'pgoutput')`).join(', ')}`);

    process.stdout.write(`generating ${CHANGES.toLocaleString('en-US')} row changes (${ROWS_PER_TRANSACTION} per transaction)...\n`);
    const inserts = Math.ceil(CHANGES / 2);
    for (let first = 1; first <= inserts; first += ROWS_PER_TRANSACTION) {
      await admin.query(`INSERT INTO legacy.orders (id, customer_id, total, status) SELECT g, g % 1000, (g % 10000) / 100.0, 'new' FROM generate_series($1::bigint, $2::bigint) g`, [first, Math.min(first + ROWS_PER_TRANSACTION - 1, inserts)]);
    }
    for (let first = 1; first <= CHANGES - inserts; first += ROWS_PER_TRANSACTION) {
      await admin.query(`UPDATE legacy.orders SET status = 'paid', total = total + 1 WHERE id BETWEEN $1 AND $2`, [first, Math.min(first + ROWS_PER_TRANSACTION - 1, CHANGES - inserts)]);
    }
    const endLsn = (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;

    const registryClient = createRegistryClient({ url: registry.address });
    const embeddedBrokerCpu = () => processCpuSeconds(broker.pid);
    const apacheKafkaCpu = () => processCpuSeconds(apacheKafka.jvmPid());
    for (let run = 1; run <= RUNS; run++) {
      if (RUNS > 1) process.stdout.write(`run ${run} of ${RUNS}...\n`);
      // 1. the decoding limit: pg_recvlogical with the same plugin and publication, output discarded.
      if (only.has('recvlogical')) {
        const recvSlot = slot('bench_recvlogical', run);
        const cpuBefore = exitedChildrenCpuSeconds();
        const walsender = sampleWalsender(admin, recvSlot);
        const started = process.hrtime.bigint();
        // Timed from the start until it exits at --endpos; its CPU from this process's children's (cutime, cstime).
        const recv = spawn(recvlogical, ['-d', postgres.url, '--slot', recvSlot, '--start', '-o', 'proto_version=1', '-o', 'publication_names=bench', '--endpos', endLsn, '-f', '/dev/null', '--no-loop'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        recv.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
        const code = await new Promise<number | null>((resolve) => recv.once('exit', resolve));
        const elapsed = seconds(started);
        if (code !== 0) throw new Error(`pg_recvlogical failed: ${stderr}`);
        results.push({ name: 'pg_recvlogical (pgoutput → /dev/null)', seconds: elapsed, cpuSeconds: exitedChildrenCpuSeconds() - cpuBefore, walsenderCpuSeconds: await walsender.stop() });
      }

      // 2, 3. tandem capture: from its slot until the broker acknowledged every event.
      for (const [contender, name, brokerAddress, brokerCpu] of [
        ['tandem-embedded', 'tandem capture → embedded broker', broker.address, embeddedBrokerCpu],
        ['tandem-apache', 'tandem capture → Apache Kafka', apacheKafka.address, apacheKafkaCpu],
      ] as const) {
        if (!only.has(contender)) continue;
        const captureSlot = slot(contender === 'tandem-embedded' ? 'bench_capture_embedded' : 'bench_capture_apache', run);
        const connector = parseConnector({
          name: captureSlot,
          source: { url: postgres.url, schema: 'legacy', tables: ['legacy.orders'], publication: 'bench', slot: captureSlot },
          kafka: { brokers: [brokerAddress], topicPrefix: 'bench' },
          registry: { url: registry.address },
          target: { url: postgres.url, schema: 'app' },
          capture: { snapshot: 'never', heartbeatIntervalMs: 1000 },
        });
        const metrics = createCaptureMetrics();
        const cpuBefore = process.cpuUsage();
        const brokerBefore = brokerCpu();
        const walsender = sampleWalsender(admin, captureSlot);
        const started = process.hrtime.bigint();
        const worker = await startCapture(connector, { logger: createLogger({ level: 'warn', pretty: false }), metrics, registry: registryClient });
        const target = parseLsn(endLsn);
        while (worker.durableLsn() < target) await sleep(20);
        const elapsed = seconds(started);
        const cpu = process.cpuUsage(cpuBefore);
        const brokerCpuSeconds = brokerCpu() - brokerBefore;
        const walsenderCpuSeconds = await walsender.stop();
        await worker.stop();
        const events = (await metrics.events.get()).values.reduce((sum, value) => sum + value.value, 0);
        const bytes = (await metrics.bytes.get()).values[0]?.value ?? 0;
        results.push({ name, seconds: elapsed, cpuSeconds: (cpu.user + cpu.system) / 1e6, brokerCpuSeconds, walsenderCpuSeconds, note: `${events.toLocaleString('en-US')} events acknowledged, ${(bytes / 1e6).toFixed(1)} MB of Avro` });
      }

      // 4. Debezium: from the JVM's start (and from its connector's start) until the topic holds every event.
      if (withDebezium) {
        const topicPrefix = run === 1 ? 'dbz' : `dbz${run}`;
        const topic = `${topicPrefix}.legacy.orders`;
        await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
        const records = async () => (await kafkaAdmin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
        const brokerBefore = apacheKafkaCpu();
        const debeziumSlot = slot('bench_debezium', run);
        const walsender = sampleWalsender(admin, debeziumSlot);
        const started = process.hrtime.bigint();
        const debezium = await startDebeziumSource({ bootstrap: apacheKafka.address, pgUrl: postgres.url, slot: debeziumSlot, publication: 'bench_debezium', tables: ['legacy.orders'], topicPrefix, schemas: false, workDir: path.join(dataDir, `debezium-${run}`) });
        stops.push(() => debezium.stop());
        const brokerAtConnectorStart = debezium.started.then(() => apacheKafkaCpu());
        const deadline = Date.now() + 3_600_000;
        while ((await records()) < CHANGES) {
          if (debezium.process.child.exitCode !== null) throw new Error(`Debezium exited:\n${debezium.process.output.slice(-30).join('\n')}`);
          if (Date.now() > deadline) throw new Error(`Debezium did not deliver ${CHANGES} records within an hour (log: ${path.join(dataDir, `debezium-${run}/connect.log`)})`);
          await sleep(20);
        }
        const done = process.hrtime.bigint();
        const cpu = debezium.cpuSeconds();
        const brokerAfter = apacheKafkaCpu();
        const walsenderCpuSeconds = await walsender.stop();
        const connectorStart = await debezium.started;
        const total = Number(done - started) / 1e9;
        const streaming = Number(done - connectorStart.at) / 1e9;
        const startup = total - streaming;
        results.push({ name: 'Debezium → Apache Kafka, from its connector start', seconds: streaming, cpuSeconds: cpu - connectorStart.cpuSeconds, brokerCpuSeconds: brokerAfter - (await brokerAtConnectorStart), walsenderCpuSeconds, note: `JVM and Kafka Connect startup before it: ${startup.toFixed(1)} s, ${connectorStart.cpuSeconds.toFixed(1)} CPU s` });
        results.push({ name: 'Debezium → Apache Kafka, from JVM start', seconds: total, cpuSeconds: cpu, brokerCpuSeconds: brokerAfter - brokerBefore, walsenderCpuSeconds });
        await debezium.stop();
      }
    }

    printTable(results, apacheKafka.version, connectVersion);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/**
 * A fresh Apache Kafka creates its internal topics on first use: an idempotent producer's first
 * InitProducerId meets a loading coordinator and backs off. One untimed idempotent send first.
 */
async function warmUp(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'bench.warm-up', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'bench.warm-up', acks: -1, messages: [{ value: 'warm-up' }] });
  await producer.disconnect();
}

function printTable(all: Result[], kafkaVersion: string, connectVersion: string | undefined) {
  const rate = (result: Result) => CHANGES / result.seconds;
  const format = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  // One row per contender: its median run by time; every run's rate in the notes when there are several.
  const runsOf = new Map<string, Result[]>();
  for (const result of all) runsOf.set(result.name, [...(runsOf.get(result.name) ?? []), result]);
  const results = [...runsOf.values()].map((runs) => {
    const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)]!;
    if (runs.length === 1) return median;
    const rates = `runs: ${runs.map((run) => format(rate(run))).join(', ')} changes/s`;
    return { ...median, note: median.note ? `${median.note}; ${rates}` : rates };
  });
  const header = ['#', 'contender', 'seconds', 'changes/s', 'CPU s', 'CPU s per 1M changes', 'broker CPU s', 'walsender CPU s'];
  const optional = (value: number | undefined) => (value === undefined ? '–' : format(value, 1));
  const rows = results.map((result, index) => [String(index + 1), result.name, format(result.seconds, 2), format(rate(result)), format(result.cpuSeconds, 1), format((result.cpuSeconds / CHANGES) * 1e6, 1), optional(result.brokerCpuSeconds), optional(result.walsenderCpuSeconds)]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ')} |`;
  const [, load5] = loadavg();
  const peers = `Apache Kafka ${kafkaVersion}${connectVersion ? `, Debezium 3.6.1 on Kafka Connect ${connectVersion}` : ''}`;
  const runs = RUNS > 1 ? `, median of ${RUNS} runs` : '';
  let out = `\n## bench:capture — ${format(CHANGES)} row changes${runs}, ${peers}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (5 min: ${load5!.toFixed(2)})\n\n`;
  out += `${line(header)}\n| ${widths.map((width, column) => (column >= 2 ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |\n`;
  out += `${rows.map(line).join('\n')}\n\n`;
  for (const [index, result] of results.entries()) if (result.note) out += `${index + 1}. ${result.note}\n`;
  const byName = (prefix: string) => results.find((result) => result.name.startsWith(prefix));
  const recv = byName('pg_recvlogical');
  const embedded = byName('tandem capture → embedded');
  const apache = byName('tandem capture → Apache');
  const debezium = byName('Debezium → Apache Kafka, from its connector');
  const debeziumTotal = byName('Debezium → Apache Kafka, from JVM');
  out += '\n';
  if (recv && embedded) {
    const ratio = rate(embedded) / rate(recv);
    const withWalsender = (result: Result) => result.cpuSeconds + (result.walsenderCpuSeconds ?? 0);
    out += `tandem (embedded broker) / pg_recvlogical: ${ratio.toFixed(2)}× changes/s, ${(embedded.cpuSeconds / recv.cpuSeconds).toFixed(1)}× the client's CPU (${(withWalsender(embedded) / withWalsender(recv)).toFixed(1)}× with the walsender's) — target ≥ 0.8×: ${ratio >= 0.8 ? 'met' : 'NOT met'}\n`;
  }
  if (apache && debezium && debeziumTotal) {
    const ratio = rate(apache) / rate(debezium);
    out += `tandem / Debezium (both on Apache Kafka, Debezium from its connector start): ${ratio.toFixed(2)}× changes/s, ${(debezium.cpuSeconds / apache.cpuSeconds).toFixed(2)}× less CPU — target ≥ 3×: ${ratio >= 3 ? 'met' : 'NOT met'}` +
      ` (from the JVM's start: ${(rate(apache) / rate(debeziumTotal)).toFixed(2)}×)\n`;
  }
  process.stdout.write(out);
}

await main();
process.exit(0);
