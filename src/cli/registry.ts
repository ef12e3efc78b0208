import type { Command } from 'commander';
import { startRegistry } from '../embedded/registry/index.js';
import { TandemError } from '../errors.js';
import { parsePort } from './arguments.js';
import { commandContext } from './context.js';

export function registerRegistryCommand(program: Command): void {
  program
    .command('registry')
    .description('run the embedded Confluent-compatible schema registry (ids and versions survive restarts)')
    .option('--port <port>', 'port to listen on (0 = any free port)', parsePort, 8081)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where schemas are stored', '.tandem/registry')
    .option('--basic-auth <user:password>', 'require HTTP basic auth (default: $TANDEM_REGISTRY_BASIC_AUTH)')
    .addHelpText(
      'after',
      `
Examples:
  $ tandem registry --port 8081 --data-dir .tandem/registry
  $ TANDEM_REGISTRY_BASIC_AUTH=ci:secret tandem registry`,
    )
    .action(async (options: { port: number; host: string; dataDir: string; basicAuth?: string }, command: Command) => {
      const { logger } = commandContext(command);
      const basicAuth = options.basicAuth ?? process.env.TANDEM_REGISTRY_BASIC_AUTH;
      if (basicAuth !== undefined && !basicAuth.includes(':')) throw new TandemError('--basic-auth must be user:password', { fix: 'e.g. --basic-auth ci:secret' });
      const registry = await startRegistry({ port: options.port, host: options.host, dataDir: options.dataDir, basicAuth, logger });
      logger.info({ url: registry.url, dataDir: options.dataDir }, `schema registry listening on ${registry.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await registry.stop();
    });
}
