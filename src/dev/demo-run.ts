/**
 * `tandem demo`: a whole zero-downtime migration on one machine, as a story in the terminal.
 *
 *   1. the embedded stack in a temporary directory (PostgreSQL, broker, registry, console)
 *   2. the legacy schema with data and the new schema (src/dev/demo.ts), the connector (connectors/demo.ts)
 *   3. capture (snapshot, then streaming) and translate under a write workload, live counts and lag
 *   4. reconcile clean; drift written behind the pipeline's back → reconcile reports it, the alert
 *      reaches a local webhook, watch rolls the canary back; repair; reconcile clean
 *   5. the plan walked to cutover with its evidence, reverse sync carrying a write on new to legacy
 *   6. a summary of measured values, the reports and the audit log
 *
 * Every number printed is read from the workers' metrics, the databases or the rollout's audit.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startCapture, type CaptureWorker } from '../capture/worker.js';
import { findConfigFile, loadConnector, type Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createCaptureMetrics } from '../observability/metrics.js';
import { redactSecrets } from '../observability/redact.js';
import { runReconcileJob, type JobOptions } from '../reconcile/job.js';
import type { ReportJson } from '../reconcile/report.js';
import { settleCut } from '../reconcile/run.js';
import { cliActor, type RolloutStatus } from '../rollout/controller.js';
import { PipelineReverseSync } from '../rollout/reverse-pipeline.js';
import { ReverseSyncSupervisor } from '../rollout/reverse-sync.js';
import { openRollout, type RolloutRuntime } from '../rollout/runtime.js';
import { createGateClient, type GateClient } from '../rollout/sdk.js';
import { startRolloutServer } from '../rollout/server.js';
import { readHistory } from '../rollout/store.js';
import { startWatch, type Watch } from '../rollout/watch.js';
import { createRegistryClient } from '../schema/registry-client.js';
import { createTranslateMetrics, type TranslateMetrics } from '../translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../translate/worker.js';
import { demoTraffic } from './demo.js';
import { mulberry32 } from './seeded-random.js';
import { startDevEnvironment, type DevEnvironment } from './embedded-environment.js';
import { capturedEvents, histogramQuantiles, seconds, translatedEvents } from './measure.js';
import { quietWorkerTerminal, Story } from './story.js';

export interface DemoOptions {
  /** Small data and short intervals (the test's form). */
  fast: boolean;
  /** Keep everything running after the summary until SIGINT/SIGTERM. */
  keep: boolean;
  /** Explicit ports (0 = any free one); undefined = any free one. */
  pgPort?: number;
  brokerPort?: number;
  registryPort?: number;
  consolePort?: number;
  /** A connector file over the demo schema (default: tandem's connectors/demo.ts). */
  config?: string;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Resolves when --keep should end (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
}

export interface DemoSummary {
  eventsCaptured: number;
  eventsApplied: number;
  workloadTransactions: number;
  lag: { samples: number; p50: number | null; p99: number | null };
  driftFound: number;
  driftRepaired: number;
  rolledBack: { from: string; to: string; reason: string } | null;
  phasesPassed: string[];
  finalPhase: string;
  finalReconcile: 'clean' | 'drift';
  reverseSyncCarried: boolean;
  directory: string;
  reports: { drift: string; final: string; markdown: string };
  auditLog: string;
  workerLog: string;
  consoleUrl: string;
}

/** The demo's own connector, wherever tandem is run from (--config picks another). */
const DEMO_CONNECTOR = fileURLToPath(new URL('../../connectors/demo.ts', import.meta.url));

interface Scale {
  customers: number;
  transactionsPerSecond: number;
  /** Workload transactions before the pipeline is checked. */
  warmupTransactions: number;
  watchIntervalMs: number;
  heartbeatMs: number;
  deadlineMs: number;
}

const SCALES: Record<'fast' | 'full', Scale> = {
  fast: { customers: 200, transactionsPerSecond: 25, warmupTransactions: 40, watchIntervalMs: 1_000, heartbeatMs: 500, deadlineMs: 90_000 },
  full: { customers: 2_000, transactionsPerSecond: 20, warmupTransactions: 300, watchIntervalMs: 3_000, heartbeatMs: 1_000, deadlineMs: 180_000 },
};

