import { startKafkaStack, type EmbeddedKafkaStack } from '../../src/embedded/stack.js';

/** What a Kafka-facing integration test needs: brokers and a schema registry, stopped by stop(). */
export type TestKafkaStack = Pick<EmbeddedKafkaStack, 'brokers' | 'registryUrl' | 'stop'>;

/**
 * The Kafka and registry a Kafka-facing test runs against. Every such test starts its stack here,
 * so that the broker can be chosen for the whole run in one place.
 */
export async function startTestKafkaStack(): Promise<TestKafkaStack> {
  return startKafkaStack();
}
