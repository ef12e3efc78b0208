/**
 * The translate flow: migrate the target's bookkeeping → validate every mapping against the live
 * target (refuse to start on any problem) → join the consumer group → on every assignment, seek
 * each partition to the offset stored in the target with its rows → apply batches (apply.ts),
 * retrying transient failures with backoff → retry parked changes on a timer. stop() returns after
 * the batch in flight.
 *
 * Reconcile's exact cut: before each batch's transaction the worker asks the cut gate (waiting
 * while a cut is being prepared). A partition that reaches the cut is held: its batch applies what
 * committed before the cut, records the hold, and the partition is paused (other partitions go on
 * to the cut) and sought to the first held message until the cut is released or expires.
 */
import type { Consumer } from 'kafkajs';
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { createConsumer } from '../kafka/consumer.js';
import type { Logger } from '../observability/logger.js';
import { CutGate, type OpenCut } from '../reconcile/cut.js';
import { parseDuration } from '../config/duration.js';
import { startPeriodicTask } from '../periodic-task.js';
import { backoffMs, classifyFailure } from './failures.js';
import type { TranslateMetrics } from './metrics.js';
import { prepareTranslator, translateGroupId, type PreparedTranslator } from './setup.js';

export interface TranslateOptions {
  logger: Logger;
  metrics?: TranslateMetrics;
}

export interface TranslateWorker {
  /** Resolves after stop(); rejects with the reason translate stopped on its own. */
  done: Promise<void>;
  health(): { healthy: boolean; assigned: string[]; lastBatchAt: string | null; error?: string };
  stop(): Promise<void>;
}

export { translateGroupId };