/** Polls until the condition holds; a TandemError naming what was awaited when the deadline passes. */
async function waitFor<T>(what: string, condition: () => Promise<T | null | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new TandemError(`the demo waited ${Math.round(timeoutMs / 1000)} s for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`, {
        fix: 'see the worker log printed at the start for what went wrong',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The write workload of the legacy app: demo transactions at a steady rate until stopped. */
class Workload {
  transactions = 0;
  failures = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly client: pg.Client,
    private readonly transactionsPerSecond: number,
    private readonly logger: Logger,
  ) {}

  start(seed: number): void {
    const random = mulberry32(seed);
    const pace = 1000 / this.transactionsPerSecond;
    this.loop = (async () => {
      while (!this.stopped) {
        const started = Date.now();
        try {
          await demoTraffic(this.client, random);
          this.transactions += 1;
        } catch (error) {
          this.failures += 1;
          this.logger.warn({ err: error }, `demo workload transaction failed: ${(error as Error).message}`);
        }
        const rest = pace - (Date.now() - started);
        if (rest > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, rest));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** A local webhook receiver standing in for Slack: reconcile's alerts are POSTed to it. */
async function startAlertReceiver(): Promise<{ url: string; alerts: { event: string; text: string }[]; close(): Promise<void> }> {
  const alerts: { event: string; text: string }[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      try {
        const parsed = JSON.parse(body) as { event?: string; text?: string };
        alerts.push({ event: String(parsed.event), text: String(parsed.text) });
        response.writeHead(200).end('ok');
      } catch {
        response.writeHead(400).end('expected JSON');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/alerts`, alerts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function tableCounts(client: pg.ClientBase, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]!.n);
  return counts;
}

function verdictLines(status: RolloutStatus): string[] {
  return (status.verdict?.criteria ?? []).map((criterion) => `${criterion.met ? 'met' : 'unmet'}: ${criterion.name} — ${criterion.required}; seen ${criterion.actual}`);
}

function reportLine(report: ReportJson): string {
  const tables = report.tables
    .filter((table) => table.drift > 0)
    .map((table) => `${table.table}: ${table.counts.missing} missing, ${table.counts.extra} extra, ${table.counts.different} different${Object.keys(table.columnCounts).length > 0 ? ` (${Object.keys(table.columnCounts).join(', ')})` : ''}`);
  const reason = report.cut.reason ?? '';
  const cut = report.cut.mode === 'exact' ? `exact cut at ${report.cut.sourceLsn}` : `settled and rechecked: ${reason.length > 90 ? `${reason.slice(0, 89)}… (full reason in the report)` : reason}`;
  return `run ${report.runId}: ${report.status.toUpperCase()} — ${report.rowsCompared} rows compared in ${report.durationMs} ms, ${report.drift} drifted${tables.length ? ` [${tables.join('; ')}]` : ''}; ${cut}`;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const out = options.out ?? process.stdout;
  const story = new Story(out);
  const scale = SCALES[options.fast ? 'fast' : 'full'];
  const startedAt = Date.now();

  const directory = mkdtempSync(path.join(tmpdir(), 'tandem-demo-'));
  chmodSync(directory, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
  const dataDir = path.join(directory, 'data');
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o755);
  const workerLog = path.join(directory, 'workers.log');
  const logStream = createWriteStream(workerLog);
  const logger = createLogger({ level: 'warn', destination: logStream, pretty: false });

  const cleanups: (() => Promise<unknown>)[] = [];
  // Capture draws snapshot progress bars when stderr is a terminal; here the workers' output belongs
  // in the worker log, and the terminal to the story (capture has no switch for it yet).
  quietWorkerTerminal();
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => logger.warn({ err: error }, `demo cleanup: ${(error as Error).message}`));
    cleanups.length = 0;
  };

  try {
    // 1. The stack.
    story.step(`1. Embedded stack (everything under ${directory})`);
    const environment: DevEnvironment = await startDevEnvironment({
      dataDir,
      pgPort: options.pgPort ?? 0,
      brokerPort: options.brokerPort ?? 0,
      registryPort: options.registryPort ?? 0,
      logger,
      customers: scale.customers,
    });
    cleanups.push(async () => {
      await environment.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const receiver = await startAlertReceiver();
    cleanups.push(() => receiver.close());

    const loaded = await loadConnector(options.config ? findConfigFile(options.config) : DEMO_CONNECTOR);
    const apiKey = randomBytes(12).toString('hex');
    const connector: Connector = {
      ...loaded,
      capture: { ...loaded.capture, heartbeatIntervalMs: Math.min(loaded.capture.heartbeatIntervalMs, scale.heartbeatMs), metricsPort: 0 },
      translate: { ...loaded.translate, metricsPort: 0 },
      reconcile: { ...loaded.reconcile, webhook: { url: receiver.url }, metricsPort: 0 },
      rollout: { ...loaded.rollout, serve: { ...loaded.rollout.serve, apiKeys: { ...loaded.rollout.serve.apiKeys, demo: { key: apiKey, role: 'operate' } } } },
    };

    const legacy = new pg.Client({ connectionString: environment.legacyUrl });
    const app = new pg.Client({ connectionString: environment.appUrl });
    await legacy.connect();
    await app.connect();
    cleanups.push(() => Promise.all([legacy.end(), app.end()]));

    const serving = await openRollout(connector, logger);
    cleanups.push(() => serving.close());
    const serverGates: GateClient = await createGateClient({ connectionString: connector.target.url, migration: connector.name, logger, clientId: 'tandem-demo-console' });
    cleanups.push(() => serverGates.close());
    const server = await startRolloutServer({ connector, controller: serving.controller, client: serving.target, gates: serverGates, logger, port: options.consolePort ?? 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const consoleUrl = `http://127.0.0.1:${server.port}/`;

    story.detail(
      [
        `PostgreSQL        127.0.0.1:${environment.postgres.port}  databases legacy and app  (${redactSecrets(environment.legacyUrl)})`,
        `Kafka broker      ${environment.stack.brokers.join(',')}`,
        `schema registry   ${environment.stack.registryUrl}`,
        `rollout console   ${consoleUrl}  (API key ${apiKey}: the password of the browser's login, any user name)`,
        `alert webhook     ${receiver.url}  (a local receiver standing in for Slack)`,
        `worker log        ${workerLog}  (warnings and errors only)`,
      ].join('\n'),
    );

    // 2. Schemas and data.
    story.step('2. Legacy schema with data, the new schema, the connector');
    const legacyTables = ['legacy.customers', 'legacy.orders', 'legacy.loyalty'];
    const appTables = ['app.customer', 'app.customer_address', 'app.orders', 'app.customer_points'];
    const seeded = await tableCounts(legacy, legacyTables);
    story.detail(`legacy  ${Object.entries(seeded).map(([table, count]) => `${table} ${count}`).join(', ')}`);
    story.detail(`        (full name in one column, address as one text, status codes, created as Berlin wall-clock text, amount as float, test accounts)`);
    story.detail(`app     ${appTables.join(', ')} (empty; integer cents, enum status, timestamptz, foreign keys)`);
    story.detail(`connector ${connector.name}: ${Object.values(connector.mappings).flatMap((mapping) => (Array.isArray(mapping) ? mapping : [mapping])).length} mappings (split, lookup, type changes, filter), ${connector.rollout.phases?.length ?? 0} phases, reverse mappings for ${Object.keys(connector.rollout.reverse).join(', ')}`);

    // 3. Capture, translate, workload.
    story.step('3. Capture (snapshot, then streaming) and translate under a write workload');
    const captureMetrics = createCaptureMetrics();
    const translateMetrics: TranslateMetrics = createTranslateMetrics();
    let capture: CaptureWorker | null = await startCapture(connector, { logger, metrics: captureMetrics, registry: createRegistryClient(connector.registry) });
    cleanups.push(async () => capture?.stop());
    let translate: TranslateWorker | null = await startTranslate(connector, { logger, metrics: translateMetrics });
    cleanups.push(async () => translate?.stop());
    const failed = (part: string) => (error: unknown) => logger.error({ err: error }, `${part} stopped: ${(error as Error).message}`);
    capture.done.catch(failed('capture'));
    translate.done.catch(failed('translate'));

    const expected = async () => {
      const { rows } = await legacy.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM legacy.customers WHERE NOT is_test)::text AS customer,
                (SELECT count(*) FROM legacy.customers WHERE NOT is_test AND address IS NOT NULL)::text AS address,
                (SELECT count(*) FROM legacy.orders)::text AS orders,
                (SELECT count(*) FROM legacy.loyalty)::text AS points`,
      );
      return rows[0]!;
    };
    const actual = async () => {
      const { rows } = await app.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM app.customer)::text AS customer, (SELECT count(*) FROM app.customer_address)::text AS address,
                (SELECT count(*) FROM app.orders)::text AS orders, (SELECT count(*) FROM app.customer_points)::text AS points`,
      );
      return rows[0]!;
    };
    const liveBlock = async (workload: Workload | null) => {
      const captured = await capturedEvents(captureMetrics);
      const translated = await translatedEvents(translateMetrics);
      const lag = await histogramQuantiles(translateMetrics.endToEndLag);
      const rows = await actual();
      story.live([
        `captured  ${captured.total} events (${Object.entries(captured.byOp).map(([op, n]) => `${op}=${n}`).join(' ')})   applied ${translated.applied ?? 0}`,
        `app rows  customer ${rows.customer}, address ${rows.address}, orders ${rows.orders}, points ${rows.points}`,
        workload ? `workload  ${workload.transactions} transactions   end-to-end lag p50 ${seconds(lag.p50)} p99 ${seconds(lag.p99)} (${lag.count} changes)` : 'workload  not started',
      ]);
    };

    const want = await expected();
    const snapshotStarted = Date.now();
    await waitFor('translate to apply the initial snapshot', async () => {
      await liveBlock(null);
      const got = await actual();
      return Object.keys(want).every((key) => got[key] === want[key]);
    }, scale.deadlineMs, 200);
    const snapshot = await capturedEvents(captureMetrics);
    story.ok(`snapshot: ${snapshot.byOp.r ?? 0} rows captured and applied in ${((Date.now() - snapshotStarted) / 1000).toFixed(1)} s → app.customer ${want.customer} (test accounts filtered out), app.customer_address ${want.address}, app.orders ${want.orders}, app.customer_points ${want.points}`);
    // Lag is measured on streamed changes only: snapshot rows carry the snapshot's time.
    translateMetrics.endToEndLag.reset();

    const workload = new Workload(legacy, scale.transactionsPerSecond, logger);
    workload.start(20261129);
    cleanups.push(() => workload.stop());
    const ticker = setInterval(() => void liveBlock(workload).catch(() => undefined), 250);
    cleanups.push(async () => clearInterval(ticker));
    await waitFor(`${scale.warmupTransactions} workload transactions`, async () => workload.transactions >= scale.warmupTransactions, scale.deadlineMs, 100);
    clearInterval(ticker);
    {
      const captured = await capturedEvents(captureMetrics);
      const lag = await histogramQuantiles(translateMetrics.endToEndLag);
      story.ok(`streaming: ${workload.transactions} legacy transactions so far, ${captured.total - (captured.byOp.r ?? 0)} change events captured and applied; end-to-end lag p50 ${seconds(lag.p50)}, p99 ${seconds(lag.p99)}`);
      story.detail('the workload keeps writing to legacy until the cutover');
    }

    // 4. Reconcile, drift, alert, rollback, repair.
    story.step('4. Reconcile, then drift behind the pipeline’s back');
    const reports = { drift: path.join(directory, 'reconcile-drift.html'), markdown: path.join(directory, 'reconcile-drift.md'), final: path.join(directory, 'reconcile-final.html') };
    const reconcile = (extra: Partial<JobOptions> = {}) => runReconcileJob(connector, { logger, ...extra });
    const first = await reconcile();
    story.detail(reportLine(first.report));
    if (first.report.status !== 'clean') throw new TandemError(`the first reconcile of the demo found drift: ${reportLine(first.report)}`, { fix: `see the worker log ${workerLog}` });
    story.ok(`reconcile is clean: every app row is what the mapping makes of its legacy row (${first.report.cut.mode === 'exact' ? 'at one consistent cut' : 'differences settled and rechecked'})`);

    const reverseSync = new PipelineReverseSync(connector, logger);
    cleanups.push(() => reverseSync.close());
    // The operator's controller runs no reverse sync itself: `rollout watch` (below) starts it once
    // the forward pipeline is stopped, as after a cutover made from the CLI or the console.
    const runtime: RolloutRuntime = await openRollout(connector, logger);
    cleanups.push(() => runtime.close());
    const watchRuntime = await openRollout(connector, logger);
    cleanups.push(() => watchRuntime.close());
    const supervisor = new ReverseSyncSupervisor(reverseSync, logger);
    const watchOptions = { controller: watchRuntime.controller, client: watchRuntime.target, supervisor, logger, intervalMs: scale.watchIntervalMs, autoPromote: false, actor: { kind: 'watch' as const, name: 'watch', osUser: null } };
    let watch: Watch = startWatch(watchOptions);
    cleanups.push(async () => {
      watch.stop();
      await watch.done;
    });
    const operator = cliActor('demo-operator');
    const phasesPassed: string[] = [(await runtime.controller.state()).phase];

    const promote = async (why: string) => {
      const status = await runtime.controller.status();
      const result = await runtime.controller.promote({}, operator);
      story.ok(`${result.record.action} ${result.record.from} → ${result.record.to} (${why}); readNew ${result.state.gates.readNew}%, writes to ${result.state.gates.write}${result.state.gates.reverseSync ? ', reverse sync on' : ''}`);
      for (const line of verdictLines(status)) story.detail(`    ${line}`);
      phasesPassed.push(result.record.to);
      watch.poke();
      return result;
    };
    await promote('a clean reconcile run and low lag');

    // Drift: two old shipped orders (the workload never touches them again) changed on app directly.
    const { rows: tampered } = await app.query<{ id: string }>(
      `UPDATE app.orders SET amount_cents = amount_cents + 100 WHERE id IN (SELECT id FROM app.orders WHERE status = 'shipped' ORDER BY id LIMIT 2) RETURNING id::text`,
    );
    story.warn(`drift injected: UPDATE app.orders SET amount_cents = amount_cents + 100 WHERE id IN (${tampered.map((row) => row.id).join(', ')}) — a direct write to the new schema`);
    const alertsBefore = receiver.alerts.length;
    const drift = await reconcile({ reports: [reports.drift, reports.markdown] });
    story.detail(reportLine(drift.report));
    if (drift.report.status !== 'drift') throw new TandemError(`reconcile did not report the injected drift: ${reportLine(drift.report)}`, { fix: `see ${reports.drift}` });
    story.ok(`reconcile reports the drift (report ${reports.drift})`);
    const alert = await waitFor('the drift alert at the webhook', async () => receiver.alerts.slice(alertsBefore).find((item) => item.event === 'appeared'), 10_000);
    story.ok(`alert received by the webhook: ${alert.text}`);
    const rolledBackState = await waitFor('watch to roll the canary back', async () => {
      const state = await runtime.controller.state();
      return state.phase !== 'canary' ? state : null;
    }, scale.watchIntervalMs * 3 + 15_000, 100);
    const [rollbackEntry] = await readHistory(runtime.target, connector.name, 1);
    if (rollbackEntry?.action !== 'rollback') throw new TandemError(`watch moved the rollout to ${rolledBackState.phase} without a rollback record`, { fix: 'see tandem rollout history' });
    story.ok(`rollout watch rolled ${rollbackEntry.from} back to ${rollbackEntry.to} on its own (${rollbackEntry.actorKind}): ${rollbackEntry.reason ?? ''}`);
    const rolledBack = { from: rollbackEntry.from, to: rollbackEntry.to, reason: rollbackEntry.reason ?? '' };

    const repaired = await reconcile({ repair: true });
    story.detail(`repair ${reportLine(repaired.report)}`);
    story.ok(`repair rewrote ${repaired.report.repair?.rows ?? 0} row(s) on app from their legacy rows through the mapping; its recheck found ${repaired.report.repair?.recheckDrift ?? 'n/a'} drifted row(s)`);
    const clean = await reconcile();
    story.detail(reportLine(clean.report));
    if (clean.report.status !== 'clean') throw new TandemError(`reconcile after the repair is not clean: ${reportLine(clean.report)}`, { fix: `see ${workerLog}` });
    const resolved = await waitFor('the resolved alert', async () => receiver.alerts.find((item) => item.event === 'resolved'), 10_000).catch(() => null);
    story.ok(`reconcile is clean again${resolved ? `; alert: ${resolved.text}` : ''}`);

    // 5. The plan to cutover.
    story.step('5. The rollout plan, phase by phase, to cutover');
    await promote('clean reconcile after the repair');
    await waitFor('a clean reconcile run after the canary began', async () => (await reconcile()).report.status === 'clean', scale.deadlineMs, 0);
    await promote('a clean reconcile run during the canary');

    await workload.stop();
    story.detail(`the workload stopped after ${workload.transactions} legacy transactions; waiting for translate to apply the last of them`);
    const caughtUp = await waitFor('translate to catch up with capture', async () => {
      const status = await runtime.controller.status();
      return status.evidence.lag.seconds === 0 ? status : null;
    }, scale.deadlineMs, 200);
    const beforeCutover = await reconcile();
    story.detail(reportLine(beforeCutover.report));
    if (beforeCutover.report.status !== 'clean') throw new TandemError(`reconcile before the cutover is not clean: ${reportLine(beforeCutover.report)}`, { fix: `see ${workerLog}` });
    story.ok(`caught up (applied position ${caughtUp.evidence.lag.appliedPosition}, lag 0 s) and clean`);
    const approval = await runtime.controller.approve({ by: 'demo-approver', reason: 'the demo approves its own cutover' }, cliActor('demo-approver'));
    story.ok(`approved by demo-approver (${approval.record.action})`);
    // Watch pauses over the switch, so reverse sync cannot start while the forward pipeline still runs.
    watch.stop();
    await watch.done;
    await promote('approved, clean, caught up');
    const summaryCaptured = await capturedEvents(captureMetrics);
    const summaryTranslated = await translatedEvents(translateMetrics);
    const lag = await histogramQuantiles(translateMetrics.endToEndLag);
    // Writes go to app now: the forward pipeline stops (it would send reverse sync's writes back).
    await translate.stop();
    translate = null;
    await capture.stop();
    capture = null;
    story.detail('forward capture and translate stopped: writes go to app now');
    watch = startWatch(watchOptions);
    await waitFor('rollout watch to start reverse sync', async () => reverseSync.running && supervisor.status === 'running', 60_000);
    story.ok('rollout watch started reverse sync: capture on app → Kafka → translate through rollout.reverse into legacy');

    const nextId = Number((await legacy.query<{ id: string }>('SELECT (max(id) + 1)::text AS id FROM legacy.customers')).rows[0]!.id);
    const nextOrder = Number((await legacy.query<{ id: string }>('SELECT (max(id) + 1)::text AS id FROM legacy.orders')).rows[0]!.id);
    await app.query('BEGIN');
    await app.query(`INSERT INTO app.customer (id, first_name, last_name, email, status, signed_up_at) VALUES ($1, 'Written', 'On New', 'written.on.new@example.com', 'active', '2026-11-29 12:00:00+00')`, [nextId]);
    await app.query(`INSERT INTO app.orders (id, customer_id, amount_cents, status, placed_at) VALUES ($1, $2, 4250, 'paid', '2026-11-29 12:01:00+00')`, [nextOrder, nextId]);
    await app.query('COMMIT');
    story.detail(`written on app: customer ${nextId} "Written On New", order ${nextOrder} of 42.50 (4250 cents, paid)`);
    const carried = await waitFor('the write on app to appear in legacy', async () => {
      const { rows } = await legacy.query<{ full_name: string; created: string; amount: number; status: string }>(
        `SELECT c.full_name, c.created, o.amount, o.status FROM legacy.customers c JOIN legacy.orders o ON o.customer_id = c.id WHERE c.id = $1 AND o.id = $2`,
        [nextId, nextOrder],
      );
      return rows[0];
    }, 60_000, 100);
    story.ok(`in legacy: customers ${nextId} full_name "${carried.full_name}", created "${carried.created}" (Berlin wall clock); orders ${nextOrder} amount ${carried.amount}, status ${carried.status}`);

    // Reconcile with the forward pipeline stopped: both sides settled, no translate barrier to ask.
    const final = await reconcile({ reports: [reports.final], cut: settleCut(connector, 'forward pipeline stopped at cutover; reverse sync keeps legacy in step') });
    story.detail(reportLine(final.report));
    if (final.report.status !== 'clean') throw new TandemError(`the final reconcile is not clean: ${reportLine(final.report)}`, { fix: `see ${reports.final}` });
    story.ok('legacy and app agree after the cutover: the mapping of every legacy row is its app row');

    // 6. Summary.
    const history = await readHistory(runtime.target, connector.name, 1000);
    const auditLog = path.join(directory, 'audit.jsonl');
    writeFileSync(auditLog, history.reverse().map((entry) => JSON.stringify(entry)).join('\n') + '\n');
    const finalState = await runtime.controller.state();
    const summary: DemoSummary = {
      eventsCaptured: summaryCaptured.total,
      eventsApplied: summaryTranslated.applied ?? 0,
      workloadTransactions: workload.transactions,
      lag: { samples: lag.count, p50: lag.p50, p99: lag.p99 },
      driftFound: drift.report.drift,
      driftRepaired: repaired.report.repair?.rows ?? 0,
      rolledBack,
      phasesPassed,
      finalPhase: finalState.phase,
      finalReconcile: final.report.status,
      reverseSyncCarried: true,
      directory,
      reports: { drift: reports.drift, final: reports.final, markdown: reports.markdown },
      auditLog,
      workerLog,
      consoleUrl,
    };
    story.step(`Summary (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    story.detail(
      [
        `events captured        ${summary.eventsCaptured} (${Object.entries(summaryCaptured.byOp).map(([op, n]) => `${op}=${n}`).join(' ')}; r = snapshot) from ${summary.workloadTransactions} workload transactions after the snapshot`,
        `events applied         ${summary.eventsApplied} (translate's outcomes: ${Object.entries(summaryTranslated).map(([outcome, n]) => `${outcome} ${n}`).join(', ')})`,
        `end-to-end lag         p50 ${seconds(summary.lag.p50)}, p99 ${seconds(summary.lag.p99)} over ${summary.lag.samples} streamed changes (histogram estimate)`,
        `drift                  found ${summary.driftFound} row(s), repaired ${summary.driftRepaired}; canary rolled back ${rolledBack.from} → ${rolledBack.to} by watch`,
        `phases passed          ${summary.phasesPassed.join(' → ')} (now ${summary.finalPhase})`,
        `final reconcile        ${summary.finalReconcile}`,
        `reverse sync           a write on app reached legacy`,
        `reconcile report       ${summary.reports.drift} (and ${summary.reports.markdown}); after cutover ${summary.reports.final}`,
        `audit log              ${summary.auditLog} (${history.length} entries; also tandem rollout history)`,
        `worker log             ${summary.workerLog}`,
      ].join('\n'),
    );

    if (options.keep) {
      story.step('Still running (--keep): Ctrl-C stops everything');
      story.detail(`console ${consoleUrl}  (API key ${apiKey})\nlegacy  ${redactSecrets(environment.legacyUrl)}\napp     ${redactSecrets(environment.appUrl)}`);
      await (options.until ?? new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }));
    }
    story.step('Stopping');
    await cleanup();
    story.ok(`stopped; the stack's data is removed, the reports and logs stay in ${directory}`);
    return summary;
  } catch (error) {
    story.clearLive();
    story.warn(`the demo stopped: what the workers said is in ${workerLog}`);
    throw error;
  } finally {
    story.clearLive();
    await cleanup();
    await new Promise<void>((resolve) => logStream.end(() => resolve()));
  }
}
