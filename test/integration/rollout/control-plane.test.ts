import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../../src/errors.js';
import { cliActor, RolloutController } from '../../../src/rollout/controller.js';
import { PostgresEvidence } from '../../../src/rollout/evidence.js';
import { buildPlan } from '../../../src/rollout/plan.js';
import { testLogger } from '../../support/output.js';
import { readHistory, ROLLOUT_CHANNEL, StaleRolloutState } from '../../../src/rollout/store.js';
import { promote } from '../../../src/rollout/transitions/promote.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { connect, controllerFor, prepareTarget, recordReconcileRun, rolloutConnector, SettableLag, SHORT_PLAN } from './support.js';

describe('rollout control plane in PostgreSQL', () => {
  let db: TestDatabase;
  const clients: pg.Client[] = [];
  const client = async () => {
    const opened = await connect(db.url);
    clients.push(opened);
    return opened;
  };

  beforeAll(async () => {
    db = await createTestDatabase('rollout');
    await prepareTarget(db);
  });
  afterAll(async () => {
    await Promise.all(clients.map((opened) => opened.end()));
  });

  it('starts a migration in its first phase with every gate on legacy', async () => {
    const controller = await controllerFor(await client(), rolloutConnector(db.url, SHORT_PLAN, 'fresh'));
    const status = await controller.status();
    expect(status.state).toMatchObject({ phase: 'shadow', gates: { readNew: 0, write: 'legacy', reverseSync: false }, version: 0, groupId: 'fresh' });
    expect(status.next?.name).toBe('canary');
    expect(status.verdict?.criteria.map((criterion) => [criterion.name, criterion.met, criterion.actual])).toEqual([
      ['reconcile', false, 'no finished run'],
      ['lag', true, '1.0s'],
    ]);
  });

  it('refuses a promotion with unmet criteria, listing them, and changes nothing', async () => {
    const controller = await controllerFor(await client(), rolloutConnector(db.url, SHORT_PLAN, 'refused'));
    await recordReconcileRun(db, 'refused', 'clean');
    await recordReconcileRun(db, 'refused', 'drift', { driftRows: 7 });
    const error = await controller.promote({}, cliActor('alice')).catch((caught: unknown) => caught);
    expect(describeError(error)).toMatch(/cannot promote migration refused from shadow to canary: 1 criterion unmet\n {2}✗ reconcile: last 2 forward reconcile runs clean; now 1 of 2 clean \(runs \d+, \d+; drift in \d+: 7 rows\)\n {2}fix: meet the criteria above, or add --force --reason/);
    expect((await controller.state()).version).toBe(0);
    expect(await readHistory(await client(), 'refused')).toEqual([]);
  });

  it('promotes on evidence and audits who, what, why and the evidence', async () => {
    const lag = new SettableLag();
    lag.value = { seconds: 2.5, appliedPosition: '0/3000060', sourceLsn: '0/3000100' };
    const controller = await controllerFor(await client(), rolloutConnector(db.url, SHORT_PLAN, 'audited'), lag);
    const first = await recordReconcileRun(db, 'audited', 'clean');
    const second = await recordReconcileRun(db, 'audited', 'clean');
    const result = await controller.promote({ reason: 'canary time' }, cliActor('alice'));
    expect(result.state).toMatchObject({ phase: 'canary', gates: { readNew: 10 }, version: 1 });
    const [entry] = await readHistory(await client(), 'audited');
    expect(entry).toMatchObject({ action: 'promote', from: 'shadow', to: 'canary', actorKind: 'cli', actor: 'alice', reason: 'canary time', forced: false, stateVersion: 1 });
    expect(entry!.osUser).toBeTruthy();
    expect(entry!.evidence).toMatchObject({ reconcileRunIds: [second, first], lagSeconds: 2.5, appliedPosition: '0/3000060', sourceLsn: '0/3000100' });
    expect((entry!.evidence.criteria as { name: string; met: boolean }[]).map((criterion) => [criterion.name, criterion.met])).toEqual([
      ['reconcile', true],
      ['lag', true],
    ]);
  });

  it('lets exactly one of two concurrent promoters win; the other gets a clear error', async () => {
    const connector = rolloutConnector(db.url, SHORT_PLAN, 'race');
    const [one, two] = [await controllerFor(await client(), connector), await controllerFor(await client(), connector)];
    await recordReconcileRun(db, 'race', 'clean');
    await recordReconcileRun(db, 'race', 'clean');
    // Both decide on the same state, then both commit at once.
    const prepared = [await one.prepare(promote, {}, cliActor('alice')), await two.prepare(promote, {}, cliActor('bob'))];
    const outcomes = await Promise.allSettled(prepared.map((change) => change.commit()));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const [loser] = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(loser!.reason).toBeInstanceOf(StaleRolloutState);
    expect(describeError(loser!.reason)).toMatch(/rollout of migration race changed while this change was being made: it is now in canary \(version 1, expected 0\), changed by (alice|bob) \(promote\)\n {2}fix: run tandem rollout status/);
    expect((await one.state()).phase).toBe('canary');
    expect(await readHistory(await client(), 'race')).toHaveLength(1);
  });

  it('keeps the audit log append-only', async () => {
    await expect(db.sql('UPDATE tandem.rollout_audit SET reason = $1', ['rewritten'])).rejects.toThrow(/tandem.rollout_audit is append-only: UPDATE refused/);
    await expect(db.sql('DELETE FROM tandem.rollout_audit')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.sql('TRUNCATE tandem.rollout_audit')).rejects.toThrow(/append-only: TRUNCATE refused/);
  });

  it('announces every change with NOTIFY, carrying the new gate values', async () => {
    const listener = await client();
    const payloads: Record<string, unknown>[] = [];
    listener.on('notification', (message) => message.channel === ROLLOUT_CHANNEL && payloads.push(JSON.parse(message.payload!)));
    await listener.query(`LISTEN ${ROLLOUT_CHANNEL}`);
    const controller = await controllerFor(await client(), rolloutConnector(db.url, SHORT_PLAN, 'notified'));
    await controller.promote({ force: true, reason: 'drill' }, cliActor('carol'));
    await until(() => payloads.find((payload) => payload.migration === 'notified'), { describe: 'a NOTIFY for migration notified', timeoutMs: 15_000 });
    expect(payloads.find((payload) => payload.migration === 'notified')).toEqual({ migration: 'notified', version: 1, phase: 'canary', groupId: 'notified', readNew: 10, readNewServices: [], write: 'legacy', reverseSync: false });
  });

  it('rolls back on its own when a reconcile run finds drift after the phase began, with the evidence audited', async () => {
    const controller = await controllerFor(await client(), rolloutConnector(db.url, SHORT_PLAN, 'drifting'));
    await controller.promote({ force: true, reason: 'setup' }, cliActor('carol'));
    expect((await controller.watchStep({ kind: 'watch', name: 'watch', osUser: null }, false)).action).toBe('none');
    const drifted = await recordReconcileRun(db, 'drifting', 'drift', { driftRows: 4 });
    const step = await controller.watchStep({ kind: 'watch', name: 'watch', osUser: null }, false);
    expect(step.action).toBe('rollback');
    expect(await controller.state()).toMatchObject({ phase: 'shadow', gates: { readNew: 0, write: 'legacy' } });
    const [entry] = await readHistory(await client(), 'drifting');
    expect(entry).toMatchObject({ action: 'rollback', from: 'canary', to: 'shadow', actorKind: 'watch' });
    expect(entry!.reason).toContain(`drift (run ${drifted}: 4 rows`);
    expect(entry!.evidence.reconcileRunIds).toEqual([drifted]);
  });

  it('auto-promotes in watch when every criterion holds and the phase needs no approval, and never past an approval', async () => {
    const controller = await controllerFor(await client(), rolloutConnector(db.url, SHORT_PLAN, 'auto'));
    const watchActor = { kind: 'watch' as const, name: 'watch', osUser: null };
    expect((await controller.watchStep(watchActor, true)).action).toBe('none');
    await recordReconcileRun(db, 'auto', 'clean');
    await recordReconcileRun(db, 'auto', 'clean');
    expect((await controller.watchStep(watchActor, false)).action).toBe('none');
    const step = await controller.watchStep(watchActor, true);
    expect(step).toMatchObject({ action: 'promote', record: { from: 'shadow', to: 'canary', forced: false } });
    await recordReconcileRun(db, 'auto', 'clean');
    expect((await controller.watchStep(watchActor, true)).record).toMatchObject({ from: 'canary', to: 'full' });
    // cutover needs an approval: watch leaves it to people.
    expect((await controller.watchStep(watchActor, true)).action).toBe('none');
    expect((await controller.state()).phase).toBe('full');
    const [entry] = await readHistory(await client(), 'auto');
    expect(entry).toMatchObject({ action: 'promote', actorKind: 'watch', reason: 'all criteria met (watch --auto-promote)' });
  });

  it('approves, then cuts over with reverse sync on, and counts services’ errors as evidence', async () => {
    const connector = rolloutConnector(db.url, { ...SHORT_PLAN, rollback: { maxErrorRate: 0.1 } }, 'cut');
    const controller = await controllerFor(await client(), connector);
    await controller.promote({ to: 'full', force: true, reason: 'setup' }, cliActor('carol'));
    await recordReconcileRun(db, 'cut', 'clean');
    await expect(controller.promote({}, cliActor('carol'))).rejects.toThrow(/✗ approvals: 1 approval; now none/);
    await controller.approve({ by: 'dana' }, cliActor('dana'));
    const result = await controller.promote({}, cliActor('carol'));
    expect(result.record.action).toBe('cutover');
    expect(result.state.gates).toEqual({ readNew: 100, readNewServices: [], write: 'new', reverseSync: true });
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    await db.sql(`INSERT INTO tandem.rollout_traffic VALUES ('cut', $1, 'svc-a', 'new', 'decision', 100), ('cut', $1, 'svc-a', 'new', 'timeout', 20)`, [minute]);
    const status = await controller.status();
    expect(status.triggers.find((trigger) => trigger.name === 'error-rate')).toMatchObject({ fired: true, actual: '20% (20/100)' });
  });
});

