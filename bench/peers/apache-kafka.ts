/** Apache Kafka for the benchmarks: one KRaft node from scripts/apache-kafka.sh (jars fetched with Maven on first use). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startPeer, type PeerProcess } from './process.js';

export interface ApacheKafka {
  /** host:port */
  address: string;
  version: string;
  process: PeerProcess;
  /** The broker JVM's pid (the script's java child). */
  jvmPid(): number;
  stop(): Promise<void>;
}

export async function startApacheKafka(repoRoot: string, dataDir: string): Promise<ApacheKafka> {
  const script = path.join(repoRoot, 'scripts/apache-kafka.sh');
  const version = startPeer('bash', [script, 'version'], { name: 'apache-kafka.sh version' });
  const versionLine = await version.line(/^\d+\.\d+/, 10_000);
  // The script itself starts the node again if a port it picked is taken before the JVM binds it.
  const kafka = startPeer('bash', [script, 'start', '--port', '0', '--data-dir', dataDir], { name: 'Apache Kafka' });
  const ready = await kafka.line(/^ready \S+/, 600_000).catch(async (error: unknown) => {
    await kafka.stop();
    throw error;
  });
  const jvmPid = () => {
    const script = kafka.child.pid!;
    const children = readFileSync(`/proc/${script}/task/${script}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const java = children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'java');
    if (java === undefined) throw new Error(`no java process under scripts/apache-kafka.sh (pid ${script})`);
    return java;
  };
  return { address: ready.split(' ')[1]!, version: versionLine.trim(), process: kafka, jvmPid, stop: () => kafka.stop() };
}
