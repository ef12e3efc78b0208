/**
 * `tandem dev`: the embedded stack (with the demo databases) plus, for each connector in
 * connectors/ (or --config), capture, translate, a scheduled reconcile and the rollout console,
 * for someone writing their own connector. A connector file that changes is loaded again: an
 * invalid one is reported and the running version keeps going; a valid one replaces it (and if the
 * new version cannot start, the old one is started again). Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { LevelWithSilent } from 'pino';
import { startCaptureService, type CaptureService } from '../capture/service.js';
import { findConfigFile, loadConnector, type Connector } from '../config/index.js';
import { describeError } from '../errors.js';
import { topicFor } from '../kafka/topics.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { redactSecrets } from '../observability/redact.js';
import { startScheduledReconcile, type ScheduledReconcile } from '../reconcile/schedule.js';
import { openRollout, type RolloutRuntime } from '../rollout/runtime.js';
import { createGateClient, type GateClient } from '../rollout/sdk.js';
import { startRolloutServer } from '../rollout/server.js';
import { createTranslateMetrics, type TranslateMetrics } from '../translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../translate/worker.js';
import { demoTraffic } from './demo.js';
import { startDevEnvironment } from './embedded-environment.js';
import { capturedEvents, translatedEvents } from './measure.js';
import { choosePort } from './ports.js';
import { quietWorkerTerminal } from './story.js';

export interface DevSessionOptions {
  /** One connector file (`--config`); else every connector file in connectors/ (or tandem.config.ts). */
  config?: string;
  cwd?: string;
  dataDir: string;
  /** Explicit ports (strict; 0 = any free one); undefined = the usual port, or a free one when it is taken. */
  pgPort?: number;
  brokerPort?: number;
  registryPort?: number;
  /** The first connector's console port; undefined = rollout.serve.port, or a free one when taken. */
  consolePort?: number;
  /** Demo transactions per second against the legacy tables; 0 = none. */
  traffic: number;
  /** Cron pattern of the scheduled reconcile (6 fields: seconds first). */
  reconcileSchedule: string;
  /** Stop after this many seconds; undefined = until SIGINT/SIGTERM. */
  durationSeconds?: number;
  /** Seconds between status lines. */
  statusEverySeconds?: number;
  /** Level of the worker log file (default warn). */
  logLevel?: LevelWithSilent;
  out?: NodeJS.WritableStream;
}

/** One connector's workers. */
class ConnectorPipeline {
  private constructor(
    readonly file: string,
    readonly connector: Connector,
    readonly capture: CaptureService,
    readonly translate: TranslateWorker,
    readonly translateMetrics: TranslateMetrics,
    readonly reconcile: ScheduledReconcile,
    readonly rollout: RolloutRuntime,
    readonly gates: GateClient,
    readonly server: Awaited<ReturnType<typeof startRolloutServer>>,
    /** Reads the latest reconcile run for the status line (the server's connection is its own). */
    readonly statusClient: pg.Client,
  ) {}

  static async start(file: string, loaded: Connector, options: { logger: Logger; apiKey: string; consolePort: number; reconcileSchedule: string }): Promise<ConnectorPipeline> {
    const { logger } = options;
    const connector: Connector = {
      ...loaded,
      capture: { ...loaded.capture, metricsPort: 0 },
      translate: { ...loaded.translate, metricsPort: 0 },
      reconcile: { ...loaded.reconcile, metricsPort: 0 },
      rollout: { ...loaded.rollout, serve: { ...loaded.rollout.serve, apiKeys: { ...loaded.rollout.serve.apiKeys, dev: { key: options.apiKey, role: 'operate' } } } },
    };
    const stops: (() => Promise<unknown>)[] = [];
    const undo = async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    };
    try {
      const capture = await startCaptureService(connector, { logger, metricsPort: 0 });
      stops.push(() => capture.stop());
      const translateMetrics = createTranslateMetrics();
      const translate = await startTranslate(connector, { logger, metrics: translateMetrics });
      stops.push(() => translate.stop());
      const reconcile = await startScheduledReconcile(connector, options.reconcileSchedule, { logger, metricsPort: 0 });
      stops.push(() => reconcile.stop());
      const rollout = await openRollout(connector, logger);
      stops.push(() => rollout.close());
      const gates = await createGateClient({ connectionString: connector.target.url, migration: connector.name, logger, clientId: `tandem-dev:${process.pid}` });
      stops.push(() => gates.close());
      const server = await startRolloutServer({ connector, controller: rollout.controller, client: rollout.target, gates, logger, port: options.consolePort, host: '127.0.0.1' });
      stops.push(() => server.close());
      const statusClient = new pg.Client({ connectionString: connector.target.url });
      await statusClient.connect();
      return new ConnectorPipeline(file, connector, capture, translate, translateMetrics, reconcile, rollout, gates, server, statusClient);
    } catch (error) {
      await undo();
      throw error;
    }
  }

  get consoleUrl(): string {
    return `http://127.0.0.1:${this.server.port}/`;
  }

  async stop(): Promise<void> {
    await this.statusClient.end().catch(() => undefined);
    await this.server.close().catch(() => undefined);
    await this.gates.close().catch(() => undefined);
    await this.rollout.close();
    await this.reconcile.stop().catch(() => undefined);
    await this.translate.stop().catch(() => undefined);
    await this.capture.stop().catch(() => undefined);
  }
}

