/**
 * What translate and `tandem dlq replay` need before applying anything: the target's bookkeeping
 * migrated, every mapping validated against the live target (refusing on any problem), the target
 * shapes, and a Translator with its connections.
 */
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import type { Connector } from '../config/index.js';
import { buildMappingPlan } from '../mapping/plan.js';
import type { Logger } from '../observability/logger.js';
import { migrate } from '../pg/bookkeeping/migrate.js';
import { TARGET_BOOKKEEPING } from '../pg/bookkeeping/target.js';
import { connectClient } from '../pg/connect.js';
import { originClient, replicationOriginName } from '../pg/replication-origin.js';
import { Translator } from './apply.js';
import { createDeadLetterSink, type DeadLetterSink } from './dead-letters.js';
import type { TranslateMetrics } from './metrics.js';
import { SchemaCache } from './schema-cache.js';
import { readTargetShapes } from './shapes.js';
import { checkMappings, mappingProblemsError } from './validate.js';

export interface PreparedTranslator {
  translator: Translator;
  pool: pg.Pool;
  deadLetters: DeadLetterSink;
  close(): Promise<void>;
}

export function translateGroupId(connector: Connector): string {
  return connector.translate.groupId ?? `tandem-translate-${connector.name}`;
}

export async function prepareTranslator(connector: Connector, kafka: Kafka, options: { logger: Logger; metrics?: TranslateMetrics; poolSize?: number }): Promise<PreparedTranslator> {
  const { logger } = options;
  const plan = buildMappingPlan(connector);
  const setup = await connectClient(connector.target.url, 'target');
  let targets;
  try {
    await migrate(setup, TARGET_BOOKKEEPING);
    const problems = await checkMappings(connector, plan);
    if (problems.length > 0) throw mappingProblemsError(connector.name, problems);
    targets = await readTargetShapes(setup, plan.mappings.map((mapping) => mapping.target));
  } finally {
    await setup.end().catch(() => undefined);
  }
  // Every apply connection marks its transactions with a replication origin, so capture on the
  // target (reverse sync) does not send them back; a role that may not set one up stops translate here.
  const origin = originClient(replicationOriginName(connector.name), connector.target.url);
  const pool = new pg.Pool({ connectionString: connector.target.url, max: options.poolSize ?? connector.translate.concurrency + 2, Client: origin });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle target connection failed'));
  let sourceClient: pg.Client | null = null;
  const deadLetters = createDeadLetterSink(kafka);
  const translator = new Translator({
    connector,
    plan,
    groupId: translateGroupId(connector),
    schemas: new SchemaCache(connector.registry),
    targets,
    sourceClient: async () => {
      if (sourceClient) return sourceClient;
      try {
        const client = await connectClient(connector.source.url, 'source');
        client.on('error', () => {
          if (sourceClient === client) sourceClient = null;
        });
        sourceClient = client;
        return client;
      } catch (error) {
        logger.warn({ err: error }, 'source database unreachable: staging types come from the Avro schemas');
        return null;
      }
    },
    deadLetters,
    metrics: options.metrics,
    logger,
  });
  try {
    const client = await pool.connect();
    try {
      await translator.registerTopics(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await deadLetters.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  return {
    translator,
    pool,
    deadLetters,
    async close() {
      await deadLetters.close();
      await sourceClient?.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
