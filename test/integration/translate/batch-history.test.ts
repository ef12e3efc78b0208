/**
 * The batch log (`tandem.translate_batches`, one row per committed batch) is kept for
 * `translate.batchHistory` and no longer: a pipeline that runs for months does not grow it forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { startItemsPipeline, type ItemsPipeline } from './items-pipeline.js';

describe('translate batch log retention', () => {
  let pipeline: ItemsPipeline;
  let legacy: TestDatabase;
  let target: TestDatabase;
  const logged = async () => target.sql<{ n: string; recent: string }>(`SELECT count(*)::text AS n, count(*) FILTER (WHERE committed_at > clock_timestamp() - interval '3 seconds')::text AS recent FROM tandem.translate_batches`);

  beforeAll(async () => {
    pipeline = await startItemsPipeline('translate_history', 50, { batchHistory: '3s' });
    ({ legacy, target } = pipeline);
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('logs every batch, and deletes the rows older than batchHistory', async () => {
    await legacy.sql(`UPDATE legacy.items SET v = 'v1-' || id`);
    await until(pipeline.matches, { describe: 'the update to be applied' });
    const [justApplied] = await logged();
    expect(Number(justApplied!.recent), 'the batch just applied is in the log').toBeGreaterThan(0);
    let left = justApplied!.n;
    await until(async () => (left = (await logged())[0]!.n) === '0', { describe: () => `every batch log row to be deleted 3 s after its commit (${left} left)`, timeoutMs: 30_000 });
    expect(pipeline.translate.health()).toMatchObject({ healthy: true });
  });
});
