import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTandem } from '../../support/cli.js';
import { startTestKafkaStack, testKafka, type TestKafkaStack } from '../../support/kafka-stack.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

describe('tandem doctor', () => {
  let legacy: TestDatabase;
  let app: TestDatabase;

  beforeAll(async () => {
    legacy = await createTestDatabase('doctor_legacy');
    app = await createTestDatabase('doctor_app');
    await legacy.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.customers (id int, name text, email text);
      CREATE TABLE legacy.orders (id bigint PRIMARY KEY, customer_id int, amount float8, status text, placed_at timestamp);
      CREATE TABLE legacy.loyalty (customer_id int PRIMARY KEY, points int);`);
    await app.sql(`CREATE SCHEMA app; CREATE TABLE app.customer (id int PRIMARY KEY, first_name text, last_name text, email text, status text, signed_up_at timestamptz);`);
  });

  const environment = () => ({
    TANDEM_SOURCE_URL: legacy.url,
    TANDEM_TARGET_URL: app.url,
    // Nothing listens on these ports: doctor must report them as failed checks, not crash.
    TANDEM_KAFKA_BROKER: '127.0.0.1:1',
    TANDEM_REGISTRY_URL: 'http://127.0.0.1:1',
  });

  it('reports a table without a primary key with its fix, and exits 2', async () => {
    const result = await runTandem(['doctor', '--config', 'connectors/demo.ts'], { env: environment() });
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stdout.split('\n');
    const customers = lines.find((line) => line.startsWith('table legacy.customers'));
    expect(customers).toContain('FAIL');
    expect(customers).toContain('has no primary key and no usable REPLICA IDENTITY');
    expect(customers).toContain('ALTER TABLE "legacy"."customers" ADD PRIMARY KEY');
    expect(lines.find((line) => line.startsWith('table legacy.orders'))).toContain('OK');
    expect(lines.find((line) => line.startsWith('wal_level'))).toContain('OK');
    expect(lines.find((line) => line.startsWith('target table app.orders'))).toContain('does not exist');
    expect(lines.find((line) => line.startsWith('kafka brokers reachable'))).toContain('FAIL');
    expect(result.stderr).toContain('doctor: ');
    // The source password never reaches the output.
    expect(result.stdout + result.stderr).not.toContain('postgres:postgres@');
  });

  it('passes the source checks once the table has a replica identity, in JSON', async () => {
    await legacy.sql('ALTER TABLE legacy.customers REPLICA IDENTITY FULL');
    const result = await runTandem(['doctor', '--config', 'connectors/demo.ts', '--format', 'json'], { env: environment() });
    const checks = JSON.parse(result.stdout) as { check: string; status: string; detail: string }[];
    expect(checks.find((check) => check.check === 'table legacy.customers')).toMatchObject({ status: 'ok', detail: 'rows identified by REPLICA IDENTITY FULL' });
    expect(checks.find((check) => check.check === 'publication tandem_demo')).toMatchObject({ status: 'ok' });
  });

  it(`reports the Kafka brokers and the registry reachable on a running stack (${testKafka} broker)`, async () => {
    const stack: TestKafkaStack = await startTestKafkaStack();
    try {
      const result = await runTandem(['doctor', '--config', 'connectors/demo.ts', '--format', 'json'], {
        env: { ...environment(), TANDEM_KAFKA_BROKER: stack.brokers[0]!, TANDEM_REGISTRY_URL: stack.registryUrl },
      });
      const checks = JSON.parse(result.stdout) as { check: string; status: string; detail: string }[];
      expect(checks.find((check) => check.check === 'kafka brokers reachable')).toMatchObject({ status: 'ok', detail: `1 broker(s) via ${stack.brokers[0]}` });
      expect(checks.filter((check) => /registry/i.test(check.check)).map((check) => check.status)).toContain('ok');
    } finally {
      await stack.stop();
    }
  });

  it('reports three config mistakes with their paths, exit 1 and no stack trace', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-config-'));
    const file = path.join(dir, 'broken.ts');
    writeFileSync(
      file,
      `export default {
        name: 'Broken Name',
        source: { url: 'mysql://nope', tables: ['customers'] },
        kafka: { brokers: ['localhost:9092'] },
        registry: { url: 'http://localhost:8081' },
        target: { url: 'postgres://localhost/app', schema: 'app' },
        capture: { snapshot: 'sometimes' },
      };\n`,
    );
    const result = await runTandem(['doctor', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a valid connector (3 problems)');
    expect(result.stderr).toContain('  name: must be lowercase letters');
    expect(result.stderr).toContain('  source.url: must be a postgres:// or postgresql:// connection URL');
    expect(result.stderr).toContain('  capture.snapshot:');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
