import pg from 'pg';
import { startCaptureService } from '../capture/service.js';
import { findConfigFile, loadConnector } from '../config/index.js';
import { topicFor } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { redactSecrets } from '../observability/redact.js';
import { demoTraffic } from './demo.js';
import { startDevEnvironment, type DevEnvironmentOptions } from './embedded-environment.js';

export interface DevSessionOptions extends Omit<DevEnvironmentOptions, 'logger'> {
  /** The connector file (`--config`), else the default lookup. */
  config?: string;
  metricsPort: number;
  /** Demo transactions per second against the legacy tables; 0 = none. */
  traffic: number;
  /** Stop after this many seconds; undefined = until SIGINT/SIGTERM. */
  durationSeconds?: number;
}

/**
 * `tandem dev`: the embedded stack with the demo databases, capture for the connector, and live
 * demo traffic, until Ctrl-C (or the duration). Prints where everything is and a running count.
 */
export async function runDevSession(options: DevSessionOptions, logger: Logger): Promise<void> {
  const environment = await startDevEnvironment({ ...options, logger });
  try {
    const connector = await loadConnector(findConfigFile(options.config));
    const { stack, postgres } = environment;
    logger.info({ postgres: `127.0.0.1:${postgres.port}`, brokers: stack.brokers, registry: stack.registryUrl }, 'embedded stack ready');
    const capture = await startCaptureService(connector, { logger, metricsPort: options.metricsPort });
    const topics = connector.source.tables.map((table) => topicFor(connector.kafka.topicPrefix, table));
    process.stdout.write(
      [
        `tandem dev: the embedded stack is running (Ctrl-C stops it; data stays in ${options.dataDir})`,
        `  legacy database   ${redactSecrets(environment.legacyUrl)}`,
        `  new database      ${redactSecrets(environment.appUrl)}`,
        `  Kafka broker      ${stack.brokers.join(',')}  topics: ${topics.join(', ')}`,
        `  schema registry   ${stack.registryUrl}/subjects`,
        `  capture metrics   ${capture.metricsUrl}/metrics  health: ${capture.metricsUrl}/health`,
        `  try               kcat -b ${stack.brokers[0]} -L`,
        '',
      ].join('\n'),
    );
    const legacy = new pg.Client({ connectionString: environment.legacyUrl });
    await legacy.connect();
    let transactions = 0;
    const traffic =
      options.traffic > 0
        ? setInterval(() => void demoTraffic(legacy).then(() => transactions++, (error: unknown) => logger.warn({ err: error }, 'demo traffic failed')), 1000 / options.traffic)
        : null;
    const summary = async () => {
      const events = (await capture.metrics.events.get()).values.map((value) => `${value.labels.table} ${value.labels.op}=${value.value}`).join(', ');
      process.stdout.write(`captured: ${events || 'nothing yet'} | demo transactions: ${transactions} | metrics: ${capture.metricsUrl}/metrics\n`);
    };
    const ticker = setInterval(() => void summary(), 5000);
    try {
      await new Promise<void>((resolve, reject) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
        if (options.durationSeconds !== undefined) setTimeout(resolve, options.durationSeconds * 1000);
        capture.worker.done.then(resolve, reject);
      });
    } finally {
      clearInterval(ticker);
      if (traffic) clearInterval(traffic);
      await legacy.end();
      await capture.stop();
    }
    await summary();
  } finally {
    await environment.stop();
  }
}
