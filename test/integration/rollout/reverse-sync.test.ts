import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import type { Connector } from '../../../src/config/index.js';
import { RolloutController, cliActor } from '../../../src/rollout/controller.js';
import { PostgresEvidence } from '../../../src/rollout/evidence.js';
import { buildPlan } from '../../../src/rollout/plan.js';
import { PipelineReverseSync } from '../../../src/rollout/reverse-pipeline.js';
import { ReverseSyncSupervisor } from '../../../src/rollout/reverse-sync.js';
import { startWatch } from '../../../src/rollout/watch.js';
import { uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { connect, prepareTarget, SettableLag, SHORT_PLAN } from './support.js';

describe('reverse sync at cutover', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let client: pg.Client;
  let sync: PipelineReverseSync;
  let controller: RolloutController;
  let connector: Connector;

  const legacyRows = async () => Object.fromEntries((await legacy.sql<{ id: number; name: string }>('SELECT id, name FROM legacy.customers ORDER BY id')).map((row) => [row.id, row.name]));

  beforeAll(async () => {
    legacy = await createTestDatabase('rollout_legacy');
    target = await createTestDatabase('rollout_new');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.customers (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO legacy.customers SELECT g, 'Customer ' || g FROM generate_series(1, 5) g`);
    // The forward pipeline has done its work: new holds the mapped legacy rows.
    await target.sql(`CREATE SCHEMA app; CREATE TABLE app.customers (id int PRIMARY KEY, full_name text NOT NULL);
      INSERT INTO app.customers SELECT g, 'Customer ' || g FROM generate_series(1, 5) g`);
    await prepareTarget(target);
    connector = parseConnector({
      name: uniqueName('rev'),
      source: { url: legacy.url, schema: 'legacy', tables: ['customers'] },
      kafka: { brokers: stack.brokers },
      registry: { url: stack.registryUrl },
      target: { url: target.url, schema: 'app' },
      mappings: { customers: { to: 'customers', columns: { full_name: 'name' } } },
      capture: { heartbeatIntervalMs: 500 },
      rollout: { ...SHORT_PLAN, reverse: { 'app.customers': { to: 'legacy.customers', columns: { name: 'full_name' } } } },
    });
    client = await connect(target.url);
    const plan = buildPlan(connector);
    sync = new PipelineReverseSync(connector, testLogger('reverse'));
    controller = new RolloutController({ plan, client, evidence: new PostgresEvidence(client, plan.migration, new SettableLag(), plan.watch.errorWindowMs), logger: testLogger('rollout'), reverseSync: sync });
  });

  afterAll(async () => {
    await sync?.stop().catch(() => undefined);
    await client?.end();
    await stack?.stop();
  });

  it('starts with the cutover: a write to the new schema appears in legacy', async () => {
    await controller.promote({ to: 'full', force: true, reason: 'setup' }, cliActor('alice'));
    await controller.approve({ by: 'bob' }, cliActor('bob'));
    const cut = await controller.promote({ force: true, reason: 'cut over in the test' }, cliActor('alice'));
    expect(cut.record.action).toBe('cutover');
    expect(sync.running).toBe(true);
    await target.sql(`INSERT INTO app.customers VALUES (100, 'Written on new'); UPDATE app.customers SET full_name = 'Renamed on new' WHERE id = 2; DELETE FROM app.customers WHERE id = 5`);
    await until(async () => {
      const rows = await legacyRows();
      return rows[100] === 'Written on new' && rows[2] === 'Renamed on new' && rows[5] === undefined;
    }, { describe: 'the writes made on new to reach legacy', timeoutMs: 60_000, intervalMs: 200 });
  });

  it('rolling back from cutover loses none of the writes made after it', async () => {
    await target.sql(`INSERT INTO app.customers SELECT g, 'Late ' || g FROM generate_series(200, 260) g; UPDATE app.customers SET full_name = 'Last word' WHERE id = 1`);
    const back = await controller.rollback({ reason: 'back to legacy writes' }, cliActor('alice'));
    expect(back.state.gates).toMatchObject({ write: 'legacy', reverseSync: false });
    expect(sync.running).toBe(false);
    // No waiting: the rollback returned after reverse sync drained.
    const rows = await legacyRows();
    expect(rows[1]).toBe('Last word');
    for (let id = 200; id <= 260; id += 1) expect(rows[id], `row ${id}`).toBe(`Late ${id}`);
    const all = await target.sql<{ id: number; full_name: string }>('SELECT id, full_name FROM app.customers ORDER BY id');
    expect(rows).toEqual(Object.fromEntries(all.map((row) => [row.id, row.full_name])));
  });

  it('is started and drained by watch when the cutover and the rollback are made elsewhere (CLI, console)', async () => {
    const plan = buildPlan(connector);
    const elsewhere = new RolloutController({ plan, client, evidence: new PostgresEvidence(client, plan.migration, new SettableLag(), plan.watch.errorWindowMs), logger: testLogger('cli') });
    const watchClient = await connect(target.url);
    const watchedSync = new PipelineReverseSync(connector, testLogger('reverse-watch'));
    const supervisor = new ReverseSyncSupervisor(watchedSync, testLogger('watch'));
    const watchController = new RolloutController({ plan, client: watchClient, evidence: new PostgresEvidence(watchClient, plan.migration, new SettableLag(), plan.watch.errorWindowMs), logger: testLogger('watch') });
    const watch = startWatch({ controller: watchController, client: watchClient, supervisor, logger: testLogger('watch'), intervalMs: 500, autoPromote: false, actor: { kind: 'watch', name: 'watch', osUser: null } });
    try {
      await elsewhere.approve({ by: 'bob' }, cliActor('bob'));
      await elsewhere.promote({ force: true, reason: 'cut over from the CLI' }, cliActor('alice'));
      await until(() => watchedSync.running, { describe: 'watch starting reverse sync after the cutover', timeoutMs: 30_000 });
      await target.sql(`INSERT INTO app.customers VALUES (400, 'Via watch'); UPDATE app.customers SET full_name = 'Again' WHERE id = 3`);
      await until(async () => (await legacyRows())[400] === 'Via watch', { describe: 'a write on new reaching legacy through the watched pipeline', timeoutMs: 60_000, intervalMs: 200 });
      await target.sql(`INSERT INTO app.customers VALUES (401, 'Just before the rollback')`);
      await elsewhere.rollback({ reason: 'rollback from the CLI' }, cliActor('alice'));
      await until(() => supervisor.status === 'off' && !watchedSync.running, { describe: 'watch draining and stopping reverse sync after the rollback', timeoutMs: 60_000 });
      const rows = await legacyRows();
      expect([rows[3], rows[400], rows[401]]).toEqual(['Again', 'Via watch', 'Just before the rollback']);
    } finally {
      watch.stop();
      await watch.done;
      await supervisor.close();
      await watchClient.end();
    }
  });
});
