import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TestProject } from 'vitest/node';
import { findFreePort, startEmbeddedPostgres } from '../../src/embedded/postgres.js';
import { repoRoot } from './cli.js';
import { TEST_SASL_PLAIN, testKafkaKind } from './kafka-kind.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** host:port of the run's Apache Kafka node; '' unless TANDEM_TEST_KAFKA=apache. */
    apacheKafkaBootstrap: string;
    /** host:port of its SASL_PLAINTEXT listener (credentials: TEST_SASL_PLAIN in ./kafka-kind.ts). */
    apacheKafkaSaslBootstrap: string;
  }
}

/**
 * One embedded PostgreSQL per test run (each test file creates its own database in it) and, with
 * TANDEM_TEST_KAFKA=apache, one Apache Kafka node that every Kafka-facing test file shares.
 */
export default async function setup(project: TestProject) {
  const kind = testKafkaKind();
  const [postgres, kafka] = await Promise.all([startEmbeddedPostgres(), kind === 'apache' ? startApacheKafka() : Promise.resolve(null)]);
  project.provide('postgresUrl', postgres.url);
  project.provide('apacheKafkaBootstrap', kafka?.bootstrap ?? '');
  project.provide('apacheKafkaSaslBootstrap', kafka?.saslBootstrap ?? '');
  if (kafka) console.log(`integration tests run against Apache Kafka ${kafka.version} at ${kafka.bootstrap} (TANDEM_TEST_KAFKA=apache)`);
  return async () => {
    await Promise.all([postgres.stop(), kafka?.stop()]);
  };
}

interface ApacheKafka {
  bootstrap: string;
  saslBootstrap: string;
  version: string;
  stop(): Promise<void>;
}

const script = path.join(repoRoot, 'scripts/apache-kafka.sh');
const STARTUP_TIMEOUT_MS = 180_000;

/** `scripts/apache-kafka.sh start --port 0`, as documented: waits for its `ready host:port` line. */
async function startApacheKafka(): Promise<ApacheKafka> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-apache-kafka-'));
  const saslPort = await findFreePort();
  const args = ['start', '--port', '0', '--data-dir', dataDir, '--sasl-plain', TEST_SASL_PLAIN, '--sasl-port', String(saslPort)];
  const child = spawn('bash', [script, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`Apache Kafka (scripts/apache-kafka.sh start) ${why}; its output:\n${output.slice(-40).join('\n')}\nserver log: ${dataDir}/server.log. Run scripts/apache-kafka.sh fetch, or set TANDEM_TEST_KAFKA=embedded.`));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      fail(`printed no "ready" line within ${STARTUP_TIMEOUT_MS / 1000} s`);
    }, STARTUP_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const ready = /^ready (\S+:\d+)$/.exec(line);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(`exited with code ${code} before it was ready`);
    });
  });
  const version = await new Promise<string>((resolve) => {
    const probe = spawn('bash', [script, 'version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    probe.stdout.on('data', (chunk) => (text += chunk));
    probe.on('close', () => resolve(text.trim()));
  });
  return {
    bootstrap,
    saslBootstrap: `127.0.0.1:${saslPort}`,
    version,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      if (code !== 0) throw new Error(`Apache Kafka stopped with exit code ${code} (expected 0 after SIGTERM); output:\n${output.slice(-40).join('\n')}`);
    },
  };
}
