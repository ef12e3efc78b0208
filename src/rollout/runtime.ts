/**
 * What every rollout command opens: the target connection (bookkeeping migrated), the source
 * connection for its WAL position (optional: evidence without it has no source LSN), the plan and
 * the controller.
 */
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { migrate } from '../pg/bookkeeping/migrate.js';
import { ROLLOUT_BOOKKEEPING } from '../pg/bookkeeping/rollout.js';
import { kafkaEndOffsets } from '../reconcile/cut.js';
import { topicFor } from '../kafka/topics.js';
import { translateGroupId } from '../translate/setup.js';
import { connectClient } from '../pg/connect.js';
import { RolloutController } from './controller.js';
import { PostgresEvidence, TranslateLagProbe } from './evidence.js';
import { buildPlan, type RolloutPlan } from './plan.js';
import type { ReverseSync } from './reverse-sync.js';

export interface RolloutRuntime {
  plan: RolloutPlan;
  target: pg.Client;
  source: pg.Client | null;
  controller: RolloutController;
  close(): Promise<void>;
}


export async function openRollout(connector: Connector, logger: Logger, options: { reverseSync?: ReverseSync } = {}): Promise<RolloutRuntime> {
  const plan = buildPlan(connector);
  const target = await connectClient(connector.target.url, 'target');
  try {
    await migrate(target, ROLLOUT_BOOKKEEPING);
  } catch (error) {
    await target.end().catch(() => undefined);
    throw error;
  }
  let source: pg.Client | null = null;
  try {
    source = await connectClient(connector.source.url, 'source');
  } catch (error) {
    logger.warn({ err: error }, `source database unreachable; rollout evidence will have no source LSN: ${(error as Error).message}`);
  }
  const lag = new TranslateLagProbe(target, source, {
    groupId: translateGroupId(connector),
    slot: connector.source.slot,
    topics: connector.source.tables.map((table) => topicFor(connector.kafka.topicPrefix, table)),
    endOffsets: kafkaEndOffsets(connector, logger),
    logger,
  });
  const controller = new RolloutController({ plan, client: target, evidence: new PostgresEvidence(target, plan.migration, lag, plan.watch.errorWindowMs), logger, reverseSync: options.reverseSync });
  return {
    plan,
    target,
    source,
    controller,
    async close() {
      await Promise.all([target.end().catch(() => undefined), source?.end().catch(() => undefined)]);
    },
  };
}
