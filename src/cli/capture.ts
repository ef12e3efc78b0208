import type { Command } from 'commander';
import { Option } from 'commander';
import { startCaptureService } from '../capture/service.js';
import { dropSlot } from '../capture/setup.js';
import { deleteState } from '../capture/state.js';
import { TandemError } from '../errors.js';
import { connectClient } from '../pg/connect.js';
import { parsePort } from './arguments.js';
import { commandContext } from './context.js';

interface CaptureFlags {
  metricsPort?: number;
  snapshotOnly?: boolean;
  dropSlot?: boolean;
  confirm?: string;
}

export function registerCaptureCommand(program: Command): void {
  program
    .command('capture')
    .description('stream the legacy tables into Kafka as Avro change events (snapshot, then the WAL)')
    .addOption(new Option('--metrics-port <port>', 'port of /metrics and /health (default: capture.metricsPort)').argParser(parsePort))
    .option('--snapshot-only', 'stop after the initial snapshot instead of streaming')
    .option('--drop-slot', "drop the connector's replication slot and snapshot progress, then exit (needs --confirm)")
    .option('--confirm <slot>', 'the slot name, confirming --drop-slot')
    .addHelpText(
      'after',
      `
Capture is a long-running worker: run exactly one per replication slot. It stops cleanly on
SIGINT/SIGTERM; after a crash it resumes from the last transaction Kafka acknowledged.

Examples:
  $ tandem capture --config connectors/demo.ts
  $ tandem capture --metrics-port 9464 --log-level debug
  $ tandem capture --drop-slot --confirm tandem_customers`,
    )
    .action(async (flags: CaptureFlags, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const { logger } = context;

      if (flags.dropSlot) {
        if (flags.confirm !== connector.source.slot) {
          throw new TandemError(`refusing to drop replication slot ${connector.source.slot} without confirmation`, {
            fix: `add --confirm ${connector.source.slot}; the stream position is lost and the next capture starts with a new snapshot`,
          });
        }
        const dropped = await dropSlot(connector);
        const client = await connectClient(connector.source.url, 'source');
        await deleteState(client, connector.name);
        await client.end();
        logger.info({ slot: connector.source.slot }, dropped ? `replication slot ${connector.source.slot} dropped` : `replication slot ${connector.source.slot} did not exist`);
        return;
      }

      // Listen for stop signals from the start: a SIGTERM during startup still stops cleanly.
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const service = await startCaptureService(connector, { logger, metricsPort: flags.metricsPort, snapshotOnly: flags.snapshotOnly });
      if (service.metricsUrl) logger.info({ metrics: `${service.metricsUrl}/metrics` }, `capture running; metrics on ${service.metricsUrl}/metrics`);
      void stopRequested.then(() => {
        logger.info('stopping capture');
        return service.stop();
      });
      try {
        await service.worker.done;
      } finally {
        await service.stop();
      }
    });
}
