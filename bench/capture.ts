/**
 * npm run bench:capture — capture throughput against pg_recvlogical, the decoding limit.
 *
 * Generates CHANGES row changes on the embedded PostgreSQL after creating two pgoutput slots at
 * the same point, then times (a) tandem capture from that slot until Kafka (the embedded broker,
 * in its own process) acknowledged every event, and (b) pg_recvlogical reading the same changes
 * from the second slot to /dev/null. Target: (a) at least 50% of (b).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConnector } from '../src/config/load.js';
import { parseLsn } from '../src/capture/lsn.js';
import { startCapture } from '../src/capture/worker.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { createLogger } from '../src/observability/logger.js';
import { createCaptureMetrics } from '../src/observability/metrics.js';
import { createRegistryClient } from '../src/schema/registry-client.js';

const CHANGES = Number(process.env.CHANGES ?? 1_000_000);
const ROWS_PER_TRANSACTION = 1000;
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function startChild(args: string[], ready: RegExp): Promise<{ address: string; stop(): void }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/tandem.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) resolve({ address: match[1]!, stop: () => child.kill('SIGTERM') });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`tandem ${args[0]} exited with ${code}: ${output}`)));
  });
}

function findPgRecvlogical(): string {
  for (const candidate of ['/usr/lib/postgresql/17/bin/pg_recvlogical', '/usr/lib/postgresql/16/bin/pg_recvlogical', '/usr/lib/postgresql/15/bin/pg_recvlogical', 'pg_recvlogical']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('pg_recvlogical not found: apt-get install postgresql-client (or postgresql-15)');
}

async function main() {
  const recvlogical = findPgRecvlogical();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-bench-'));
  const postgres = await startEmbeddedPostgres();
  const broker = await startChild(['broker', '--port', '0', '--data-dir', path.join(dataDir, 'broker'), '--fsync', 'interval'], /(127\.0\.0\.1:\d+)/);
  const registry = await startChild(['registry', '--port', '0', '--data-dir', path.join(dataDir, 'registry')], /(http:\/\/127\.0\.0\.1:\d+)/);
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL, placed_at timestamptz NOT NULL DEFAULT now());
      CREATE PUBLICATION bench FOR TABLE legacy.orders;`);
    // Both slots start at the same point, before any change.
    await admin.query(`SELECT pg_create_logical_replication_slot('bench_capture', 'pgoutput'), pg_create_logical_replication_slot('bench_recvlogical', 'pgoutput')`);

    process.stdout.write(`generating ${CHANGES} row changes (${ROWS_PER_TRANSACTION} per transaction)...\n`);
    const inserts = Math.ceil(CHANGES / 2);
    for (let first = 1; first <= inserts; first += ROWS_PER_TRANSACTION) {
      await admin.query(`INSERT INTO legacy.orders (id, customer_id, total, status) SELECT g, g % 1000, (g % 10000) / 100.0, 'new' FROM generate_series($1::bigint, $2::bigint) g`, [first, Math.min(first + ROWS_PER_TRANSACTION - 1, inserts)]);
    }
    for (let first = 1; first <= CHANGES - inserts; first += ROWS_PER_TRANSACTION) {
      await admin.query(`UPDATE legacy.orders SET status = 'paid', total = total + 1 WHERE id BETWEEN $1 AND $2`, [first, Math.min(first + ROWS_PER_TRANSACTION - 1, CHANGES - inserts)]);
    }
    const endLsn = (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;

    // (b) the decoding limit: pg_recvlogical with the same plugin and publication, output discarded.
    const recvStarted = process.hrtime.bigint();
    const recv = spawnSync(recvlogical, ['-d', postgres.url, '--slot', 'bench_recvlogical', '--start', '-o', 'proto_version=1', '-o', 'publication_names=bench', '--endpos', endLsn, '-f', '/dev/null', '--no-loop'], { encoding: 'utf8' });
    if (recv.status !== 0) throw new Error(`pg_recvlogical failed: ${recv.stderr}`);
    const recvSeconds = Number(process.hrtime.bigint() - recvStarted) / 1e9;

    // (a) tandem capture: from the slot until the broker acknowledged every event.
    const connector = parseConnector({
      name: 'bench',
      source: { url: postgres.url, schema: 'legacy', tables: ['legacy.orders'], publication: 'bench', slot: 'bench_capture' },
      kafka: { brokers: [broker.address], topicPrefix: 'bench' },
      registry: { url: registry.address },
      target: { url: postgres.url, schema: 'app' },
      capture: { snapshot: 'never', heartbeatIntervalMs: 1000 },
    });
    const metrics = createCaptureMetrics();
    const cpuBefore = process.cpuUsage();
    const captureStarted = process.hrtime.bigint();
    const worker = await startCapture(connector, { logger: createLogger({ level: 'warn', pretty: false }), metrics, registry: createRegistryClient(connector.registry) });
    const target = parseLsn(endLsn);
    while (worker.durableLsn() < target) await new Promise((resolve) => setTimeout(resolve, 20));
    const captureSeconds = Number(process.hrtime.bigint() - captureStarted) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    await worker.stop();
    const events = (await metrics.events.get()).values.reduce((sum, value) => sum + value.value, 0);
    const bytes = (await metrics.bytes.get()).values[0]?.value ?? 0;

    const captureRate = CHANGES / captureSeconds;
    const recvRate = CHANGES / recvSeconds;
    const rows = [
      ['pg_recvlogical (pgoutput → /dev/null)', recvSeconds.toFixed(2), Math.round(recvRate).toLocaleString('en-US'), '1.00'],
      ['tandem capture (pgoutput → Avro → Kafka acks=-1)', captureSeconds.toFixed(2), Math.round(captureRate).toLocaleString('en-US'), (captureRate / recvRate).toFixed(2)],
    ];
    process.stdout.write(`\n## bench:capture — ${CHANGES.toLocaleString('en-US')} row changes\n\n| reader | seconds | changes/s | ratio to pg_recvlogical |\n|---|---|---|---|\n${rows.map((row) => `| ${row.join(' | ')} |`).join('\n')}\n\n`);
    process.stdout.write(`capture: ${events.toLocaleString('en-US')} events acknowledged, ${(bytes / 1e6).toFixed(1)} MB, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s in the capture process (${(((cpu.user + cpu.system) / 1e6 / CHANGES) * 1e6).toFixed(1)} CPU s per million changes)\n`);
    process.stdout.write(`target: capture at least 50% of pg_recvlogical's rate — ${captureRate / recvRate >= 0.5 ? 'met' : 'NOT met'} (${((captureRate / recvRate) * 100).toFixed(0)}%)\n`);
  } finally {
    await admin.end();
    broker.stop();
    registry.stop();
    await postgres.stop();
  }
}

await main();
process.exit(0);
