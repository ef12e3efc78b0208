import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../embedded/postgres.js';
import { startKafkaStack, type EmbeddedKafkaStack } from '../embedded/stack.js';
import type { Logger } from '../observability/logger.js';
import { DEMO_APP_SCHEMA, seedDemo } from './demo.js';

export interface DevEnvironmentOptions {
  dataDir: string;
  pgPort: number;
  brokerPort: number;
  registryPort: number;
  logger: Logger;
  /** Legacy customers seeded on first start (default DEMO_CUSTOMERS). */
  customers?: number;
}

export interface DevEnvironment {
  postgres: RunningPostgres;
  stack: EmbeddedKafkaStack;
  legacyUrl: string;
  appUrl: string;
  stop(): Promise<void>;
}

/**
 * The embedded stack with the demo's databases: PostgreSQL (legacy seeded, app created), broker
 * and registry. The connector's env() defaults are pointed at it through the TANDEM_* variables.
 */
export async function startDevEnvironment(options: DevEnvironmentOptions): Promise<DevEnvironment> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const postgres = await startEmbeddedPostgres({ port: options.pgPort, dataDir: path.join(dataDir, 'postgres'), logger: options.logger });
  const stack = await startKafkaStack({ dataDir, logger: options.logger, brokerPort: options.brokerPort, registryPort: options.registryPort }).catch(async (error: unknown) => {
    await postgres.stop();
    throw error;
  });
  const stop = async () => {
    await stack.stop();
    await postgres.stop();
  };
  try {
    await prepareDemoDatabases(postgres, options.customers);
  } catch (error) {
    await stop();
    throw error;
  }
  const legacyUrl = postgres.urlFor('legacy');
  const appUrl = postgres.urlFor('app');
  process.env.TANDEM_SOURCE_URL = legacyUrl;
  process.env.TANDEM_TARGET_URL = appUrl;
  process.env.TANDEM_KAFKA_BROKER = stack.brokers[0];
  process.env.TANDEM_REGISTRY_URL = stack.registryUrl;
  return { postgres, stack, legacyUrl, appUrl, stop };
}

async function prepareDemoDatabases(postgres: RunningPostgres, customers?: number): Promise<void> {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    for (const database of ['legacy', 'app']) {
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rows.length === 0) await admin.query(`CREATE DATABASE ${database}`);
    }
  } finally {
    await admin.end();
  }
  const legacy = new pg.Client({ connectionString: postgres.urlFor('legacy') });
  const app = new pg.Client({ connectionString: postgres.urlFor('app') });
  await Promise.all([legacy.connect(), app.connect()]);
  try {
    await seedDemo(legacy, customers);
    await app.query(DEMO_APP_SCHEMA);
  } finally {
    await Promise.all([legacy.end(), app.end()]);
  }
}
