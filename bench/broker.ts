/**
 * Embedded broker throughput with kafkajs: produce (batches of 500, acks=-1) and consume, for 100 B
 * and 1 KB messages. The broker runs in a child process (`tandem broker`) so its CPU time can be read
 * separately from the client's, from /proc/<pid>/stat (Linux only). Run with `npm run bench:broker`;
 * extra arguments go to the broker, e.g. `npm run bench:broker -- --fsync always`. Prints figures,
 * asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type BrokerProcess } from '../test/support/broker-process.js';

const BATCH = 500;
const IN_FLIGHT = 4; // concurrent produce requests, as an application with several callers would have
const SCENARIOS = [
  { label: '100 B', size: 100, count: 300_000 },
  { label: '1 KB', size: 1024, count: 100_000 },
];

interface Measure {
  seconds: number;
  clientCpu: number;
  brokerCpu: number;
}

/** Clock ticks per second, the unit of the CPU times in /proc/<pid>/stat (USER_HZ, almost always 100). */
const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // no getconf: fall back to the usual value
  }
  return 100;
})();

/** CPU seconds (user + system, all threads) the broker process has used, from /proc/<pid>/stat (Linux). */
function brokerCpuSeconds(broker: BrokerProcess): number {
  const stat = readFileSync(`/proc/${broker.child.pid}/stat`, 'utf8');
  // Field 2 (comm) is in parentheses and may contain spaces: count fields from after its closing one,
  // where field 3 (state) is at index 0, so field 14 (utime) is at 11 and field 15 (stime) at 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function measure(broker: BrokerProcess, work: () => Promise<void>): Promise<Measure> {
  const brokerBefore = brokerCpuSeconds(broker);
  const clientBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const client = process.cpuUsage(clientBefore);
  const brokerCpu = brokerCpuSeconds(broker) - brokerBefore;
  return { seconds, clientCpu: (client.user + client.system) / 1e6, brokerCpu };
}

async function produce(kafka: Kafka, topic: string, size: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(size, 'x');
  const messages = Array.from({ length: BATCH }, (_, i) => ({ key: null, value, partition: i % 3 }));
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += BATCH;
      await producer.send({ topic, acks: -1, messages });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await producer.disconnect();
}

async function consume(kafka: Kafka, topic: string, count: number): Promise<void> {
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
}

function row(phase: string, label: string, count: number, size: number, m: Measure): string {
  const rate = count / m.seconds;
  const perMillion = (cpu: number) => ((cpu / count) * 1e6).toFixed(2);
  return [
    phase.padEnd(8),
    label.padEnd(6),
    `${Math.round(rate).toLocaleString('en-US')} msgs/s`.padStart(16),
    `${((rate * size) / 1e6).toFixed(1)} MB/s`.padStart(11),
    `broker ${perMillion(m.brokerCpu)} CPU s/M msgs`.padStart(28),
    `client ${perMillion(m.clientCpu)} CPU s/M msgs`.padStart(28),
    `(broker/client ${(m.brokerCpu / m.clientCpu).toFixed(2)})`,
  ].join('  ');
}

const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-broker-'));
const brokerArgs = process.argv.slice(2);
const broker = await spawnBroker(['--data-dir', dataDir, ...brokerArgs]);
const kafka = new Kafka({ clientId: 'bench', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
try {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: SCENARIOS.map((s) => ({ topic: `bench-${s.size}`, numPartitions: 3 })) });
  await admin.disconnect();

  const settings = brokerArgs.length > 0 ? brokerArgs.join(' ') : 'default settings (--fsync interval)';
  console.log(`embedded broker (${settings}), kafkajs, batches of ${BATCH}, acks=-1, ${IN_FLIGHT} sends in flight`);
  for (const { label, size, count } of SCENARIOS) {
    const topic = `bench-${size}`;
    const produced = await measure(broker, () => produce(kafka, topic, size, count));
    console.log(row('produce', label, count, size, produced));
    const consumed = await measure(broker, () => consume(kafka, topic, count));
    console.log(row('consume', label, count, size, consumed));
  }
} finally {
  await broker.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
