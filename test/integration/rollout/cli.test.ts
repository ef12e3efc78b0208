import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../../src/rollout/store.js';
import { runTandem } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { spawnTandem, type TandemProcess } from '../../support/process.js';
import { until } from '../../support/until.js';
import { connect, prepareTarget, recordReconcileRun, SHORT_PLAN, writeRolloutConnectorFile } from './support.js';

describe('tandem rollout (CLI)', () => {
  let db: TestDatabase;
  const running: TandemProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('rollout_cli');
    await prepareTarget(db);
  });
  afterAll(async () => {
    for (const child of running) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  });

  const rollout = (name: string, args: string[], file: string) => runTandem(['rollout', ...args, '--config', file, '--log-level', 'warn']);
  const phaseOf = async (name: string) => (await db.sql<{ phase: string }>('SELECT phase FROM tandem.rollout_state WHERE migration = $1', [name]))[0]?.phase;

  it('shows the status with every criterion of the next phase, refuses an unmet promotion with the list, and promotes on evidence', async () => {
    const file = writeRolloutConnectorFile(db.url, SHORT_PLAN, 'clishop');
    const status = await rollout('clishop', ['status'], file);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('migration clishop: phase shadow (1 of 4)');
    expect(status.stdout).toContain('gates: reads 0% new, writes legacy');
    expect(status.stdout).toContain('next: canary (reads 10% new, writes legacy): not ready');
    expect(status.stdout).toContain('✗ reconcile: last 2 forward reconcile runs clean; now no finished run');

    const refused = await rollout('clishop', ['promote'], file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: cannot promote migration clishop from shadow to canary: 2 criteria unmet');
    expect(refused.stderr).toContain('✗ reconcile: last 2 forward reconcile runs clean; now no finished run');
    expect(refused.stderr).toContain('✗ lag: end-to-end lag ≤ 30s; now unknown (translate has not reported a position)');
    expect(await phaseOf('clishop')).toBe('shadow');

    const forced = await rollout('clishop', ['promote', '--force', '--reason', 'lag is measured by hand today', '--by', 'alice'], file);
    expect(forced.stdout).toMatch(/promoted clishop: shadow → canary \(forced\) \(audit #\d+\)/);
    const history = await rollout('clishop', ['history', '--format', 'json'], file);
    const [entry] = JSON.parse(history.stdout) as { action: string; actor: string; osUser: string; reason: string; forced: boolean; evidence: { criteria: { name: string; met: boolean }[] } }[];
    expect(entry).toMatchObject({ action: 'promote', actor: 'alice', reason: 'lag is measured by hand today', forced: true });
    expect(entry!.osUser).toBeTruthy();
    expect(entry!.evidence.criteria.map((criterion) => [criterion.name, criterion.met])).toEqual([
      ['reconcile', false],
      ['lag', false],
    ]);
    const text = await rollout('clishop', ['history'], file);
    expect(text.stdout).toMatch(/promote \(forced\)\s+shadow → canary\s+alice/);

    const plan = await rollout('clishop', ['plan'], file);
    expect(plan.stdout).toMatch(/▶ canary\s+10%\s+legacy\s+off\s+2 clean runs, lag ≤ 30s/);
    expect(plan.stdout).toMatch(/cutover\s+100%\s+new\s+on\s+1 clean runs\s+-\s+1\s+\d{4}-/);

    const back = await rollout('clishop', ['rollback', '--reason', 'checking rollback'], file);
    expect(back.stdout).toMatch(/rolled clishop back: canary → shadow/);
    const noReason = await rollout('clishop', ['rollback'], file);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
  });

  it('lets exactly one of two promoters started at once win', async () => {
    const file = writeRolloutConnectorFile(db.url, SHORT_PLAN, 'clirace');
    await rollout('clirace', ['status'], file);
    await recordReconcileRun(db, 'clirace', 'clean');
    await recordReconcileRun(db, 'clirace', 'clean');
    // Both ask for canary: one enters it; the other either lost the race (changed while…) or finds canary current.
    const results = await Promise.all([1, 2].map(() => rollout('clirace', ['promote', '--to', 'canary', '--force', '--reason', 'race'], file)));
    expect(results.filter((result) => result.code === 0)).toHaveLength(1);
    const loser = results.find((result) => result.code !== 0)!;
    expect(loser.stderr).toMatch(/rollout of migration clirace changed while this change was being made|cannot promote migration clirace to canary: it is the current phase/);
    const client = await connect(db.url);
    expect((await readHistory(client, 'clirace')).filter((entry) => entry.action === 'promote')).toHaveLength(1);
    await client.end();
  });

  it('watch rolls back when reconcile finds drift, citing the run', async () => {
    const file = writeRolloutConnectorFile(db.url, { ...SHORT_PLAN, watch: { interval: '1s' } }, 'cliwatch');
    await rollout('cliwatch', ['promote', '--to', 'canary', '--force', '--reason', 'setup'], file);
    const watch = spawnTandem(['rollout', 'watch', '--config', file]);
    running.push(watch);
    await watch.waitForOutput(/watching rollout of cliwatch every 1000 ms/);
    const drift = await recordReconcileRun(db, 'cliwatch', 'drift', { driftRows: 2 });
    await until(async () => (await phaseOf('cliwatch')) === 'shadow', { describe: 'watch rolling cliwatch back to shadow', timeoutMs: 30_000 });
    const client = await connect(db.url);
    const [entry] = await readHistory(client, 'cliwatch');
    await client.end();
    expect(entry).toMatchObject({ action: 'rollback', from: 'canary', to: 'shadow', actorKind: 'watch', actor: 'watch' });
    expect(entry!.evidence.reconcileRunIds).toEqual([drift]);
    expect(entry!.reason).toContain(`drift (run ${drift}: 2 rows`);
    watch.child.kill('SIGTERM');
    expect(await watch.exited).toBe(0);
  });
});
