import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/cli.js';
import { kafkaClient } from '../../support/embedded-broker.js';
import { onApacheKafka } from '../../support/kafka-stack.js';
import { recordOutput, trackOutput } from '../../support/output.js';
import { readTopicValues } from '../../support/topic-reader.js';

const script = path.join(repoRoot, 'scripts/apache-kafka.sh');
const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-apache-script-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** `scripts/apache-kafka.sh start --port P --data-dir D` as the README documents it. */
async function start(port: number | string) {
  const child = spawn('bash', [script, 'start', '--port', String(port), '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const source = `scripts/apache-kafka.sh start (pid ${child.pid})`;
  trackOutput(source, () => child.exitCode === null && child.signalCode === null);
  child.stderr.on('data', (chunk: Buffer) => recordOutput(source, chunk.toString()));
  const stdout: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line);
      recordOutput(source, line);
      resolve(line);
    });
    void exited.then((code) => reject(new Error(`scripts/apache-kafka.sh exited with ${code} before printing a line (server log: ${dataDir}/server.log)`)));
  });
  return { child, firstLine, stdout, exited };
}

function kcat(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kcat', args, { timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`kcat ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

// Needs Java and the fetched jars: it runs in the Apache Kafka pass (npm run test:apache-kafka).
describe.skipIf(!onApacheKafka)('scripts/apache-kafka.sh [runs with TANDEM_TEST_KAFKA=apache: needs Java and the fetched Apache Kafka]', () => {
  it('starts a KRaft node that kcat and kafkajs use, stops with exit 0 on SIGTERM and keeps its topics across a restart on its port', async () => {
    // --port 0: the script picks the port (below the kernel's ephemeral range, so no client
    // connection of a parallel test can hold it when the node binds it again on restart).
    const first = await start(0);
    const port = /^ready 127\.0\.0\.1:(\d+)$/.exec(first.firstLine)?.[1];
    const bootstrap = `127.0.0.1:${port}`;
    try {
      expect(first.firstLine, 'the ready line names the port picked').toMatch(/^ready 127\.0\.0\.1:\d+$/);
      const listing = await kcat(['-b', bootstrap, '-L']);
      expect(listing).toContain(`broker 1 at ${bootstrap}`);

      const kafka = kafkaClient([bootstrap]);
      const admin = kafka.admin();
      await admin.connect();
      expect(await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 1 }] })).toBe(true);
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'kept', acks: -1, messages: [{ value: 'before restart' }] });
      await producer.disconnect();
      expect(await kcat(['-b', bootstrap, '-C', '-t', 'kept', '-o', 'beginning', '-e', '-q'])).toBe('before restart\n');
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
    expect(first.stdout).toEqual([`ready ${bootstrap}`]);

    const second = await start(port!);
    try {
      expect(second.firstLine).toBe(`ready ${bootstrap}`);
      expect(await readTopicValues(kafkaClient([bootstrap]), 'kept')).toEqual(['before restart']);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
  });

  it('refuses a start without --data-dir, naming the option', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile('bash', [script, 'start', '--port', '1'], (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('apache-kafka.sh: start needs --data-dir D (a folder for the broker\'s logs and metadata)\n');
  });
});
