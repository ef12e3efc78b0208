/**
 * The exact-cut barrier driven directly: a simulated capture (a test_decoding slot read into
 * per-partition logs with each transaction's commit LSN, capture's slot advanced behind it) and a
 * simulated translate worker that calls CutGate in each batch's transaction, exactly as translate
 * does once wired. Writes go on during every run, and settle-and-recheck is off: only an exact cut
 * can report zero drift.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/config/index.js';
import { topicFor } from '../../../src/kafka/topics.js';
import { migrate } from '../../../src/pg/bookkeeping/migrate.js';
import { TARGET_BOOKKEEPING } from '../../../src/pg/bookkeeping/target.js';
import { CutGate, exactCut, type EndOffsets } from '../../../src/reconcile/cut.js';
import { parseLsn } from '../../../src/pg/lsn.js';
import { runReconcile } from '../../../src/reconcile/run.js';
import { testConnector } from '../../support/connector.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { mulberry32 } from '../../support/random.js';
import { silentLogger } from './fixture.js';

const seed = Number(process.env.TANDEM_TEST_SEED ?? Date.now() % 1_000_000);
console.log(`cut.test seed ${seed} (TANDEM_TEST_SEED=${seed} repeats it)`);
const PARTITIONS = 3;
const GROUP = 'sim-translate';

interface Change {
  lsn: bigint;
  op: 'upsert' | 'delete';
  id: number;
  v: string | null;
}

/** Capture and translate, simulated; the cut protocol and the tables are the real ones. */
class SimulatedPipeline implements EndOffsets {
  readonly logs: Change[][] = Array.from({ length: PARTITIONS }, () => []);
  private running = true;
  private loops: Promise<void>[] = [];
  writes = 0;
  heldBatches = 0;

  parkings = 0;
  private random: () => number = Math.random;

  constructor(
    private readonly db: TestDatabase,
    private readonly connector: Connector,
    private readonly honoursCut: boolean,
    /** Share of upserts parked (as translate parks a row whose parent is missing) and applied later by a retry loop. */
    private readonly parkShare = 0,
  ) {}

  async read(topics: readonly string[]) {
    return topics.filter((topic) => topic === topicFor(this.connector.kafka.topicPrefix, 'legacy.items')).flatMap((topic) => this.logs.map((log, partition) => ({ topic, partition, endOffset: BigInt(log.length) })));
  }

  start(random: () => number): void {
    const client = () => new pg.Client({ connectionString: this.db.url });
    this.random = random;
    const loops = [this.loop(client(), (c) => this.write(c, random)), this.loop(client(), (c) => this.capture(c)), this.loop(client(), (c) => this.translate(c))];
    if (this.parkShare > 0) loops.push(this.loop(client(), (c) => this.retryParked(c)));
    this.loops = loops.map((loop) =>
      loop.catch((error: unknown) => {
        this.running = false;
        this.failure ??= error;
      }),
    );
  }

