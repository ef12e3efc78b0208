import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { runDevSession } from '../dev/dev-session.js';
import { parseNonNegative, parsePort } from './arguments.js';
import type { GlobalOptions } from './context.js';

interface DevFlags {
  dataDir: string;
  pgPort?: number;
  brokerPort?: number;
  registryPort?: number;
  consolePort?: number;
  traffic: number;
  reconcile: string;
  duration?: number;
  statusEvery: number;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('develop a connector: the embedded stack plus capture, translate, scheduled reconcile and the rollout console, reloaded when the connector file changes')
    .option('--data-dir <dir>', 'where the embedded servers keep their data and the worker log (reachable by the postgres user when run as root)', path.join(tmpdir(), 'tandem-dev'))
    .option('--pg-port <port>', 'PostgreSQL port (default 5432, or a free one when it is taken; 0 = any free port)', parsePort)
    .option('--broker-port <port>', 'Kafka broker port (default 9092, or a free one when it is taken)', parsePort)
    .option('--registry-port <port>', 'schema registry port (default 8081, or a free one when it is taken)', parsePort)
    .option('--console-port <port>', 'rollout console port (default rollout.serve.port, or a free one when it is taken)', parsePort)
    .option('--traffic <tps>', 'demo transactions per second against the legacy tables (0 = none)', parseNonNegative, 2)
    .option('--reconcile <cron>', 'schedule of the reconcile runs (6 fields, seconds first)', '*/30 * * * * *')
    .option('--status-every <seconds>', 'seconds between status lines', parseNonNegative, 10)
    .option('--duration <seconds>', 'stop after this many seconds (default: run until Ctrl-C)', parseNonNegative)
    .addHelpText(
      'after',
      `
Starts everything on one machine: an embedded PostgreSQL with the demo's legacy and app databases,
the embedded Kafka-compatible broker and schema registry, and for each connector in connectors/
(or --config) capture, translate, a scheduled reconcile and the rollout console. Edit a connector
file and save: it is validated and reloaded; an invalid version is reported and the running one
keeps going. Without explicit ports, 5432, 9092 and 8081 are used when free and free ports
otherwise; an explicit port that is taken is an error. Worker logs go to <data-dir>/workers.log.

Examples:
  $ tandem dev
  $ tandem dev --config connectors/demo.ts --traffic 20 --reconcile "*/10 * * * * *"
  $ tandem dev --pg-port 0 --broker-port 0 --registry-port 0 --data-dir /var/tmp/tandem-dev`,
    )
    .action(async (flags: DevFlags, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await runDevSession({
        config: options.config,
        dataDir: path.resolve(flags.dataDir),
        pgPort: flags.pgPort,
        brokerPort: flags.brokerPort,
        registryPort: flags.registryPort,
        consolePort: flags.consolePort,
        traffic: flags.traffic,
        reconcileSchedule: flags.reconcile,
        statusEverySeconds: flags.statusEvery,
        durationSeconds: flags.duration,
        // The global default (info) would flood the worker log; warn unless asked otherwise.
        logLevel: options.logLevel === 'info' ? 'warn' : options.logLevel,
      });
    });
}
