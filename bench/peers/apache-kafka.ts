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
  // The script picks free ports and then binds them: another process on this shared machine may take
  // one in between (BindException). A fresh attempt picks other ports.
  let kafka: PeerProcess;
  let ready: string;
  for (let attempt = 1; ; attempt++) {
    kafka = startPeer('bash', [script, 'start', '--port', '0', '--data-dir', attempt === 1 ? dataDir : `${dataDir}-${attempt}`], { name: 'Apache Kafka' });
    try {
      ready = await kafka.line(/^ready \S+/, 600_000);
      break;
    } catch (error) {
      await kafka.stop();
      if (attempt === 3 || !/exited before it was ready/.test(String(error))) throw error;
      process.stderr.write(`Apache Kafka did not start (attempt ${attempt}), trying again: ${kafka.output.find((line) => /apache-kafka.sh:/.test(line)) ?? ''}\n`);
    }
  }
  const jvmPid = () => {
    const script = kafka.child.pid!;
    const children = readFileSync(`/proc/${script}/task/${script}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const java = children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'java');
    if (java === undefined) throw new Error(`no java process under scripts/apache-kafka.sh (pid ${script})`);
    return java;
  };
  return { address: ready.split(' ')[1]!, version: versionLine.trim(), process: kafka, jvmPid, stop: () => kafka.stop() };
}
