import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { startBroker, type BrokerOptions, type RunningBroker } from '../../src/embedded/broker/index.js';
import { createLogger } from '../../src/observability/logger.js';

export interface TestBroker extends RunningBroker {
  dataDir: string;
  kafka(config?: Partial<KafkaConfig>): Kafka;
}

/** An in-process broker on a free port with its own temporary data dir (removed by stop()). */
export async function startTestBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tandem-broker-'));
  const broker = await startBroker({ port: 0, logger: createLogger({ level: 'error', pretty: false }), ...options, dataDir });
  return {
    ...broker,
    dataDir,
    kafka: (config = {}) => kafkaClient(broker.brokers, config),
    async stop() {
      await broker.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function kafkaClient(brokers: string[], config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: 'test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 }, ...config });
}
