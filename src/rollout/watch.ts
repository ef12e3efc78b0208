/**
 * `tandem rollout watch`: every interval, evaluate the rollback triggers and roll back on its own
 * when one fires (optionally promote when every criterion holds and no approval is needed), record
 * an evidence sample for the console's trends, and keep reverse sync in line with the state.
 */
import type pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import type { RolloutController, RolloutStatus } from './controller.js';
import { errorRate } from './criteria.js';
import type { ReverseSyncSupervisor } from './reverse-sync.js';
import type { Actor } from './state.js';

export function createRolloutMetrics(registry = new Registry()) {
  return {
    registry,
    phase: new Gauge({ name: 'tandem_rollout_phase_index', help: 'Index of the current rollout phase (0 = first)', labelNames: ['migration'], registers: [registry] }),
    readNew: new Gauge({ name: 'tandem_rollout_read_new_percent', help: 'Percentage of reads served from the new schema', labelNames: ['migration'], registers: [registry] }),
    writeNew: new Gauge({ name: 'tandem_rollout_write_new', help: '1 while writes go to the new schema', labelNames: ['migration'], registers: [registry] }),
    reverseSync: new Gauge({ name: 'tandem_rollout_reverse_sync_running', help: '1 while reverse sync runs, 0 when off, -1 when needed but not running', labelNames: ['migration'], registers: [registry] }),
    rollbacks: new Counter({ name: 'tandem_rollout_automatic_rollbacks_total', help: 'Rollbacks made by watch because a trigger fired', labelNames: ['migration', 'trigger'], registers: [registry] }),
    evaluations: new Counter({ name: 'tandem_rollout_evaluations_total', help: 'Watch evaluations, by outcome', labelNames: ['migration', 'outcome'], registers: [registry] }),
  };
}

export type RolloutMetrics = ReturnType<typeof createRolloutMetrics>;

export async function recordSample(client: pg.ClientBase, status: RolloutStatus): Promise<void> {
  const { evidence, state } = status;
  const latest = evidence.reconcileRuns[0];
  await client.query(
    `INSERT INTO tandem.rollout_sample (migration, at, lag_seconds, source_lsn, applied_position, drift_rows, error_rate) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [state.migration, evidence.at, evidence.lag.seconds, evidence.lag.sourceLsn, evidence.lag.appliedPosition, latest ? latest.driftRows : null, finiteOrNull(errorRate(evidence.traffic))],
  );
}

function finiteOrNull(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : value;
}

export interface WatchOptions {
  controller: RolloutController;
  client: pg.ClientBase;
  supervisor: ReverseSyncSupervisor;
  logger: Logger;
  intervalMs: number;
  autoPromote: boolean;
  actor: Actor;
  metrics?: RolloutMetrics;
}

export interface Watch {
  /** Resolves after the step in progress when stopped. */
  readonly done: Promise<void>;
  /** Runs a step now (also when a NOTIFY says the state changed). */
  poke(): void;
  stop(): void;
  lastStatus: RolloutStatus | null;
  lastError: string | null;
}

export function startWatch(options: WatchOptions): Watch {
  const { controller, logger, metrics } = options;
  const migration = controller.plan.migration;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  const watch: Watch = {
    done: Promise.resolve(),
    lastStatus: null,
    lastError: null,
    poke() {
      wake?.();
    },
    stop() {
      stopped = true;
      wake?.();
    },
  };
  const step = async () => {
    try {
      const result = await controller.watchStep(options.actor, options.autoPromote);
      const status = result.action === 'none' ? result.status : await controller.status();
      watch.lastStatus = status;
      watch.lastError = null;
      await recordSample(options.client, status);
      const sync = await options.supervisor.follow(status.state);
      metrics?.evaluations.inc({ migration, outcome: result.action });
      if (result.action === 'rollback') {
        for (const trigger of result.record!.triggers) metrics?.rollbacks.inc({ migration, trigger: trigger.name });
        logger.warn({ migration, from: result.record!.from, to: result.record!.to, reason: result.record!.reason }, `rolled ${migration} back from ${result.record!.from} to ${result.record!.to}: ${result.record!.reason}`);
      }
      metrics?.phase.set({ migration }, status.current.index);
      metrics?.readNew.set({ migration }, status.state.gates.readNew);
      metrics?.writeNew.set({ migration }, status.state.gates.write === 'new' ? 1 : 0);
      metrics?.reverseSync.set({ migration }, sync === 'running' ? 1 : sync === 'off' ? 0 : -1);
    } catch (error) {
      watch.lastError = (error as Error).message;
      metrics?.evaluations.inc({ migration, outcome: 'error' });
      logger.error({ err: error, migration }, `rollout watch of ${migration}: ${(error as Error).message}`);
    }
  };
  (watch as { done: Promise<void> }).done = (async () => {
    while (!stopped) {
      await step();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, options.intervalMs);
      });
      if (timer) clearTimeout(timer);
      wake = null;
    }
  })();
  return watch;
}
