/**
 * npm run bench:reconcile [-- --rows 1000000,10000000] — reconcile against its references, in one
 * run on one machine:
 *
 *   legacy.customers (id, first/last name, email, status code, text dates, float amounts, test flag)
 *   → app.customer (full name, lower-case email, status by lookup, timestamptz, integer cents),
 *   filled through the mapping's SQL, so the tables have different shapes and no drift.
 *
 *   (a) tandem reconcile, no drift, one cluster;
 *   (b) tandem reconcile after 0.01% of the new rows were changed;
 *   (c) the reference: one plain SQL FULL OUTER JOIN of the two mapped projections in the cluster;
 *   (a2) tandem reconcile across two clusters (target on a second embedded PostgreSQL), against
 *        (h) one hashing scan of each side (both at once);
 *   peer: namidiff (the maintained data-diff fork, default settings) on same-shape copies (the
 *        mapped legacy rows materialised next to the target), and tandem on the same two tables.
 *
 * Targets: (a) ≤ 1.2×(c), (b) ≤ 1.5×(c), (a2) ≤ 3×(h), tandem faster than namidiff. Each figure is
 * the median of --runs runs (default 3), each contender interleaved with its reference. Prints
 * figures, asserts nothing.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Connector } from '../src/config/index.js';
import { parseConnector } from '../src/config/load.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/embedded/postgres.js';
import { lookup } from '../src/mapping/helpers.js';
import { rowHashExpression, type ReconcileTargetSql } from '../src/mapping/reconcile-sql.js';
import { createLogger } from '../src/observability/logger.js';
import { quoteIdent } from '../src/pg/identifiers.js';
import { runReconcile, type ReconcileResult } from '../src/reconcile/run.js';
import { compileTargets } from '../src/reconcile/targets.js';
import { ensureNamidiff, runNamidiff } from './peers/data-diff/namidiff.js';

const { values: options } = parseArgs({ options: { rows: { type: 'string', default: process.env.ROWS ?? '1000000' }, runs: { type: 'string', default: '3' } } });
/** Each measurement this many times, interleaved with its reference; the median is printed (the machine is shared). */
const RUNS = Number(options.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, not ${options.runs}`);
const SIZES = options.rows.split(',').map((value) => Number(value.trim()));
for (const size of SIZES) if (!Number.isInteger(size) || size < 10_000) throw new Error(`--rows takes comma-separated row counts of at least 10000, not ${options.rows}`);
const DRIFT_FRACTION = 0.0001;
const logger = createLogger({ level: 'silent', pretty: false });

const MAPPING = {
  to: 'app.customer',
  columns: {
    id: 'id',
    full_name: "trim(first_name || ' ' || last_name)",
    email: 'lower(email)',
    status: lookup('status_code', { 1: 'active', 2: 'suspended' }, 'unknown'),
    signed_up_at: "created::timestamp AT TIME ZONE 'Europe/Berlin'",
    balance_cents: 'round(balance * 100)',
  },
  where: 'NOT is_test',
};

const LEGACY = (rows: number) => `CREATE SCHEMA legacy;
  CREATE TABLE legacy.customers (id bigint PRIMARY KEY, first_name text, last_name text, email text, status_code int, created text, balance float8, is_test boolean NOT NULL);
  INSERT INTO legacy.customers
    SELECT i, 'First' || i, 'Last' || (i % 5000), 'User' || i || '@Example.com', 1 + i % 3,
           '2024-' || lpad((1 + i % 12)::text, 2, '0') || '-' || lpad((1 + i % 28)::text, 2, '0') || ' ' || lpad((i % 24)::text, 2, '0') || ':' || lpad((i % 60)::text, 2, '0') || ':00',
           (i % 100000) / 7.0, i % 100 = 0
      FROM generate_series(1, ${rows}) AS i;`;
const TARGET = `CREATE SCHEMA IF NOT EXISTS app;
  CREATE TABLE app.customer (id bigint PRIMARY KEY, full_name text, email text, status text, signed_up_at timestamptz, balance_cents bigint);
  INSERT INTO app.customer SELECT id, trim(first_name || ' ' || last_name), lower(email), CASE status_code WHEN 1 THEN 'active' WHEN 2 THEN 'suspended' ELSE 'unknown' END,
         created::timestamp AT TIME ZONE 'Europe/Berlin', round(balance * 100) FROM legacy.customers WHERE NOT is_test;`;

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value };
}

function connector(name: string, sourceUrl: string, targetUrl: string, tables: string[], mappings: Record<string, unknown>): Connector {
  return parseConnector({
    name,
    source: { url: sourceUrl, schema: 'legacy', tables },
    kafka: { brokers: ['127.0.0.1:9'] },
    registry: { url: 'http://127.0.0.1:9' },
    target: { url: targetUrl, schema: 'app' },
    mappings,
    reconcile: { settleRounds: 0 },
  });
}

async function compiled(connectorValue: Connector): Promise<ReconcileTargetSql> {
  const source = new pg.Client({ connectionString: connectorValue.source.url });
  const target = new pg.Client({ connectionString: connectorValue.target.url });
  await Promise.all([source.connect(), target.connect()]);
  try {
    return (await compileTargets(connectorValue, source, target))[0]!;
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
}

async function reconcileRun(connectorValue: Connector): Promise<{ seconds: number; result: ReconcileResult }> {
  const { seconds, value } = await timed(() => runReconcile(connectorValue, { logger }));
  return { seconds, result: value };
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

/** RUNS rounds of (contender, reference), interleaved; medians of both, and the contender's last result. */
async function pair<A, B>(contender: () => Promise<{ seconds: number; value: A }>, reference: () => Promise<{ seconds: number; value: B }>): Promise<{ contender: { seconds: number; value: A }; reference: { seconds: number; value: B } }> {
  const a: { seconds: number; value: A }[] = [];
  const b: { seconds: number; value: B }[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    a.push(await contender());
    b.push(await reference());
  }
  return { contender: { seconds: median(a.map((item) => item.seconds)), value: a.at(-1)!.value }, reference: { seconds: median(b.map((item) => item.seconds)), value: b.at(-1)!.value } };
}

const rate = (rows: number, seconds: number) => `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`;
const line = (label: string, seconds: number, rows: number, extra = '') => console.log(`  ${label.padEnd(58)} ${seconds.toFixed(2).padStart(8)} s  ${rate(rows, seconds).padStart(16)}${extra ? `  ${extra}` : ''}`);
const ratio = (label: string, value: number, target: number | null) => console.log(`  ${label.padEnd(58)} ${value.toFixed(2).padStart(8)} ×${target === null ? '' : `  (target ≤ ${target}×: ${value <= target ? 'met' : 'NOT met'})`}`);

async function benchSize(rows: number, a: RunningPostgres, b: RunningPostgres): Promise<void> {
  const database = `bench_${rows}`;
  await sql(a.url, `DROP DATABASE IF EXISTS ${database}`);
  await sql(b.url, `DROP DATABASE IF EXISTS ${database}`);
  await sql(a.url, `CREATE DATABASE ${database}`);
  await sql(b.url, `CREATE DATABASE ${database}`);
  const urlA = a.urlFor(database);
  const urlB = b.urlFor(database);
  console.log(`\n${rows.toLocaleString('en-US')} legacy rows: generating both clusters …`);
  await Promise.all([sql(urlA, `${LEGACY(rows)} ${TARGET} ANALYZE;`), sql(urlB, `${LEGACY(rows)} ${TARGET} DROP SCHEMA legacy CASCADE; ANALYZE;`)]);
  const one = connector('bench', urlA, urlA, ['legacy.customers'], { 'legacy.customers': MAPPING });
  const two = connector('bench2', urlA, urlB, ['legacy.customers'], { 'legacy.customers': MAPPING });
  const target = await compiled(one);
  const compared = Number((await sql(urlA, 'SELECT count(*) FROM app.customer')).rows[0].count);

  // (c) the reference: one FULL OUTER JOIN of the mapped projections.
  const key = quoteIdent(target.key[0]!.name);
  const differs = `(${target.columns.map((column) => `e.${quoteIdent(column)}`).join(', ')}) IS DISTINCT FROM (${target.columns.map((column) => `t.${quoteIdent(column)}`).join(', ')})`;
  const join = `SELECT count(*) AS n FROM (${target.expected}) AS e FULL OUTER JOIN (${target.actual}) AS t ON e.${key} = t.${key} WHERE e.${key} IS NULL OR t.${key} IS NULL OR ${differs}`;
  const tandem = () => reconcileRun(one).then(({ seconds, result }) => ({ seconds, value: result }));
  const { contender: clean, reference } = await pair(tandem, () => timed(() => sql(urlA, join)));
  const driftRows = Math.max(1, Math.round(compared * DRIFT_FRACTION));
  await sql(urlA, `UPDATE app.customer SET email = email || '.x' WHERE id IN (SELECT id FROM app.customer ORDER BY md5(id::text) LIMIT ${driftRows})`);
  const { contender: drifted, reference: referenceDrift } = await pair(tandem, () => timed(() => sql(urlA, join)));

  // Two clusters: tandem against one hashing scan of each side, both at once.
  const hash = (projection: string) => `SELECT count(*), sum(${rowHashExpression(target)}) FROM (${projection}) AS p`;
  const { contender: crossClean, reference: hashing } = await pair(
    () => reconcileRun(two).then(({ seconds, result }) => ({ seconds, value: result })),
    () => timed(() => Promise.all([sql(urlA, hash(target.expected)), sql(urlB, hash(target.actual))])),
  );

  // Peer on its own ground: same-shape copies (the mapped legacy rows materialised), drift included.
  await sql(urlA, `CREATE SCHEMA bench; CREATE TABLE bench.expected_copy AS ${target.expected}; ALTER TABLE bench.expected_copy ADD PRIMARY KEY (${key}); ANALYZE bench.expected_copy;`);
  const copy = connector('benchcopy', urlA, urlA, ['bench.expected_copy'], { 'bench.expected_copy': { to: 'app.customer' } });
  const dsn = urlA.replace(/^postgres:/, 'postgresql:');
  const { contender: tandemCopy, reference: peerRun } = await pair(
    () => reconcileRun(copy).then(({ seconds, result }) => ({ seconds, value: result })),
    async () => {
      const run = runNamidiff(dsn, 'bench.expected_copy', dsn, 'app.customer', target.key[0]!.name, target.columns);
      return { seconds: run.seconds, value: run };
    },
  );
  const peer = { seconds: peerRun.seconds, differences: peerRun.value.differences };

  const driftFound = (result: ReconcileResult) => `drift found ${result.drift}`;
  console.log(`\n${compared.toLocaleString('en-US')} rows compared per run (legacy ${rows.toLocaleString('en-US')} rows, 1% filtered out), ${target.columns.length} mapped columns; medians of ${RUNS} run(s)`);
  line('(a) tandem reconcile, no drift, one cluster', clean.seconds, compared, driftFound(clean.value));
  line(`(b) tandem reconcile, ${driftRows} rows drifted (0.01%)`, drifted.seconds, compared, driftFound(drifted.value));
  line('(c) reference: FULL OUTER JOIN of the mapped projections', reference.seconds, compared, `(with drift: ${referenceDrift.seconds.toFixed(2)} s)`);
  line('(a2) tandem reconcile, no drift, two clusters', crossClean.seconds, compared, driftFound(crossClean.value));
  line('(h) one hashing scan of each side, both at once', hashing.seconds, compared);
  line('tandem on same-shape copies (drift included)', tandemCopy.seconds, compared, driftFound(tandemCopy.value));
  line('namidiff (data-diff fork), default settings, same copies', peer.seconds, compared, `printed ${peer.differences} row versions (= 2 × drifted rows)`);
  ratio('(a) / (c)', clean.seconds / reference.seconds, 1.2);
  ratio('(b) / (c)', drifted.seconds / reference.seconds, 1.5);
  ratio('(a2) / (h)', crossClean.seconds / hashing.seconds, 3);
  ratio('tandem / namidiff on the same rows', tandemCopy.seconds / peer.seconds, 1);
  await Promise.all([sql(a.url, `DROP DATABASE ${database}`), sql(b.url, `DROP DATABASE ${database}`)]);
}

async function main(): Promise<void> {
  console.log(`peer: ${ensureNamidiff()}`);
  const [a, b] = await Promise.all([startEmbeddedPostgres(), startEmbeddedPostgres()]);
  try {
    for (const rows of SIZES) await benchSize(rows, a, b);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

await main();
