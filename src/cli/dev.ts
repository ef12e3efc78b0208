import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import { startCapture } from '../capture/worker.js';
import { findConfigFile, loadConnector } from '../config/index.js';
import { demoTraffic, seedDemo, DEMO_APP_SCHEMA } from '../dev/demo.js';
import { startEmbeddedPostgres } from '../embedded/postgres.js';
import { startKafkaStack } from '../embedded/stack.js';
import { createCaptureMetrics } from '../observability/metrics.js';
import { startObservabilityServer } from '../observability/server.js';
import { createRegistryClient } from '../schema/registry-client.js';
import { redactSecrets } from '../observability/redact.js';
import { parseNonNegative, parsePort } from './arguments.js';
import { commandContext } from './context.js';

interface DevFlags {
  dataDir: string;
  pgPort: number;
  brokerPort: number;
  registryPort: number;
  metricsPort: number;
  traffic: number;
  duration?: number;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('run the demo migration on the embedded stack: PostgreSQL, broker, registry and capture on this machine')
    .option('--data-dir <dir>', 'where the embedded servers keep their data (reachable by the postgres user when run as root)', path.join(tmpdir(), 'tandem-dev'))
    .option('--pg-port <port>', 'PostgreSQL port (0 = any free port)', parsePort, 5432)
    .option('--broker-port <port>', 'Kafka broker port (0 = any free port)', parsePort, 9092)
    .option('--registry-port <port>', 'schema registry port (0 = any free port)', parsePort, 8081)
    .option('--metrics-port <port>', 'capture /metrics and /health port (0 = any free port)', parsePort, 9464)
    .option('--traffic <tps>', 'demo transactions per second against the legacy tables (0 = none)', parseNonNegative, 2)
    .option('--duration <seconds>', 'stop after this many seconds (default: run until Ctrl-C)', parseNonNegative)
    .addHelpText(
      'after',
      `
Starts everything on one machine: an embedded PostgreSQL with the demo legacy and app databases,
the embedded Kafka-compatible broker and schema registry, and capture for the connector
(default connectors/customers.ts). Live demo traffic keeps changing the legacy tables.

Examples:
  $ tandem dev
  $ tandem dev --duration 30 --traffic 20
  $ tandem dev --pg-port 0 --broker-port 0 --registry-port 0 --data-dir /var/tmp/tandem-demo`,
    )
    .action(async (flags: DevFlags, command: Command) => {
      const { logger, options } = commandContext(command);
      const dataDir = path.resolve(flags.dataDir);
      mkdirSync(dataDir, { recursive: true });
      const postgres = await startEmbeddedPostgres({ port: flags.pgPort, dataDir: path.join(dataDir, 'postgres'), logger });
      const stack = await startKafkaStack({ dataDir, logger, brokerPort: flags.brokerPort, registryPort: flags.registryPort }).catch(async (error: unknown) => {
        await postgres.stop();
        throw error;
      });
      const stopServers = async () => {
        await stack.stop();
        await postgres.stop();
      };
      try {
        await prepareDatabases(postgres.url, postgres.urlFor);
        process.env.TANDEM_SOURCE_URL = postgres.urlFor('legacy');
        process.env.TANDEM_TARGET_URL = postgres.urlFor('app');
        process.env.TANDEM_KAFKA_BROKER = stack.brokers[0];
        process.env.TANDEM_REGISTRY_URL = stack.registryUrl;
        const connector = await loadConnector(findConfigFile(options.config));
        logger.info({ postgres: `127.0.0.1:${postgres.port}`, brokers: stack.brokers, registry: stack.registryUrl }, 'embedded stack ready');

        const metrics = createCaptureMetrics();
        const worker = await startCapture(connector, { logger, metrics, registry: createRegistryClient(connector.registry) });
        const stallAfterMs = connector.capture.heartbeatIntervalMs * 3;
        const server = await startObservabilityServer({ port: flags.metricsPort, registry: metrics.registry, health: () => worker.health(stallAfterMs) });
        const topics = connector.source.tables.map((table) => `${connector.kafka.topicPrefix}.${table}`);
        process.stdout.write(
          [
            'tandem dev: the embedded stack is running (Ctrl-C stops it; data stays in ' + dataDir + ')',
            `  legacy database   ${redactSecrets(postgres.urlFor('legacy'))}`,
            `  new database      ${redactSecrets(postgres.urlFor('app'))}`,
            `  Kafka broker      ${stack.brokers.join(',')}  topics: ${topics.join(', ')}`,
            `  schema registry   ${stack.registryUrl}/subjects`,
            `  capture metrics   ${server.url}/metrics  health: ${server.url}/health`,
            `  try               kcat -b ${stack.brokers[0]} -L`,
            '',
          ].join('\n'),
        );
        const legacy = new pg.Client({ connectionString: postgres.urlFor('legacy') });
        await legacy.connect();
        let transactions = 0;
        const traffic = flags.traffic > 0
          ? setInterval(() => void demoTraffic(legacy).then(() => transactions++, (error: unknown) => logger.warn({ err: error }, 'demo traffic failed')), 1000 / flags.traffic)
          : null;

        const summary = async () => {
          const events = (await metrics.events.get()).values.map((value) => `${value.labels.table} ${value.labels.op}=${value.value}`).join(', ');
          process.stdout.write(`captured: ${events || 'nothing yet'} | demo transactions: ${transactions} | metrics: ${server.url}/metrics\n`);
        };
        const ticker = setInterval(() => void summary(), 5000);
        await new Promise<void>((resolve, reject) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
          if (flags.duration !== undefined) setTimeout(resolve, flags.duration * 1000);
          worker.done.then(resolve, reject);
        });
        clearInterval(ticker);
        if (traffic) clearInterval(traffic);
        await legacy.end();
        await worker.stop();
        await server.close();
        await summary();
      } finally {
        await stopServers();
      }
    });
}

async function prepareDatabases(adminUrl: string, urlFor: (database: string) => string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const database of ['legacy', 'app']) {
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rows.length === 0) await admin.query(`CREATE DATABASE ${database}`);
    }
  } finally {
    await admin.end();
  }
  const legacy = new pg.Client({ connectionString: urlFor('legacy') });
  const app = new pg.Client({ connectionString: urlFor('app') });
  await Promise.all([legacy.connect(), app.connect()]);
  try {
    await seedDemo(legacy);
    await app.query(DEMO_APP_SCHEMA);
  } finally {
    await Promise.all([legacy.end(), app.end()]);
  }
}
