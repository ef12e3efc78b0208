/**
 * The one switch for the broker Kafka-facing integration tests run against:
 * TANDEM_TEST_KAFKA=embedded (default; our broker, started per test) or apache (one Apache Kafka
 * node started by scripts/apache-kafka.sh for the whole run in test/support/global-setup.ts).
 * (Kept free of vitest imports: the globalSetup reads it too.)
 */
export type TestKafkaKind = 'embedded' | 'apache';

export function testKafkaKind(): TestKafkaKind {
  const value = process.env.TANDEM_TEST_KAFKA ?? '';
  if (value === '') return 'embedded';
  if (value !== 'embedded' && value !== 'apache') {
    throw new Error(`TANDEM_TEST_KAFKA=${value} is not a test broker: set it to embedded (the default) or apache (run scripts/apache-kafka.sh fetch first)`);
  }
  return value;
}

/** The SASL/PLAIN user:password of the test brokers' SASL listeners (embedded --sasl-plain, Apache --sasl-plain). */
export const TEST_SASL_PLAIN = 'app:s3cret';
