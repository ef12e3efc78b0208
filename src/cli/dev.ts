import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { runDevSession } from '../dev/dev-session.js';
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
      await runDevSession({ ...flags, config: options.config, dataDir: path.resolve(flags.dataDir), durationSeconds: flags.duration }, logger);
    });
}