describe('a cutover whose reverse sync cannot start', () => {
  it('is undone, and the undo is audited with the reason', async () => {
    const db = await createTestDatabase('rollout_undo');
    await prepareTarget(db);
    const client = await connect(db.url);
    try {
      const connector = rolloutConnector(db.url, SHORT_PLAN, 'undone');
      const plan = buildPlan(connector);
      const failing = { running: false, start: async () => Promise.reject(new Error('no replication slot available')), stop: async () => undefined, close: async () => undefined };
      const controller = new RolloutController({ plan, client, evidence: new PostgresEvidence(client, plan.migration, new SettableLag(), plan.watch.errorWindowMs), logger: testLogger('rollout'), reverseSync: failing });
      await controller.promote({ to: 'full', force: true, reason: 'setup' }, cliActor('alice'));
      const before = await controller.state();
      await expect(controller.promote({ force: true, reason: 'cut over' }, cliActor('alice'))).rejects.toThrow(/cutover of migration undone to cutover was undone: reverse sync did not start: no replication slot available/);
      const after = await controller.state();
      expect({ ...after, version: before.version }).toEqual(before);
      expect(after.version).toBe(before.version + 2);
      const [undo, cutover] = await readHistory(client, 'undone');
      expect(cutover).toMatchObject({ action: 'cutover', from: 'full', to: 'cutover' });
      expect(undo).toMatchObject({ action: 'undo', from: 'cutover', to: 'full', reason: 'reverse sync did not start: no replication slot available' });
    } finally {
      await client.end();
    }
  });
});
