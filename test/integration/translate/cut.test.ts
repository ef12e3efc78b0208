/**
 * Translate at reconcile's cut, the cut opened by hand (reconcile's side is tested in
 * test/integration/reconcile): with a cut open at LSN C, every partition applies what committed
 * before C, records its hold and stops; a truncate after C is held in every partition (the barrier
 * does not move past C); when the cut is released, or expires, translate goes on from the held
 * change, applying everything once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/config/index.js';
import { createKafka } from '../../../src/kafka/client.js';
import { topicFor } from '../../../src/kafka/topics.js';
import { migrate } from '../../../src/pg/bookkeeping/migrate.js';
import { RECONCILE_BOOKKEEPING } from '../../../src/pg/bookkeeping/reconcile.js';
import { connectClient } from '../../../src/pg/connect.js';
import { parseLsn } from '../../../src/pg/lsn.js';
import { translateGroupId } from '../../../src/translate/setup.js';
import type { TranslateWorker } from '../../../src/translate/worker.js';
import { testLogger } from '../../support/output.js';
import type { TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { startItemsPipeline, type ItemsPipeline } from './items-pipeline.js';

const KEYS = 120;

describe('translate at a reconcile cut', () => {
  let pipeline: ItemsPipeline;
  let legacy: TestDatabase;
  let target: TestDatabase;
  let translate: TranslateWorker;
  let connector: Connector;
  let topic: string;

  const rows = (db: TestDatabase, table: string) => pipeline.rows(db, table);
  const matches = () => pipeline.matches();
  const holds = async (cutId: string) => Number((await target.sql<{ n: string }>('SELECT count(*) AS n FROM tandem.reconcile_cut_hold WHERE cut_id = $1', [cutId]))[0]!.n);
  const applied = async () => target.sql<{ partition: number; applied: string }>(`SELECT partition, applied_lsn::text AS applied FROM tandem.translate_offsets WHERE topic = $1 ORDER BY partition`, [topic]);

  /** The cut at the source's WAL insert position: every commit record written after it starts at or after it. */
  async function openCut(expiresInMs: number): Promise<{ id: string; lsn: bigint }> {
    const [{ lsn }] = (await legacy.sql<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn()::text AS lsn`)) as [{ lsn: string }];
    const [{ id }] = (await target.sql<{ id: string }>(
      `INSERT INTO tandem.reconcile_cut (connector, status, source_lsn, expires_at) VALUES ($1, 'open', $2::pg_lsn, now() + $3 * interval '1 millisecond') RETURNING id::text`,
      [connector.name, lsn, expiresInMs],
    )) as [{ id: string }];
    return { id, lsn: parseLsn(lsn) };
  }

  beforeAll(async () => {
    pipeline = await startItemsPipeline('translate_cut', KEYS, { concurrency: 3, sessionTimeoutMs: 6_000 });
    ({ legacy, target, translate, connector } = pipeline);
    topic = topicFor(connector.kafka.topicPrefix, 'legacy.items');
    const client = await connectClient(target.url, 'target');
    await migrate(client, RECONCILE_BOOKKEEPING).finally(() => client.end());
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('holds every partition at the cut, a truncate after it included, and goes on once the cut is released', async () => {
    await legacy.sql(`UPDATE legacy.items SET v = 'before-' || id WHERE id % 2 = 0`);
    await until(matches, { describe: 'the changes before the cut to be applied' });
    const partitions = (await applied()).length;
    expect(partitions).toBeGreaterThan(1);
    const before = await rows(target, 'app.items');

    const cut = await openCut(120_000);
    // After the cut: updates in every partition, then a truncate and new rows.
    await legacy.sql(`UPDATE legacy.items SET v = 'after-' || id`);
    await legacy.sql(`TRUNCATE legacy.items`);
    await legacy.sql(`INSERT INTO legacy.items SELECT g, 'reborn-' || g FROM generate_series(1, ${KEYS / 2}) g`);
    await until(async () => (await holds(cut.id)) === partitions, { describe: `every one of the ${partitions} partitions to be held at the cut` });

    expect(await rows(target, 'app.items')).toBe(before);
    for (const partition of await applied()) expect(BigInt(partition.applied) < cut.lsn, `partition ${partition.partition} applied before the cut`).toBe(true);
    const [barrier] = await target.sql<{ lsn: string }>('SELECT truncate_lsn::text AS lsn FROM tandem.translate_topics WHERE topic = $1', [topic]);
    expect(BigInt(barrier!.lsn) < cut.lsn).toBe(true);

    await target.sql(`UPDATE tandem.reconcile_cut SET status = 'released', closed_at = now() WHERE id = $1`, [cut.id]);
    await until(matches, { describe: 'translate to apply what was held once the cut is released' });
    expect(await rows(target, 'app.items')).toBe(await rows(legacy, 'legacy.items'));
    expect(translate.health()).toMatchObject({ healthy: true });
  });

  it('keeps its place in the consumer group while a cut is prepared for longer than the session timeout', async () => {
    const admin = createKafka(connector.kafka, testLogger('admin')).admin();
    await admin.connect();
    try {
      const members = async () => (await admin.describeGroups([translateGroupId(connector)])).groups[0]!.members.map((member) => member.memberId).sort();
      const before = await members();
      expect(before.length).toBe(1);
      // Reconcile preparing a cut for 9 s, over the 6 s session timeout: a batch waits at the gate all along.
      const [{ id }] = (await target.sql<{ id: string }>(`INSERT INTO tandem.reconcile_cut (connector, status, expires_at) VALUES ($1, 'preparing', now() + interval '9 seconds') RETURNING id::text`, [connector.name])) as [{ id: string }];
      await legacy.sql(`UPDATE legacy.items SET v = 'prepared-' || id`);
      await until(async () => (await target.sql<{ expired: boolean }>('SELECT expires_at <= now() AS expired FROM tandem.reconcile_cut WHERE id = $1', [id]))[0]!.expired, { describe: 'the prepared cut to expire', timeoutMs: 30_000 });
      await until(matches, { describe: 'translate to apply the changes once the cut expired', timeoutMs: 30_000 });
      expect(await members(), 'the same member: no rebalance').toEqual(before);
    } finally {
      await admin.disconnect();
    }
  });

  it('goes on by itself when a cut expires (reconcile gone)', async () => {
    const cut = await openCut(1_500);
    await legacy.sql(`UPDATE legacy.items SET v = 'expired-' || id`);
    await until(matches, { describe: 'translate to apply the changes after the cut once it expired', timeoutMs: 30_000 });
    const [state] = await target.sql<{ status: string; expired: boolean }>('SELECT status, expires_at <= now() AS expired FROM tandem.reconcile_cut WHERE id = $1', [cut.id]);
    expect(state).toEqual({ status: 'open', expired: true });
  });
});
