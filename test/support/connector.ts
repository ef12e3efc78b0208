import { parseConnector } from '../../src/config/load.js';
import type { Connector } from '../../src/config/index.js';

/** A validated connector for tests: source and target on the test server, Kafka and registry from the embedded stack. */
export function testConnector(options: {
  name: string;
  sourceUrl: string;
  targetUrl?: string;
  tables: string[];
  brokers: string[];
  registryUrl: string;
  extra?: Record<string, unknown>;
}): Connector {
  return parseConnector({
    name: options.name,
    source: { url: options.sourceUrl, schema: 'legacy', tables: options.tables },
    kafka: { brokers: options.brokers, topicPrefix: options.name },
    registry: { url: options.registryUrl },
    target: { url: options.targetUrl ?? options.sourceUrl, schema: 'app' },
    capture: { heartbeatIntervalMs: 500, snapshotChunkSize: 500 },
    ...options.extra,
  });
}
