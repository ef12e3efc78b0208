import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConnector } from '../../src/config/load.js';
import type { Connector } from '../../src/config/index.js';

/**
 * Chosen once per test file (vitest loads support modules per file). On Apache Kafka all test files
 * share one broker whose topics persist, so a test names its connectors (the topic prefix) and
 * topics with uniqueName(); the names stay valid connector, slot and topic names.
 */
export const fileSuffix = randomBytes(3).toString('hex');

/** `base` made unique to this test file, e.g. uniqueName('crash') = 'crash_3fa9c1'. */
export function uniqueName(base: string): string {
  return `${base}_${fileSuffix}`;
}

export interface TestConnectorOptions {
  name: string;
  sourceUrl: string;
  targetUrl?: string;
  tables: string[];
  brokers: string[];
  registryUrl: string;
  /** Over the test defaults: heartbeats every 500 ms, snapshot chunks of 500 rows. */
  capture?: Record<string, unknown>;
  /** Whole sections to replace. */
  extra?: Record<string, unknown>;
}

/** A connector declaration for tests: source and target on the test server, Kafka and registry from the embedded stack. */
function testConnectorInput(options: TestConnectorOptions): Record<string, unknown> {
  return {
    name: options.name,
    source: { url: options.sourceUrl, schema: 'legacy', tables: options.tables },
    kafka: { brokers: options.brokers, topicPrefix: options.name },
    registry: { url: options.registryUrl },
    target: { url: options.targetUrl ?? options.sourceUrl, schema: 'app' },
    capture: { heartbeatIntervalMs: 500, snapshotChunkSize: 500, ...options.capture },
    ...options.extra,
  };
}

/** The validated connector, for workers started in the test process. */
export function testConnector(options: TestConnectorOptions): Connector {
  return parseConnector(testConnectorInput(options));
}

/** The connector as a file (a plain-object default export), for `tandem` child processes. */
export function writeTestConnectorFile(options: TestConnectorOptions): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-connector-')), `${options.name}.ts`);
  writeFileSync(file, `export default ${JSON.stringify(testConnectorInput(options))};\n`);
  return file;
}
