import type { Consumer, Kafka } from 'kafkajs';

export interface ConsumerSettings {
  groupId: string;
  /** Most bytes fetched per partition and request: bounds a batch. */
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
}

/**
 * A consumer in a group whose offsets the caller manages: no auto-created topics, and session and
 * heartbeat settings that survive a batch of several seconds (the worker heartbeats between batches).
 */
export function createConsumer(kafka: Kafka, settings: ConsumerSettings): Consumer {
  return kafka.consumer({
    groupId: settings.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: settings.sessionTimeoutMs ?? 30_000,
    rebalanceTimeout: 60_000,
    heartbeatInterval: Math.min(3_000, Math.floor((settings.sessionTimeoutMs ?? 30_000) / 3)),
    maxBytesPerPartition: settings.maxBytesPerPartition ?? 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    retry: { retries: 10, initialRetryTime: 300 },
  });
}
