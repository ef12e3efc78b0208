import type { Command } from 'commander';
import { runDemo } from '../dev/demo-run.js';
import { parsePort } from './arguments.js';
import type { GlobalOptions } from './context.js';

interface DemoFlags {
  fast?: boolean;
  keep?: boolean;
  pgPort?: number;
  brokerPort?: number;
  registryPort?: number;
  consolePort?: number;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('a whole zero-downtime migration on this machine, as a story: capture, translate, reconcile, drift and repair, rollout to cutover')
    .option('--fast', 'small data and short intervals (about a minute)')
    .option('--keep', 'keep everything running after the summary (console at /) until Ctrl-C')
    .option('--pg-port <port>', 'PostgreSQL port (default: any free port)', parsePort)
    .option('--broker-port <port>', 'Kafka broker port (default: any free port)', parsePort)
    .option('--registry-port <port>', 'schema registry port (default: any free port)', parsePort)
    .option('--console-port <port>', 'rollout console and OFREP port (default: any free port)', parsePort)
    .addHelpText(
      'after',
      `
Starts the embedded PostgreSQL, broker and schema registry in a temporary directory, creates the
demo's legacy and new schemas (src/dev/demo.ts) and runs tandem's connectors/demo.ts (or --config,
a connector over the same schemas): capture and translate under a write workload, reconcile, drift injected on the new side
(reported, alerted to a local webhook, rolled back by rollout watch, repaired), then the rollout
plan to cutover with reverse sync. Prints a summary of measured values and exits 0. Worker logs
(warnings and errors) go to a file in the temporary directory.

Examples:
  $ tandem demo
  $ tandem demo --fast
  $ tandem demo --keep --console-port 8470`,
    )
    .action(async (flags: DemoFlags, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await runDemo({ fast: flags.fast ?? false, keep: flags.keep ?? false, pgPort: flags.pgPort, brokerPort: flags.brokerPort, registryPort: flags.registryPort, consolePort: flags.consolePort, config: options.config });
    });
}
