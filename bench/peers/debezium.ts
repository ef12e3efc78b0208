/**
 * Debezium as a peer (bench/peers/debezium/debezium.sh): Kafka Connect standalone with Debezium's
 * PostgreSQL source or JDBC sink connector. The JVM's pid comes from the script, so its CPU time can
 * be read from /proc; `started` resolves once the connector's task runs, with the time and CPU the
 * JVM had used by then (JVM start, Connect's plugin scan, connector start).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { processCpuSeconds, startPeer, type PeerProcess } from './process.js';

export interface DebeziumProcess {
  process: PeerProcess;
  /** The JVM's pid. */
  pid: number;
  /** When the connector's task started: wall clock (process.hrtime.bigint()) and the JVM's CPU seconds then. */
  started: Promise<{ at: bigint; cpuSeconds: number }>;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface DebeziumSourceOptions {
  bootstrap: string;
  pgUrl: string;
  slot: string;
  publication: string;
  tables: string[];
  topicPrefix: string;
  /** Embed the Connect schema in each JSON message (the JDBC sink needs it). */
  schemas: boolean;
  /** Connect's offsets, its properties files and connect.log (everything the JVM printed). */
  workDir: string;
  maxBatchSize?: number;
  maxQueueSize?: number;
}

export interface DebeziumSinkOptions {
  bootstrap: string;
  pgUrl: string;
  topics: string[];
  /** Target table, schema-qualified. */
  table: string;
  batchSize?: number;
  /** 'basic' creates/extends the table from the records' schema; 'none' when it exists. */
  schemaEvolution?: 'none' | 'basic';
  /** Sink tasks (consumers of the group), 1 by default. */
  tasks?: number;
  /** Connect's offsets, its properties files and connect.log. */
  workDir: string;
}

const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'debezium/debezium.sh');

/** Resolves the jars with Maven the first time (a no-op once cached); resolves with Kafka Connect's version. */
export async function fetchDebezium(): Promise<{ connectVersion: string }> {
  const fetch = startPeer('bash', [script, 'fetch'], { name: 'debezium.sh fetch' });
  const code = await new Promise<number | null>((resolve) => fetch.child.once('exit', resolve));
  if (code !== 0) throw new Error(`debezium.sh fetch failed:\n${fetch.output.slice(-30).join('\n')}`);
  const version = startPeer('bash', [script, 'connect-version'], { name: 'debezium.sh connect-version' });
  return { connectVersion: (await version.line(/^\d+\.\d+/, 30_000)).trim() };
}

export function startDebeziumSource(options: DebeziumSourceOptions): Promise<DebeziumProcess> {
  const args = ['source', '--bootstrap', options.bootstrap, '--pg-url', options.pgUrl, '--slot', options.slot, '--publication', options.publication, '--tables', options.tables.join(','), '--topic-prefix', options.topicPrefix, '--schemas', String(options.schemas), '--work-dir', options.workDir];
  if (options.maxBatchSize) args.push('--max-batch-size', String(options.maxBatchSize));
  if (options.maxQueueSize) args.push('--max-queue-size', String(options.maxQueueSize));
  return start(args, 'Debezium source', options.workDir);
}

export function startDebeziumSink(options: DebeziumSinkOptions): Promise<DebeziumProcess> {
  const args = ['sink', '--bootstrap', options.bootstrap, '--pg-url', options.pgUrl, '--topics', options.topics.join(','), '--table', options.table, '--work-dir', options.workDir];
  if (options.batchSize) args.push('--batch-size', String(options.batchSize));
  if (options.schemaEvolution) args.push('--schema-evolution', options.schemaEvolution);
  if (options.tasks) args.push('--tasks', String(options.tasks));
  return start(args, 'Debezium sink', options.workDir);
}

async function start(args: string[], name: string, workDir: string): Promise<DebeziumProcess> {
  mkdirSync(workDir, { recursive: true });
  const peer = startPeer('bash', [script, ...args], { name, logFile: path.join(workDir, 'connect.log') });
  const pid = Number((await peer.line(/^pid \d+$/, 600_000)).split(' ')[1]);
  const started = peer.line(/^connector started$/, 300_000).then(() => ({ at: process.hrtime.bigint(), cpuSeconds: processCpuSeconds(pid) }));
  started.catch(() => undefined);
  return { process: peer, pid, started, cpuSeconds: () => processCpuSeconds(pid), stop: () => peer.stop() };
}
