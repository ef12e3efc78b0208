/** Apache Kafka for the benchmarks: one KRaft node from scripts/apache-kafka.sh (jars fetched with Maven on first use). */
import path from 'node:path';
import { startPeer, type PeerProcess } from './process.js';

export interface ApacheKafka {
  /** host:port */
  address: string;
  version: string;
  process: PeerProcess;
  stop(): Promise<void>;
}

export async function startApacheKafka(repoRoot: string, dataDir: string): Promise<ApacheKafka> {
  const script = path.join(repoRoot, 'scripts/apache-kafka.sh');
  const version = startPeer('bash', [script, 'version'], { name: 'apache-kafka.sh version' });
  const versionLine = await version.line(/^\d+\.\d+/, 10_000);
  const kafka = startPeer('bash', [script, 'start', '--port', '0', '--data-dir', dataDir], { name: 'Apache Kafka' });
  const ready = await kafka.line(/^ready \S+/, 600_000);
  return { address: ready.split(' ')[1]!, version: versionLine.trim(), process: kafka, stop: () => kafka.stop() };
}