export async function startTranslate(connector: Connector, options: TranslateOptions): Promise<TranslateWorker> {
  const { logger, metrics } = options;
  const groupId = translateGroupId(connector);
  const kafka = createKafka(connector.kafka, logger);
  let prepared: PreparedTranslator | null = null;
  let consumer: Consumer | null = null;
  const cleanup = async () => {
    await consumer?.disconnect().catch(() => undefined);
    await prepared?.close();
  };

  try {
    prepared = await prepareTranslator(connector, kafka, { logger, metrics });
    const { translator, pool } = prepared;

    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = translator.topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        throw new TandemError(`topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} do${missing.length > 1 ? '' : 'es'} not exist yet`, { fix: 'start capture first (it creates the topics), or check kafka.topicPrefix' });
      }
    } finally {
      await admin.disconnect();
    }

    consumer = createConsumer(kafka, { groupId, sessionTimeoutMs: connector.translate.sessionTimeoutMs });
    await consumer.connect();
    await consumer.subscribe({ topics: translator.topics, fromBeginning: true });

    let stopping = false;
    let failure: Error | null = null;
    let lastBatchAt: Date | null = null;
    let assigned: { topic: string; partition: number }[] = [];
    /** Partitions sought back to their stored offset after a batch that started later; the next batch is taken as Kafka's start. */
    const soughtBack = new Set<string>();
    const cutGate = new CutGate(connector.name);
    /** Partitions paused at a cut, by cut id: resumed together when that cut closes. */
    const heldAtCut = new Map<string, Map<string, { topic: string; partition: number }>>();
    let resolveDone!: () => void;
    let rejectDone!: (error: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    done.catch(() => undefined);

    const fail = (error: Error) => {
      if (failure || stopping) return;
      failure = error;
      logger.error({ err: error }, `translate stopped: ${error.message}`);
      void shutdown().then(() => rejectDone(error));
    };

    /** Runs `work` with a target connection, retrying transient failures with backoff until it succeeds or translate stops. */
    const withRetries = async <T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T | undefined> => {
      for (let attempt = 1; ; attempt++) {
        let client: pg.PoolClient | null = null;
        try {
          client = await pool.connect();
          const result = await work(client);
          client.release();
          return result;
        } catch (error) {
          client?.release(true);
          const kind = classifyFailure(error);
          if (kind !== 'transient' || stopping) throw error;
          metrics?.retries.inc();
          const wait = backoffMs(attempt, connector.translate.maxRetryBackoffMs);
          logger.warn({ err: error, attempt, waitMs: wait }, `${what} failed (transient), retrying in ${wait} ms`);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    };

    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      translator.forgetAssignments();
      soughtBack.clear();
      assigned = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => (partitions as number[]).map((partition) => ({ topic, partition })));
      logger.info({ assigned: assigned.map(({ topic, partition }) => `${topic}[${partition}]`) }, `joined group ${groupId}: ${assigned.length} partition(s)`);
      void withRetries('resuming from the stored offsets', async (client) => {
        for (const topic of new Set(assigned.map((item) => item.topic))) {
          const stored = await translator.storedOffsets(client, topic);
          for (const { partition } of assigned.filter((item) => item.topic === topic)) {
            const offset = stored.get(partition);
            if (offset !== undefined) consumer!.seek({ topic, partition, offset });
          }
        }
        await translator.loadPartitions(client, assigned);
      }).catch((error: Error) => fail(error));
    });
    /**
     * A partition held at the cut is paused, not retried in a loop, and its eachBatch returns at
     * once: kafkajs fetches the next round only when every batch of this one is done, so a batch
     * waiting for the release would keep the worker's other partitions from reaching the cut.
     */
    const holdAtCut = (cut: OpenCut, topic: string, partition: number) => {
      consumer!.pause([{ topic, partitions: [partition] }]);
      let partitions = heldAtCut.get(cut.id);
      if (partitions) {
        partitions.set(`${topic}:${partition}`, { topic, partition });
        return;
      }
      partitions = new Map([[`${topic}:${partition}`, { topic, partition }]]);
      heldAtCut.set(cut.id, partitions);
      void withRetries(`waiting for reconcile's cut ${cut.id} to be released`, (client) => cutGate.waitUntilClosed(client, cut, () => stopping || failure !== null))
        .then(() => {
          heldAtCut.delete(cut.id);
          if (stopping || failure) return;
          const byTopic = new Map<string, number[]>();
          for (const item of partitions.values()) byTopic.set(item.topic, [...(byTopic.get(item.topic) ?? []), item.partition]);
          consumer!.resume([...byTopic].map(([name, list]) => ({ topic: name, partitions: list })));
          logger.debug({ cut: cut.id, partitions: [...partitions.keys()] }, `reconcile's cut ${cut.id} closed: partitions resumed`);
        })
        .catch((error: Error) => fail(error));
    };

    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error);
    });

    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: connector.translate.concurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (failure || !isRunning() || isStale() || batch.messages.length === 0) return;
        let rebalance: Error | null = null;
        const started = process.hrtime.bigint();
        const { topic, partition } = batch;
        try {
          const partitionKey = `${topic}:${partition}`;
          const acceptGap = soughtBack.has(partitionKey);
          // Outside the batch's transaction: while reconcile prepares a cut this waits (until the cut opens or
          // expires), heartbeating so that a cut longer than the session timeout costs no rebalance; a
          // rebalance the heartbeat reports ends the wait and is rethrown to kafkajs (it rejoins).
          const cut = await withRetries('cut gate', (client) =>
            cutGate.enter(client, async () => {
              rebalance = await heartbeat().then(() => null, (error: Error) => error);
              return rebalance === null;
            }),
          );
          if (cut === undefined) {
            if (rebalance) throw rebalance;
            return;
          }
          const outcome = await withRetries(`batch ${topic}[${partition}]@${batch.firstOffset()}`, (client) => translator.applyBatch(client, topic, partition, batch.messages, acceptGap, cut ? { gate: cutGate, cut } : null));
          if (!outcome) return;
          soughtBack.delete(partitionKey);
          if (outcome.gap) {
            soughtBack.add(partitionKey);
            logger.warn({ topic, partition, batchStart: batch.firstOffset(), storedNext: outcome.nextOffset }, `batch of ${topic}[${partition}] starts after the stored offset ${outcome.nextOffset}; seeking back`);
            consumer!.seek({ topic, partition, offset: outcome.nextOffset });
            return;
          }
          if (outcome.held) {
            // Held at the cut: the rest of the batch is fetched again after the cut closes.
            const next = BigInt(outcome.nextOffset);
            if (next > 0n) resolveOffset((next - 1n).toString());
            holdAtCut(cut!, topic, partition);
            consumer!.seek({ topic, partition, offset: outcome.nextOffset });
            logger.debug({ topic, partition, cut: cut!.id, held: outcome.held, nextOffset: outcome.nextOffset }, `${topic}[${partition}] held at reconcile's cut ${cut!.id}`);
          } else {
            resolveOffset(batch.lastOffset());
          }
          lastBatchAt = new Date();
          // Kafka's committed offsets follow the target's, for lag tooling; the target stays the truth.
          await consumer!.commitOffsets([{ topic, partition, offset: outcome.nextOffset }]).catch((error: Error) => logger.debug({ err: error }, 'committing offsets to Kafka failed'));
          if (metrics) {
            metrics.batchSize.observe(outcome.events);
            metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
            metrics.events.inc({ topic, outcome: 'applied' }, outcome.applied);
            if (outcome.skipped) metrics.events.inc({ topic, outcome: 'skipped' }, outcome.skipped);
            if (outcome.parked) metrics.events.inc({ topic, outcome: 'parked' }, outcome.parked);
            if (outcome.deadLettered) metrics.events.inc({ topic, outcome: 'dead_lettered' }, outcome.deadLettered);
            metrics.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(outcome.nextOffset))));
          }
          logger.debug({ topic, partition, ...outcome }, 'batch applied');
        } catch (error) {
          // A rebalance reported by the heartbeat at the cut gate is kafkajs's to handle (it rejoins).
          if (error === rebalance) throw error;
          fail(error as Error);
          return;
        }
        // Outside the failure handling: a rebalance reported here is kafkajs's to handle (it rejoins).
        await heartbeat();
      },
    });

    const parkRetry = startPeriodicTask(connector.translate.parkRetryMs, async () => {
      if (failure || stopping) return;
      const owned = new Set(assigned.map(({ topic, partition }) => `${topic}:${partition}`));
      const pending = translator.partitionsWithParked().filter(({ topic, partition }) => owned.has(`${topic}:${partition}`));
      try {
        for (const { topic, partition } of pending) {
          const result = await withRetries(`retrying parked changes of ${topic}[${partition}]`, (client) => translator.retryParked(client, topic, partition));
          if (result && (result.applied || result.deadLettered)) logger.info({ topic, partition, ...result }, `parked changes of ${topic}[${partition}] retried`);
        }
      } catch (error) {
        fail(error as Error);
      }
    });

    // The batch log would grow by a row per batch for as long as the pipeline runs: keep batchHistory of it.
    const historyMs = parseDuration(connector.translate.batchHistory);
    const prune = startPeriodicTask(Math.min(60_000, Math.max(1_000, historyMs)), async () => {
      if (failure || stopping) return;
      await withRetries('pruning the batch log', (client) => translator.pruneBatchLog(client, historyMs))
        .then((deleted) => deleted && logger.debug({ deleted, historyMs }, `deleted ${deleted} batch log row(s) older than ${connector.translate.batchHistory}`))
        // Housekeeping: a failure is reported and tried again next time; it does not stop the pipeline.
        .catch((error: Error) => logger.error({ err: error }, `pruning the batch log failed: ${error.message}`));
    });

    const shutdown = async () => {
      parkRetry.stop();
      prune.stop();
      await cleanup();
    };
    logger.info({ groupId, topics: translator.topics }, `translate running for connector ${connector.name}`);

    return {
      done,
      health: () => ({
        healthy: failure === null,
        assigned: assigned.map(({ topic, partition }) => `${topic}[${partition}]`),
        lastBatchAt: lastBatchAt?.toISOString() ?? null,
        ...(failure ? { error: (failure as Error).message } : {}),
      }),
      async stop() {
        if (stopping || failure) return done.catch(() => undefined);
        stopping = true;
        // disconnect() lets the batch in flight finish (and commit) before leaving the group.
        await shutdown();
        resolveDone();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
