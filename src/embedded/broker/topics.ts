import { rmSync } from 'node:fs';
import type { Logger } from '../../observability/logger.js';
import { ErrorCode } from './protocol/index.js';
import type { ResolvedBrokerOptions } from './options.js';
import { Partition } from './partition.js';
import type { Durability } from './storage/durability.js';
import { MetadataStore, type BrokerMetadata } from './storage/metadata-store.js';
import { PartitionLog, partitionDir } from './storage/partition-log.js';

export interface Topic {
  name: string;
  partitions: Partition[];
  configs: Record<string, string>;
}

/** A topic operation's outcome in Kafka terms. */
export interface TopicResult {
  errorCode: number;
  errorMessage: string | null;
}

const OK: TopicResult = { errorCode: ErrorCode.NONE, errorMessage: null };
const PRODUCER_ID_BLOCK = 1000;
const MAX_TOPIC_NAME_LENGTH = 249;

/**
 * The topics of the broker and their partitions, with the broker metadata file that makes them
 * (and the producer id counter) survive restarts.
 */
export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly store: MetadataStore;
  private readonly metadata: BrokerMetadata;
  private nextProducerId: number;

  constructor(
    private readonly options: ResolvedBrokerOptions,
    private readonly durability: Durability,
    private readonly logger: Logger,
  ) {
    this.store = new MetadataStore(options.dataDir);
    this.metadata = this.store.load();
    let maxProducerId = -1;
    for (const [name, record] of Object.entries(this.metadata.topics)) {
      const partitions = Array.from({ length: record.partitions }, (_, index) => this.openPartition(name, index, record.logStartOffsets[index] ?? 0));
      for (const partition of partitions) maxProducerId = Math.max(maxProducerId, partition.maxProducerId());
      this.topics.set(name, { name, partitions, configs: record.configs });
    }
    this.nextProducerId = Math.max(this.metadata.producerIdsReservedUntil, maxProducerId + 1);
    this.store.save(this.metadata); // a new data dir gets its cluster id now
  }

  get clusterId(): string {
    return this.metadata.clusterId;
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[index];
  }

  all(): Topic[] {
    return [...this.topics.values()];
  }

  create(name: string, partitionCount: number, configs: Record<string, string> = {}, validateOnly = false): TopicResult {
    const invalid = topicNameProblem(name);
    if (invalid) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: invalid };
    if (this.topics.has(name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
    if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > 10_000) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Number of partitions must be 1 to 10000, got ${partitionCount}.` };
    }
    if (validateOnly) return OK;
    const partitions = Array.from({ length: partitionCount }, (_, index) => this.openPartition(name, index, 0, true));
    this.topics.set(name, { name, partitions, configs });
    this.metadata.topics[name] = { partitions: partitionCount, configs, logStartOffsets: partitions.map(() => 0) };
    this.store.save(this.metadata);
    this.logger.info({ topic: name, partitions: partitionCount }, 'topic created');
    return OK;
  }

  /** Creates an unknown topic with the default partition count when auto-creation is on. */
  autoCreate(name: string): boolean {
    if (this.topics.has(name)) return true;
    if (!this.options.autoCreateTopics) return false;
    return this.create(name, this.options.defaultPartitions).errorCode === ErrorCode.NONE;
  }

  delete(name: string): TopicResult {
    const topic = this.topics.get(name);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${name}' does not exist.` };
    this.topics.delete(name);
    delete this.metadata.topics[name];
    this.store.save(this.metadata);
    for (const partition of topic.partitions) partition.log.destroy();
    this.logger.info({ topic: name }, 'topic deleted');
    return OK;
  }

  addPartitions(name: string, count: number, validateOnly: boolean): TopicResult {
    const topic = this.topics.get(name);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${name}' does not exist.` };
    if (count <= topic.partitions.length || count > 10_000) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Topic currently has ${topic.partitions.length} partitions, which is higher than or equal to the requested ${count}.`,
      };
    }
    if (validateOnly) return OK;
    for (let index = topic.partitions.length; index < count; index++) topic.partitions.push(this.openPartition(name, index, 0, true));
    const record = this.metadata.topics[name];
    record.partitions = count;
    record.logStartOffsets = topic.partitions.map((p) => p.log.logStartOffset);
    this.store.save(this.metadata);
    return OK;
  }

  /** DeleteRecords: persists the new log start offset of a partition. */
  deleteRecordsBefore(partition: Partition, offset: number): void {
    partition.log.deleteRecordsBefore(offset);
    this.metadata.topics[partition.topic].logStartOffsets[partition.index] = partition.log.logStartOffset;
    this.store.save(this.metadata);
  }

  /** Hands out a producer id for InitProducerId; ids are reserved on disk in blocks before use. */
  allocateProducerId(): number {
    if (this.nextProducerId >= this.metadata.producerIdsReservedUntil) {
      this.metadata.producerIdsReservedUntil = this.nextProducerId + PRODUCER_ID_BLOCK;
      this.store.save(this.metadata);
    }
    return this.nextProducerId++;
  }

  close(): void {
    for (const topic of this.topics.values()) for (const partition of topic.partitions) partition.log.close();
  }

  /** `fresh`: a new partition, so files left by an earlier topic of the same name (a crash mid-delete) go. */
  private openPartition(topic: string, index: number, logStartOffset: number, fresh = false): Partition {
    const dir = partitionDir(this.options.dataDir, topic, index);
    if (fresh) rmSync(dir, { recursive: true, force: true });
    const { log, truncatedBytes } = PartitionLog.open(dir, {
      segmentBytes: this.options.segmentBytes,
      durability: this.durability,
      logStartOffset,
    });
    if (truncatedBytes > 0) {
      this.logger.warn({ topic, partition: index, truncatedBytes }, 'recovered partition: cut a partially written batch off the log');
    }
    return new Partition(topic, index, log);
  }
}

/** Kafka's rules for topic names; null when the name is fine. */
export function topicNameProblem(name: string): string | null {
  if (name === '' || name === '.' || name === '..') return `Topic name "${name}" is illegal.`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `Topic name is longer than ${MAX_TOPIC_NAME_LENGTH} characters.`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" may only contain ASCII letters, digits, '.', '_' and '-'.`;
  return null;
}