  failure: unknown = null;

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    if (this.failure) throw this.failure;
  }

  private async loop(c: pg.Client, step: (c: pg.Client) => Promise<void>): Promise<void> {
    await c.connect();
    try {
      while (this.running) {
        await step(c);
        await new Promise((resolve) => setTimeout(resolve, 2)); // pacing of a background worker, not a wait for a condition
      }
    } finally {
      await c.end();
    }
  }

  /** One transaction of 1–3 changes, often across partitions. */
  private async write(c: pg.Client, random: () => number): Promise<void> {
    const statements: string[] = [];
    for (let index = 0, count = 1 + Math.floor(random() * 3); index < count; index += 1) {
      const id = 1 + Math.floor(random() * 300);
      const roll = random();
      statements.push(roll < 0.15 ? `DELETE FROM legacy.items WHERE id = ${id}` : `INSERT INTO legacy.items VALUES (${id}, md5('${seed}-${this.writes}-${index}')) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v`);
    }
    await c.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
    this.writes += 1;
  }

  /** Like translate's park retry: changes parked a while ago are applied and leave the park (a failed retry would count an attempt). */
  private async retryParked(c: pg.Client): Promise<void> {
    await c.query('BEGIN');
    const { rows } = await c.query<{ key: string; op: string; v: string | null }>(`SELECT key, op, row_values->>'v' AS v FROM tandem.translate_parked WHERE parked_at < now() - interval '100 milliseconds' FOR UPDATE`);
    for (const row of rows) {
      if (row.op === 'd') await c.query('DELETE FROM app.items WHERE id = $1', [Number(row.key)]);
      else await c.query('INSERT INTO app.items VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v', [Number(row.key), row.v]);
    }
    await c.query('DELETE FROM tandem.translate_parked WHERE key = ANY($1::text[])', [rows.map((row) => row.key)]);
    await c.query('COMMIT');
  }

  /** Decoded transactions into the partition logs (key = id mod partitions), then capture's slot "acknowledged" through them. */
  private async capture(c: pg.Client): Promise<void> {
    const { rows } = await c.query<{ lsn: string; data: string }>(`SELECT lsn::text, data FROM pg_logical_slot_get_changes('decoder_${this.db.name}', NULL, NULL)`);
    let pending: Omit<Change, 'lsn'>[] = [];
    let last: string | null = null;
    for (const row of rows) {
      const change = /^table legacy\.items: (INSERT|UPDATE|DELETE): id\[integer\]:(\d+)(?: v\[text\]:(?:'([^']*)'|null))?/.exec(row.data);
      if (change) pending.push({ op: change[1] === 'DELETE' ? 'delete' : 'upsert', id: Number(change[2]), v: change[3] ?? null });
      if (row.data.startsWith('COMMIT')) {
        for (const item of pending) this.logs[item.id % PARTITIONS]!.push({ ...item, lsn: parseLsn(row.lsn) });
        pending = [];
        last = row.lsn;
      }
    }
    if (last) await c.query(`SELECT pg_replication_slot_advance($1, $2::pg_lsn)`, [this.connector.source.slot, last]);
  }

  /** Like translate: per partition a fetched batch, the cut gate, then one transaction with the rows and the offsets. */
  private async translate(c: pg.Client): Promise<void> {
    const gate = new CutGate(this.connector.name);
    const topic = topicFor(this.connector.kafka.topicPrefix, 'legacy.items');
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const { rows } = await c.query<{ next: string | null }>('SELECT next_offset::text AS next FROM tandem.translate_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3', [GROUP, topic, partition]);
      const from = Number(rows[0]?.next ?? 0);
      // Fetched, then the gate, then the transaction: the order translate's eachBatch has.
      const batch = this.logs[partition]!.slice(from, from + 50);
      if (batch.length === 0) continue;
      const cut = this.honoursCut ? await gate.enter(c) : null;
      await c.query('BEGIN');
      await c.query('INSERT INTO tandem.translate_offsets (group_id, topic, partition) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [GROUP, topic, partition]);
      await c.query('SELECT 1 FROM tandem.translate_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE', [GROUP, topic, partition]);
      // Here a change's LSN is its commit record's end (test_decoding's COMMIT row); translate's is the start, held from C on.
      const firstHeld = cut ? batch.findIndex((change) => change.lsn >= cut.lsn) : -1;
      const apply = firstHeld < 0 ? batch : batch.slice(0, firstHeld);
      for (const change of apply) {
        if (this.parkShare > 0) {
          // Like translate: a key with a parked change parks its later changes too.
          const { rowCount } = await c.query('SELECT 1 FROM tandem.translate_parked WHERE topic = $1 AND key = $2', [topic, String(change.id)]);
          if (rowCount || (change.op === 'upsert' && this.random() < this.parkShare)) {
            await c.query(
              `INSERT INTO tandem.translate_parked (topic, key, partition, kafka_offset, op, row_values, unsent, schema_id, position_lsn, position_phase, position_sequence, commit_ts_ms, message_value, error)
               VALUES ($1, $2, $3, 0, $4, $5, '{}', 0, $6, 1, 0, 0, '\\x00', 'parent not there yet (simulated)')
               ON CONFLICT (topic, key) DO UPDATE SET op = EXCLUDED.op, row_values = EXCLUDED.row_values, position_lsn = EXCLUDED.position_lsn`,
              [topic, String(change.id), partition, change.op === 'delete' ? 'd' : 'u', JSON.stringify({ v: change.v }), change.lsn.toString()],
            );
            this.parkings += 1;
            continue;
          }
        }
        if (change.op === 'delete') await c.query('DELETE FROM app.items WHERE id = $1', [change.id]);
        else await c.query('INSERT INTO app.items VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v', [change.id, change.v]);
      }
      if (apply.length > 0) {
        await c.query('UPDATE tandem.translate_offsets SET next_offset = $4, applied_lsn = $5, applied_phase = 1 WHERE group_id = $1 AND topic = $2 AND partition = $3', [GROUP, topic, partition, from + apply.length, apply.at(-1)!.lsn.toString()]);
      }
      if (cut && firstHeld >= 0) {
        await gate.hold(c, cut, topic, partition);
        this.heldBatches += 1;
      }
      await c.query('COMMIT');
    }
  }
}

