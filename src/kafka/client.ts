import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Connector } from '../config/index.js';
import type { Logger } from '../observability/logger.js';

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** A kafkajs client for a connector's cluster, logging through pino (so secrets stay redacted). */
export function createKafka(kafka: Connector['kafka'], logger: Logger, overrides: Partial<KafkaConfig> = {}): Kafka {
  const child = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: kafka.clientId ?? 'tandem',
    brokers: kafka.brokers,
    ssl: typeof kafka.ssl === 'object' ? { ...kafka.ssl } : kafka.ssl,
    sasl: kafka.sasl ? ({ mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password } as SASLOptions) : undefined,
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      child[levelNames[level] ?? 'info'](extra, message);
    },
    ...overrides,
  });
}