/** The connector files of the session: --config, tandem.config.ts, or every file in connectors/. */
export function connectorFiles(config: string | undefined, cwd: string): string[] {
  if (config) return [findConfigFile(config, cwd)];
  if (existsSync(path.join(cwd, 'tandem.config.ts'))) return [path.join(cwd, 'tandem.config.ts')];
  const dir = path.join(cwd, 'connectors');
  const files = existsSync(dir) ? readdirSync(dir).filter((file) => /\.(ts|mts|js|mjs)$/.test(file)).map((file) => path.join(dir, file)) : [];
  return files.length > 0 ? files.sort() : [findConfigFile(undefined, cwd)];
}

export async function runDevSession(options: DevSessionOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const cwd = options.cwd ?? process.cwd();
  const print = (text: string): void => {
    out.write(`${text}\n`);
  };
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const workerLog = path.join(dataDir, 'workers.log');
  const logStream = createWriteStream(workerLog, { flags: 'a' });
  const logger = createLogger({ level: options.logLevel ?? 'warn', destination: logStream, pretty: false });
  const apiKey = randomBytes(12).toString('hex');
  // Capture draws snapshot progress bars when stderr is a terminal; here the workers' output belongs
  // in the worker log, and the terminal to the story (capture has no switch for it yet).
  quietWorkerTerminal();
  const files = connectorFiles(options.config, cwd);

  const [pgPort, brokerPort, registryPort] = await Promise.all([choosePort(options.pgPort, 5432), choosePort(options.brokerPort, 9092), choosePort(options.registryPort, 8081)]);
  const environment = await startDevEnvironment({ dataDir, pgPort, brokerPort, registryPort, logger });
  const pipelines = new Map<string, ConnectorPipeline>();
  const watchers: FSWatcher[] = [];
  let legacy: pg.Client | null = null;
  let traffic: NodeJS.Timeout | null = null;
  let ticker: NodeJS.Timeout | null = null;
  try {
    const fallback = (explicit: number | undefined, usual: number, actual: number) => (explicit === undefined && usual !== actual ? ` (${usual} is taken)` : '');
    print(
      [
        `tandem dev: the embedded stack is running (Ctrl-C stops everything; data stays in ${dataDir})`,
        `  PostgreSQL        127.0.0.1:${environment.postgres.port}${fallback(options.pgPort, 5432, environment.postgres.port)}`,
        `  legacy database   ${redactSecrets(environment.legacyUrl)}`,
        `  new database      ${redactSecrets(environment.appUrl)}`,
        `  Kafka broker      ${environment.stack.brokers.join(',')}${fallback(options.brokerPort, 9092, Number(environment.stack.brokers[0]!.split(':').at(-1)))}`,
        `  schema registry   ${environment.stack.registryUrl}${fallback(options.registryPort, 8081, Number(new URL(environment.stack.registryUrl).port))}`,
        `  worker log        ${workerLog}`,
        `  console API key   ${apiKey}  (the password of the browser's login, any user name)`,
      ].join('\n'),
    );

    let nextConsolePort = options.consolePort;
    const consolePortFor = async (connector: Connector) => {
      if (nextConsolePort !== undefined) {
        const port = nextConsolePort;
        nextConsolePort = 0; // the other connectors' consoles go on free ports
        return port;
      }
      return choosePort(undefined, connector.rollout.serve.port);
    };
    const start = async (file: string, connector: Connector) => {
      const pipeline = await ConnectorPipeline.start(file, connector, { logger, apiKey, consolePort: await consolePortFor(connector), reconcileSchedule: options.reconcileSchedule });
      pipelines.set(file, pipeline);
      const topics = connector.source.tables.map((table) => topicFor(connector.kafka.topicPrefix, table));
      print(
        [
          `connector ${connector.name} (${path.relative(cwd, file)}): capture, translate, reconcile "${options.reconcileSchedule}", console`,
          `  topics            ${topics.join(', ')}`,
          `  capture metrics   ${pipeline.capture.metricsUrl}/metrics`,
          `  reconcile         ${pipeline.reconcile.metricsUrl}/metrics  (tandem reconcile --config ${path.relative(cwd, file)} for a report)`,
          `  rollout console   ${pipeline.consoleUrl}`,
        ].join('\n'),
      );
      return pipeline;
    };

    for (const file of files) await start(file, await loadConnector(file));

    // Reload on change; a burst of file events for one save is handled once, one reload at a time.
    let reloading = Promise.resolve();
    const pending = new Map<string, NodeJS.Timeout>();
    const reload = async (file: string) => {
      const name = path.relative(cwd, file);
      const running = pipelines.get(file);
      if (!existsSync(file)) {
        if (running) {
          await running.stop();
          pipelines.delete(file);
          print(`${name} was removed: connector ${running.connector.name} stopped`);
        }
        return;
      }
      let connector: Connector;
      try {
        connector = await loadConnector(file);
      } catch (error) {
        print(`✗ ${name} has a problem; ${running ? `the running version of ${running.connector.name} keeps going` : 'not started'}:\n${indent(describeError(error))}`);
        return;
      }
      print(`↻ ${name} changed: restarting connector ${connector.name}`);
      if (running) await running.stop();
      pipelines.delete(file);
      try {
        await start(file, connector);
        print(`✔ ${name} reloaded; changed mappings apply to the changes from now on (the scheduled reconcile reports rows written by the old ones; tandem reconcile --repair rewrites them)`);
      } catch (error) {
        print(`✗ ${name} did not start:\n${indent(describeError(error))}`);
        if (running) {
          await start(file, running.connector).then(
            () => print(`  the previous version of ${running.connector.name} runs again`),
            (again: unknown) => print(`  the previous version did not start again either: ${describeError(again)}`),
          );
        }
      }
    };
    for (const dir of new Set(files.map((file) => path.dirname(file)))) {
      const sessionFiles = options.config ? new Set(files) : null;
      watchers.push(
        watch(dir, (_event, filename) => {
          if (!filename || !/\.(ts|mts|js|mjs)$/.test(filename)) return;
          const file = path.join(dir, filename);
          if (sessionFiles && !sessionFiles.has(file)) return;
          if (!sessionFiles && path.basename(file) !== 'tandem.config.ts' && path.basename(dir) !== 'connectors') return;
          clearTimeout(pending.get(file));
          pending.set(
            file,
            setTimeout(() => {
              pending.delete(file);
              reloading = reloading
                .then(() => reload(file))
                .catch((error: unknown) => {
                  print(`✗ reloading ${path.relative(cwd, file)}: ${describeError(error)}`);
                });
            }, 200),
          );
        }),
      );
    }
    print(`watching ${[...new Set(files.map((file) => path.relative(cwd, path.dirname(file)) || '.'))].join(', ')} for changes`);

    let transactions = 0;
    if (options.traffic > 0) {
      const client = new pg.Client({ connectionString: environment.legacyUrl });
      await client.connect();
      legacy = client;
      let busy = false;
      traffic = setInterval(() => {
        if (busy) return;
        busy = true;
        void demoTraffic(client)
          .then(() => (transactions += 1), (error: unknown) => logger.warn({ err: error }, `demo traffic failed: ${(error as Error).message}`))
          .finally(() => {
            busy = false;
          });
      }, 1000 / options.traffic);
    }
    const status = async () => {
      const parts: string[] = [];
      for (const pipeline of pipelines.values()) {
        const captured = await capturedEvents(pipeline.capture.metrics);
        const applied = (await translatedEvents(pipeline.translateMetrics)).applied ?? 0;
        const { rows } = await pipeline.statusClient.query<{ id: string; status: string; drift_rows: string }>(
          'SELECT run.id::text AS id, run.status, run.drift_rows::text AS drift_rows FROM tandem.reconcile_run AS run WHERE run.connector = $1 AND run.finished_at IS NOT NULL ORDER BY run.id DESC LIMIT 1',
          [pipeline.connector.name],
        ).catch(() => ({ rows: [] as { id: string; status: string; drift_rows: string }[] }));
        const last = rows[0] ? `reconcile run ${rows[0].id} ${rows[0].status}${rows[0].status === 'drift' ? ` (${rows[0].drift_rows} rows)` : ''}` : 'no reconcile run yet';
        parts.push(`${pipeline.connector.name}: captured ${captured.total} (${Object.entries(captured.byOp).map(([op, n]) => `${op}=${n}`).join(' ')}), applied ${applied}, ${last}`);
      }
      print(`${new Date().toISOString().slice(11, 19)} ${parts.join(' | ') || 'no connector running'}${options.traffic > 0 ? ` | demo transactions ${transactions}` : ''}`);
    };
    ticker = setInterval(() => void status().catch(() => undefined), (options.statusEverySeconds ?? 10) * 1000);

    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (options.durationSeconds !== undefined) setTimeout(done, options.durationSeconds * 1000);
    });
    print('stopping…');
    for (const timer of pending.values()) clearTimeout(timer);
    await reloading;
    if (ticker) clearInterval(ticker);
    if (traffic) clearInterval(traffic);
    await status().catch(() => undefined);
  } finally {
    if (ticker) clearInterval(ticker);
    if (traffic) clearInterval(traffic);
    for (const watcher of watchers) watcher.close();
    await legacy?.end().catch(() => undefined);
    for (const pipeline of pipelines.values()) await pipeline.stop().catch(() => undefined);
    await environment.stop();
    await new Promise<void>((resolve) => logStream.end(() => resolve()));
  }
  print('stopped');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