describe('exact cut with the translate barrier', () => {
  let db: TestDatabase;
  let pipeline: SimulatedPipeline | null = null;

  beforeEach(async () => {
    db = await createTestDatabase('reconcile_cut');
    await db.sql(`CREATE SCHEMA legacy; CREATE SCHEMA app;
      CREATE TABLE legacy.items (id int PRIMARY KEY, v text); CREATE TABLE app.items (id int PRIMARY KEY, v text);`);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [`decoder_${db.name}`]);
  });
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = null;
    await db.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()`);
  });

  const connectorFor = (name: string) =>
    testConnector({ name, sourceUrl: db.url, tables: ['legacy.items'], brokers: ['127.0.0.1:9'], registryUrl: 'http://127.0.0.1:9', extra: { reconcile: { settleRounds: 0, cutTimeoutMs: 20_000, chunkRows: 100, bisectRows: 20 } } });

  async function startPipeline(connector: Connector, honoursCut: boolean, parkShare = 0): Promise<SimulatedPipeline> {
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [connector.source.slot]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await migrate(client, TARGET_BOOKKEEPING);
    await client.end();
    const simulated = new SimulatedPipeline(db, connector, honoursCut, parkShare);
    simulated.start(mulberry32(seed));
    await until(() => simulated.logs.every((log) => log.length > 5), { describe: 'changes in every partition', timeoutMs: 30_000 });
    return simulated;
  }

  it('compares both sides at one WAL position while writes go on: three runs in a row, zero drift, each cut proven by the applied positions', async () => {
    const connector = connectorFor('cutexact');
    pipeline = await startPipeline(connector, true);
    for (let run = 0; run < 3; run += 1) {
      const writesBefore = pipeline.writes;
      const result = await runReconcile(connector, { logger: silentLogger, cut: exactCut(connector, { logger: silentLogger, endOffsets: pipeline, groupId: GROUP, pollMs: 5 }) });
      expect(result.cut).toMatchObject({ mode: 'exact' });
      expect(Object.keys(result.cut.applied!)).toHaveLength(PARTITIONS);
      for (const applied of Object.values(result.cut.applied!)) expect(parseLsn(applied) <= parseLsn(result.cut.sourceLsn)).toBe(true);
      expect({ drift: result.drift, missing: result.tables[0]!.missing, extra: result.tables[0]!.extra, different: result.tables[0]!.different }).toEqual({ drift: 0, missing: [], extra: [], different: [] });
      expect(result.tables[0]!.rowsCompared).toBeGreaterThan(0);
      await until(() => pipeline!.writes > writesBefore, { describe: 'writes during and after the run' });
    }
    const cuts = await db.sql<{ status: string }>(`SELECT status FROM tandem.reconcile_cut ORDER BY id`);
    expect(cuts.map((cut) => cut.status)).toEqual(['released', 'released', 'released']);
  });

  it('waits for the changes parked at the cut to be retried: parked rows are in flight, not drift', async () => {
    const connector = connectorFor('cutparked');
    pipeline = await startPipeline(connector, true, 0.3);
    let parkedAtCuts = 0;
    for (let run = 0; run < 3; run += 1) {
      await until(async () => (await db.sql('SELECT 1 FROM tandem.translate_parked')).length > 0, { describe: 'a parked change before the cut' });
      parkedAtCuts += 1;
      const result = await runReconcile(connector, { logger: silentLogger, cut: exactCut(connector, { logger: silentLogger, endOffsets: pipeline, groupId: GROUP, pollMs: 5 }) });
      expect(result.cut).toMatchObject({ mode: 'exact' });
      expect({ drift: result.drift, missing: result.tables[0]!.missing, extra: result.tables[0]!.extra, different: result.tables[0]!.different }).toEqual({ drift: 0, missing: [], extra: [], different: [] });
    }
    expect(pipeline.parkings).toBeGreaterThan(0);
    expect(parkedAtCuts).toBe(3);
  });

  it('reports a drifted target row at the exact cut', async () => {
    const connector = connectorFor('cutdrift');
    pipeline = await startPipeline(connector, true);
    // id 1000 is outside the writer's ids: a row only the target has.
    await db.sql(`INSERT INTO app.items VALUES (1000, 'stray')`);
    const result = await runReconcile(connector, { logger: silentLogger, cut: exactCut(connector, { logger: silentLogger, endOffsets: pipeline, groupId: GROUP, pollMs: 5 }) });
    expect(result.cut).toMatchObject({ mode: 'exact' });
    expect(result.tables[0]).toMatchObject({ missing: [], extra: [['1000']], different: [] });
  });

  it('falls back to settle and recheck, saying why, when translate does not honour the cut or never ran', async () => {
    const idle = connectorFor('cutnone');
    const none = await runReconcile(idle, { logger: silentLogger, cut: exactCut(idle, { logger: silentLogger, endOffsets: { read: async () => [] }, groupId: GROUP, pollMs: 5 }) });
    expect(none.cut).toMatchObject({ mode: 'settle', reason: 'translate has no bookkeeping in the target database (it never ran)' });

    const connector = connectorFor('cutignored');
    pipeline = await startPipeline(connector, false);
    const result = await runReconcile(connector, { logger: silentLogger, cut: exactCut(connector, { logger: silentLogger, endOffsets: pipeline, groupId: GROUP, pollMs: 5 }) });
    expect(result.cut.mode).toBe('settle');
    expect(result.cut.reason).toMatch(/translate applied past the cut|translate did not reach the cut|the target snapshot is not at the cut/);
    const cuts = await db.sql<{ status: string }>(`SELECT status FROM tandem.reconcile_cut WHERE connector = 'cutignored'`);
    expect(cuts).toEqual([{ status: 'abandoned' }]);
  });
});
