import type { Command } from 'commander';
import { Option } from 'commander';
import { startBroker, type FsyncPolicy } from '../embedded/broker/index.js';
import { parseCount, parsePort } from './arguments.js';
import { commandContext } from './context.js';

interface BrokerFlags {
  port: number;
  host: string;
  dataDir: string;
  saslPlain?: string;
  autoCreateTopics?: boolean;
  defaultPartitions: number;
  maxMessageBytes?: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
}

export function registerBrokerCommand(program: Command): void {
  program
    .command('broker')
    .description('run the embedded single-node Kafka-compatible broker (development and tests)')
    .addOption(new Option('--port <port>', 'TCP port; 0 picks a free one').argParser(parsePort).default(9092))
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .requiredOption('--data-dir <dir>', 'directory for partition logs, topic metadata and committed offsets')
    .option('--sasl-plain <user:pass>', 'require SASL/PLAIN authentication with these credentials')
    .option('--auto-create-topics', 'create unknown topics on first use instead of answering UNKNOWN_TOPIC_OR_PARTITION')
    .addOption(new Option('--default-partitions <n>', 'partitions of auto-created topics').argParser(parseCount).default(1))
    .addOption(new Option('--max-message-bytes <n>', 'largest record batch accepted (default 1048588)').argParser(parseCount))
    .addOption(new Option('--fsync <policy>', 'when appended data is forced to disk').choices(['always', 'interval', 'never']).default('interval'))
    .addOption(new Option('--fsync-interval-ms <ms>', 'flush period of --fsync interval').argParser(parseCount).default(1000))
    .addHelpText(
      'after',
      `
The broker stores each partition as segment files under --data-dir and recovers them after a crash.
--fsync always: acks=-1 produces and offset commits are answered after fsync (group-committed).
--fsync interval: fsync every --fsync-interval-ms; a killed process loses nothing, a power cut up to
that much. --fsync never: the OS decides. It stops cleanly on SIGINT/SIGTERM.

Examples:
  $ tandem broker --data-dir .tandem/broker
  $ tandem broker --port 0 --data-dir /tmp/broker --auto-create-topics --default-partitions 3
  $ tandem broker --data-dir /var/lib/tandem --sasl-plain app:secret --fsync always
  $ kcat -b 127.0.0.1:9092 -L`,
    )
    .action(async (flags: BrokerFlags, command: Command) => {
      const { logger } = commandContext(command);
      const broker = await startBroker({
        port: flags.port,
        host: flags.host,
        dataDir: flags.dataDir,
        saslPlain: flags.saslPlain,
        autoCreateTopics: flags.autoCreateTopics ?? false,
        defaultPartitions: flags.defaultPartitions,
        maxMessageBytes: flags.maxMessageBytes,
        fsync: flags.fsync,
        fsyncIntervalMs: flags.fsyncIntervalMs,
        logger,
      });
      // Handlers go in before the ready line: whoever reads it may signal us right away.
      const stopped = new Promise<void>((resolve) => {
        const shutdown = () => {
          process.off('SIGINT', shutdown);
          process.off('SIGTERM', shutdown);
          logger.info('stopping broker');
          void broker.stop().then(resolve);
        };
        process.on('SIGINT', shutdown);
        process.on('SIGTERM', shutdown);
      });
      const [bootstrap] = broker.brokers;
      logger.info({ bootstrap, dataDir: flags.dataDir }, `broker listening on ${bootstrap}`);
      await stopped;
      logger.info('broker stopped');
    });
}
