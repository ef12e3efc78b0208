import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { TandemError } from '../../../errors.js';
import { writeFileAtomically } from './atomic-file.js';

export interface TopicRecord {
  partitions: number;
  configs: Record<string, string>;
  /** Per partition: records below this offset were deleted (DeleteRecords). */
  logStartOffsets: number[];
}

/** What the broker keeps about itself besides logs and committed offsets. */
export interface BrokerMetadata {
  clusterId: string;
  topics: Record<string, TopicRecord>;
  /** Producer ids below this were (possibly) handed out; ids are reserved in blocks. */
  producerIdsReservedUntil: number;
}

const FILE = 'broker-metadata.json';

/** Loads and saves `<dataDir>/broker-metadata.json`; every save is atomic and durable (rare writes). */
export class MetadataStore {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE);
  }

  load(): BrokerMetadata {
    if (!existsSync(this.path)) return { clusterId: randomUUID(), topics: {}, producerIdsReservedUntil: 0 };
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as BrokerMetadata;
    } catch (error) {
      throw new TandemError(`Broker metadata file ${this.path} cannot be read.`, {
        fix: 'Restore it from a backup, or start the broker with an empty --data-dir.',
        cause: error,
      });
    }
  }

  save(metadata: BrokerMetadata): void {
    writeFileAtomically(this.path, JSON.stringify(metadata, null, 2));
  }
}
