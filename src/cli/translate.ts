import type { Command } from 'commander';
import { Option } from 'commander';
import { startObservabilityServer } from '../observability/server.js';
import { createTranslateMetrics } from '../translate/metrics.js';
import { startTranslate, translateGroupId } from '../translate/worker.js';
import { parsePort } from './arguments.js';
import { commandContext } from './context.js';

export function registerTranslateCommand(program: Command): void {
  program
    .command('translate')
    .description('apply the change events to the new schema through the SQL mappings, exactly once')
    .addOption(new Option('--metrics-port <port>', 'port of /metrics and /health (default: translate.metricsPort)').argParser(parsePort))
    .addHelpText(
      'after',
      `
Translate is a long-running worker. Run several with the same connector to share the partitions
(one consumer group, tandem-translate-<connector> unless translate.groupId says otherwise). It
refuses to start while a mapping does not fit the target, listing every problem. It stops cleanly
on SIGINT/SIGTERM after the batch in flight; after a crash it resumes from the offsets stored in
the target database with the rows, so nothing is applied twice.

Examples:
  $ tandem translate --config connectors/demo.ts
  $ tandem translate --metrics-port 9465 --log-level debug`,
    )
    .action(async (flags: { metricsPort?: number }, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const { logger } = context;
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const metrics = createTranslateMetrics();
      const worker = await startTranslate(connector, { logger, metrics });
      const server = await startObservabilityServer({ port: flags.metricsPort ?? connector.translate.metricsPort, registry: metrics.registry, health: () => worker.health() });
      logger.info({ metrics: `${server.url}/metrics`, groupId: translateGroupId(connector) }, `translate running; metrics on ${server.url}/metrics`);
      void stopRequested.then(() => {
        logger.info('stopping translate after the batch in flight');
        return worker.stop();
      });
      try {
        await worker.done;
      } finally {
        await server.close();
      }
    });
}
