import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import { startBroker } from './broker/index.js';
import type { BrokerTestHooks } from './broker/options.js';
import { startRegistry } from './registry/index.js';

export interface EmbeddedKafkaStack {
  brokers: string[];
  registryUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** The embedded broker and schema registry together, on free ports, under one data directory. */
export async function startKafkaStack(
  options: { dataDir?: string; logger?: Logger; brokerPort?: number; registryPort?: number; brokerTestHooks?: BrokerTestHooks } = {},
): Promise<EmbeddedKafkaStack> {
  const owned = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'tandem-stack-'));
  const broker = await startBroker({ port: options.brokerPort ?? 0, dataDir: path.join(dataDir, 'broker'), logger: options.logger, testHooks: options.brokerTestHooks });
  const registry = await startRegistry({ port: options.registryPort ?? 0, dataDir: path.join(dataDir, 'registry'), logger: options.logger }).catch(async (error: unknown) => {
    await broker.stop();
    throw error;
  });
  return {
    brokers: broker.brokers,
    registryUrl: registry.url,
    dataDir,
    async stop() {
      await registry.stop();
      await broker.stop();
      if (owned) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
