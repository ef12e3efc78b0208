import type { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { findConfigFile, loadConnector, type Connector } from '../config/index.js';
import { createLogger, type Logger } from '../observability/logger.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: LevelWithSilent;
}

/** What every command needs: the global options, a logger, and the connector on demand. */
export function commandContext(command: Command): { options: GlobalOptions; logger: Logger; connector(): Promise<Connector> } {
  const options = command.optsWithGlobals<GlobalOptions>();
  const logger = createLogger({ level: options.logLevel });
  return {
    options,
    logger,
    connector: () => loadConnector(findConfigFile(options.config)),
  };
}
