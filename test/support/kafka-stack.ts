import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, inject, it } from 'vitest';
import { startRegistry } from '../../src/embedded/registry/index.js';
import { startKafkaStack, type EmbeddedKafkaStack } from '../../src/embedded/stack.js';
import { startTestBroker } from './embedded-broker.js';
import { TEST_SASL_PLAIN, testKafkaKind, type TestKafkaKind } from './kafka-kind.js';
import { testLogger } from './output.js';

export { testKafkaKind, type TestKafkaKind };

export const testKafka: TestKafkaKind = testKafkaKind();
export const onApacheKafka = testKafka === 'apache';

/** What a Kafka-facing integration test needs: brokers and a schema registry, stopped by stop(). */
export type TestKafkaStack = Pick<EmbeddedKafkaStack, 'brokers' | 'registryUrl' | 'stop'> & { kind: TestKafkaKind };

/**
 * The Kafka and registry a Kafka-facing test runs against. Every such test starts its stack here,
 * so that the broker is chosen for the whole run in one place:
 * - embedded: a fresh embedded broker and registry, both stopped by stop();
 * - apache: the run's shared Apache Kafka node (its topics persist across test files, so tests
 *   name their topics uniquely: uniqueName() in ./connector.ts) and a fresh embedded registry;
 *   stop() stops the registry only.
 * A test that needs a slow or lossy Kafka puts the fault proxy (./kafka-proxy.ts) in front of either.
 */
export async function startTestKafkaStack(): Promise<TestKafkaStack> {
  if (testKafka === 'embedded') {
    const stack = await startKafkaStack({ logger: testLogger('embedded-stack') });
    return { kind: 'embedded', brokers: stack.brokers, registryUrl: stack.registryUrl, stop: () => stack.stop() };
  }
  const bootstrap = apacheKafkaBootstrap();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-registry-'));
  const registry = await startRegistry({ port: 0, dataDir, logger: testLogger('embedded-registry') });
  return {
    kind: 'apache',
    brokers: [bootstrap],
    registryUrl: registry.url,
    async stop() {
      await registry.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Kafka listener that requires SASL/PLAIN as `username`/`password`; stop() stops what the test owns. */
export interface TestSaslKafka {
  brokers: string[];
  username: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * Kafka behind SASL/PLAIN: a fresh embedded broker started with --sasl-plain, or the SASL_PLAINTEXT
 * listener of the run's Apache Kafka node (scripts/apache-kafka.sh --sasl-plain).
 */
export async function startTestSaslKafka(): Promise<TestSaslKafka> {
  const [username, password] = TEST_SASL_PLAIN.split(':') as [string, string];
  if (testKafka === 'embedded') {
    const broker = await startTestBroker({ saslPlain: TEST_SASL_PLAIN });
    return { brokers: broker.brokers, username, password, stop: () => broker.stop() };
  }
  const bootstrap = inject('apacheKafkaSaslBootstrap');
  if (!bootstrap) throw new Error('TANDEM_TEST_KAFKA=apache but the Apache Kafka node has no SASL listener: run the integration project (its globalSetup starts it)');
  return { brokers: [bootstrap], username, password, stop: async () => undefined };
}

/** The shared Apache Kafka node's bootstrap address, provided by the integration globalSetup. */
export function apacheKafkaBootstrap(): string {
  const bootstrap = inject('apacheKafkaBootstrap');
  if (!bootstrap) {
    throw new Error('TANDEM_TEST_KAFKA=apache but no Apache Kafka was started: run the integration project (its globalSetup starts it), e.g. npm run test:apache-kafka');
  }
  return bootstrap;
}

/**
 * describe() for what is intrinsically about OUR broker (its crash recovery, raw protocol errors,
 * fsync modes, test hooks): skipped, with the reason in its title, when the run uses Apache Kafka.
 */
export function describeEmbeddedOnly(name: string, reason: string, body: () => void): void {
  describe.skipIf(onApacheKafka)(`${name} [embedded broker only: ${reason}]`, body);
}

/** it() counterpart of describeEmbeddedOnly. */
export function itEmbeddedOnly(name: string, reason: string, body: () => Promise<void>, timeoutMs?: number): void {
  it.skipIf(onApacheKafka)(`${name} [embedded broker only: ${reason}]`, body, timeoutMs);
}
