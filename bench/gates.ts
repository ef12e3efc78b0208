/**
 * Gate decisions per second of the SDK (`createGateClient(...).readFrom(key)`), the figure the
 * rollout issue asks for (≥ 5M/s): an embedded PostgreSQL holds the rollout state, the client reads
 * it once, and then decides locally for 100k distinct keys at several read percentages (0% and 100%
 * skip the hash; the split percentages hash every key). Also how long each change takes from its
 * NOTIFY to the client's snapshot (the issue asks for under a second; `npm test` only checks that
 * clients follow). Run with `npm run bench:gates`. Prints figures, asserts nothing.
 */
import pg from 'pg';
import { parseConnector } from '../src/config/load.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { migrate } from '../src/pg/bookkeeping/migrate.js';
import { ROLLOUT_BOOKKEEPING } from '../src/pg/bookkeeping/rollout.js';
import { buildPlan } from '../src/rollout/plan.js';
import { createGateClient } from '../src/rollout/sdk.js';
import { initialState } from '../src/rollout/state.js';
import { ensureState } from '../src/rollout/store.js';
import { createLogger } from '../src/observability/logger.js';

const KEYS = 100_000;
const ROUNDS = 40; // 4M decisions per percentage
const PERCENTAGES = [0, 5, 25, 50, 100];

const postgres = await startEmbeddedPostgres();
try {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await migrate(admin, ROLLOUT_BOOKKEEPING);
  const connector = parseConnector({
    name: 'bench',
    source: { url: postgres.url, tables: ['t'] },
    kafka: { brokers: ['localhost:9092'] },
    registry: { url: 'http://localhost:8081' },
    target: { url: postgres.url },
  });
  const state = await ensureState(admin, initialState(buildPlan(connector), new Date().toISOString()));
  const keys = Array.from({ length: KEYS }, (_, index) => `tenant-${(index * 2_654_435_761) % 4_294_967_296}`);
  const gates = await createGateClient({ connectionString: postgres.url, migration: 'bench', logger: createLogger({ level: 'warn' }), flushIntervalMs: 60_000 });
  console.log(`gate decisions (readFrom), ${KEYS} distinct keys, ${ROUNDS} rounds each, node ${process.version}`);
  let version = state.version;
  const propagationMs: number[] = [];
  for (const percentage of PERCENTAGES) {
    version += 1;
    await admin.query('UPDATE tandem.rollout_state SET read_new = $1, version = $2 WHERE migration = $3', [percentage, version, 'bench']);
    const notified = process.hrtime.bigint();
    await admin.query("SELECT pg_notify('tandem_rollout', $1)", [JSON.stringify({ migration: 'bench', version, phase: `p${percentage}`, groupId: 'bench', readNew: percentage, write: 'legacy', reverseSync: false })]);
    while (gates.snapshot?.version !== version) await new Promise((resolve) => setImmediate(resolve));
    propagationMs.push(Number(process.hrtime.bigint() - notified) / 1e6);
    // Warm up, then measure.
    let onNew = 0;
    for (const key of keys) if (gates.readFrom(key) === 'new') onNew += 1;
    const started = process.hrtime.bigint();
    onNew = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let index = 0; index < KEYS; index += 1) if (gates.readFrom(keys[index]!) === 'new') onNew += 1;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const decisions = ROUNDS * KEYS;
    console.log(`  ${String(percentage).padStart(3)}% on new: ${(decisions / seconds / 1e6).toFixed(2)}M decisions/s (${((onNew / decisions) * 100).toFixed(2)}% of keys on new)`);
  }
  console.log(`change → client snapshot (NOTIFY): ${propagationMs.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}; max ${Math.max(...propagationMs).toFixed(1)} ms`);
  await gates.close();
  await admin.end();
} finally {
  await postgres.stop();
}
