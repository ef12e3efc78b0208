import { execFile } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import path from 'node:path';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../../src/rollout/bucketing.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { spawnTandem, type TandemProcess } from '../../support/process.js';
import { until } from '../../support/until.js';
import { prepareTarget, recordReconcileRun, SHORT_PLAN, writeRolloutConnectorFile } from './support.js';

const OPS_KEY = 'ops-key-9f2c4e1a7b';
const SERVICE_KEY = 'svc-key-3d8b6a0c52';
const CHROMIUM = '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);

/** A virtualenv (cached under ~/.cache/tandem) with Python's OFREP provider installed from PyPI. */
async function pythonWithOfrepProvider(): Promise<string> {
  const venv = path.join(homedir(), '.cache/tandem/ofrep-python-0.3.0');
  const python = path.join(venv, 'bin/python');
  if (!existsSync(path.join(venv, 'ready'))) {
    await execFileAsync('python3', ['-m', 'venv', venv], { timeout: 120_000 });
    await execFileAsync(path.join(venv, 'bin/pip'), ['install', '--quiet', 'openfeature-provider-ofrep==0.3.0'], { timeout: 300_000 });
    writeFileSync(path.join(venv, 'ready'), '');
  }
  return python;
}

describe('tandem rollout serve', () => {
  let db: TestDatabase;
  let server: TandemProcess;
  let base: string;

  const state = async () => (await db.sql<{ phase: string; version: string }>("SELECT phase, version FROM tandem.rollout_state WHERE migration = 'srv'"))[0]!;
  const audits = async () => Number((await db.sql<{ n: string }>("SELECT count(*) AS n FROM tandem.rollout_audit WHERE migration = 'srv'"))[0]!.n);
  const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    db = await createTestDatabase('rollout_serve');
    await prepareTarget(db);
    const file = writeRolloutConnectorFile(db.url, SHORT_PLAN, 'srv', { ops: { variable: 'TEST_OPS_KEY', role: 'operate' }, services: { variable: 'TEST_SERVICE_KEY' } });
    server = spawnTandem(['rollout', 'serve', '--port', '0', '--host', '127.0.0.1', '--config', file], { TEST_OPS_KEY: OPS_KEY, TEST_SERVICE_KEY: SERVICE_KEY, TANDEM_LOG_LEVEL: 'info' });
    const line = await server.waitForOutput(/listening on port \d+/);
    base = `http://127.0.0.1:${/\d+$/.exec(line)![0]}`;
  });
  afterAll(async () => {
    await OpenFeature.clearProviders();
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('answers 401 without a valid key and changes nothing; a read key may not change the rollout', async () => {
    const before = await state();
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }, { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` }] as Record<string, string>[]) {
      expect((await post('/api/promote', { force: true, reason: 'intruder' }, headers)).status).toBe(401);
      expect((await post('/api/rollback', { reason: 'intruder' }, headers)).status).toBe(401);
      expect((await post('/ofrep/v1/evaluate/flags/srv.read', { context: { targetingKey: 't' } }, headers)).status).toBe(401);
    }
    const browser = await fetch(`${base}/`);
    expect(browser.status).toBe(401);
    expect(browser.headers.get('www-authenticate')).toContain('Basic');
    const readOnly = await post('/api/promote', { force: true, reason: 'service key' }, { 'x-api-key': SERVICE_KEY });
    expect(readOnly.status).toBe(403);
    expect(await state()).toEqual(before);
    expect(await audits()).toBe(0);
    // The keys never reach the log, also when a request carries a wrong one.
    expect(server.output()).not.toContain(OPS_KEY);
    expect(server.output()).not.toContain(SERVICE_KEY);
    expect(server.output()).toContain('refused (no valid API key)');
  });

  it('speaks OFREP: configuration, single and bulk evaluation with ETag/304, and its error codes', async () => {
    const auth = { 'x-api-key': SERVICE_KEY };
    const configuration = await fetch(`${base}/ofrep/v1/configuration`, { headers: auth });
    expect(await configuration.json()).toMatchObject({ capabilities: { cacheInvalidation: { polling: { enabled: true } } } });

    const single = await post('/ofrep/v1/evaluate/flags/srv.read', { context: { targetingKey: 'tenant-1' } }, auth);
    expect(single.status).toBe(200);
    expect(await single.json()).toMatchObject({ key: 'srv.read', value: 'legacy', variant: 'legacy', reason: 'STATIC', metadata: { phase: 'shadow' } });

    const bulk = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'tenant-1' } }, auth);
    const etag = bulk.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(((await bulk.json()) as { flags: { key: string }[] }).flags.map((flag) => flag.key)).toEqual(['srv.read', 'srv.write']);
    expect((await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'tenant-1' } }, { ...auth, 'if-none-match': etag })).status).toBe(304);

    expect(await (await post('/ofrep/v1/evaluate/flags/srv.nope', { context: {} }, auth)).json()).toMatchObject({ key: 'srv.nope', errorCode: 'FLAG_NOT_FOUND' });
    expect((await post('/ofrep/v1/evaluate/flags/srv.nope', { context: {} }, auth)).status).toBe(404);
    const invalid = await post('/ofrep/v1/evaluate/flags/srv.read', { context: 'tenant-1' }, auth);
    expect([invalid.status, ((await invalid.json()) as { errorCode: string }).errorCode]).toEqual([400, 'INVALID_CONTEXT']);
    const malformed = await post('/ofrep/v1/evaluate/flags/srv.read', '{"context": ', auth);
    expect([malformed.status, ((await malformed.json()) as { errorCode: string }).errorCode]).toEqual([400, 'PARSE_ERROR']);
  });

  it('serves the official OFREP provider, which sees a promotion and a rollback within a second; the bulk ETag changes with them', async () => {
    await OpenFeature.setProviderAndWait('ofrep', new OFREPProvider({ baseUrl: base, headers: [['Authorization', `Bearer ${SERVICE_KEY}`]] }));
    const flags = OpenFeature.getClient('ofrep');
    let inside = 'tenant-0';
    for (let index = 0; bucketOf(inside, 'srv') > 10; index += 1) inside = `tenant-${index}`;
    expect(await flags.getStringValue('srv.read', 'legacy', { targetingKey: inside })).toBe('legacy');
    const etagBefore = (await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: inside } }, { 'x-api-key': SERVICE_KEY })).headers.get('etag');

    await recordReconcileRun(db, 'srv', 'clean');
    await recordReconcileRun(db, 'srv', 'clean');
    const promoted = await post('/api/promote', { force: true, reason: 'lag measured by hand' }, { authorization: `Bearer ${OPS_KEY}` });
    expect(promoted.status).toBe(200);
    await until(async () => (await flags.getStringValue('srv.read', 'legacy', { targetingKey: inside })) === 'new', { describe: `${inside} reading new through OFREP within a second`, timeoutMs: 1_000 });
    expect(await flags.getStringDetails('srv.read', 'legacy', { targetingKey: inside })).toMatchObject({ value: 'new', reason: 'SPLIT', variant: 'new' });
    expect(await flags.getStringDetails('srv.read', 'legacy', {})).toMatchObject({ value: 'legacy', errorCode: 'TARGETING_KEY_MISSING' });
    const bulk = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: inside } }, { 'x-api-key': SERVICE_KEY, 'if-none-match': etagBefore! });
    expect(bulk.status).toBe(200);

    const rolledBack = await post('/api/rollback', { reason: 'checking the way back' }, { 'x-api-key': OPS_KEY });
    expect(rolledBack.status).toBe(200);
    await until(async () => (await flags.getStringValue('srv.read', 'new', { targetingKey: inside })) === 'legacy', { describe: 'OFREP back on legacy within a second', timeoutMs: 1_000 });

    const history = (await (await fetch(`${base}/api/history`, { headers: { 'x-api-key': SERVICE_KEY } })).json()) as { entries: { action: string; actorKind: string; actor: string }[] };
    expect(history.entries.slice(0, 2).map((entry) => [entry.action, entry.actorKind, entry.actor])).toEqual([
      ['rollback', 'api-key', 'ops'],
      ['promote', 'api-key', 'ops'],
    ]);
    const refused = await post('/api/promote', { to: 'cutover' }, { 'x-api-key': OPS_KEY });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).toMatch(/from shadow to cutover skips canary, full/);
  });

  it('serves Python services through the official OFREP provider from PyPI', async () => {
    const python = await pythonWithOfrepProvider();
    let inside = 'tenant-0';
    for (let index = 0; bucketOf(inside, 'srv') > 10; index += 1) inside = `tenant-${index}`;
    let outside = 'tenant-0';
    for (let index = 0; bucketOf(outside, 'srv') <= 10; index += 1) outside = `tenant-${index}`;
    await post('/api/promote', { to: 'canary', force: true, reason: 'python check' }, { 'x-api-key': OPS_KEY });
    const { stdout } = await execFileAsync(python, [path.join(here, 'ofrep_client.py'), base, SERVICE_KEY, 'srv.read', inside, outside], { timeout: 60_000 });
    const results = JSON.parse(stdout) as Record<string, { value: string; reason?: string; error: string | null }>;
    expect(results[inside]).toMatchObject({ value: 'new', error: null });
    expect(results[outside]).toMatchObject({ value: 'legacy', error: null });
    expect(results[inside]!.reason).toContain('SPLIT');
    expect(results['<no key>']).toMatchObject({ value: 'default', error: expect.stringContaining('TARGETING_KEY_MISSING') });
    await post('/api/rollback', { reason: 'python check done' }, { 'x-api-key': OPS_KEY });
  });

  it('shows the migration console in a browser: phases with the current one, gates, criteria, trends, audit log, last reconcile report', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    await post('/api/promote', { force: true, reason: 'for the console' }, { 'x-api-key': OPS_KEY });
    await db.sql(`INSERT INTO tandem.rollout_sample (migration, at, lag_seconds, drift_rows, error_rate) SELECT 'srv', now() - make_interval(secs => 15 * g), 2 + (g % 5), 0, 0.001 * (g % 3) FROM generate_series(1, 30) AS g`);
    await recordReconcileRun(db, 'srv', 'drift', { driftRows: 3 });
    await recordReconcileRun(db, 'srv', 'clean');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox'] });
    try {
      const page = await browser.newPage({ httpCredentials: { username: 'ops', password: OPS_KEY }, viewport: { width: 1280, height: 900 } });
      const response = await page.goto(`${base}/`);
      expect(response?.status()).toBe(200);
      expect(await page.locator('ol.phases li.current').innerText()).toContain('canary');
      expect(await page.locator('ol.phases li').count()).toBe(4);
      expect(await page.locator('#gates').innerText()).toContain('10%');
      expect(await page.locator('#criteria').textContent()).toMatch(/Next: full[\s\S]*reconcile: last 2 forward reconcile runs clean/);
      expect(await page.locator('#trends svg polyline').count()).toBe(3);
      expect(await page.locator('#trends').innerText()).toContain('drift rows per reconcile run: 0');
      expect(await page.locator('#audit').innerText()).toMatch(/promote[\s\S]*key ops[\s\S]*for the console/);
      expect(await page.locator('#reconcile').innerText()).toMatch(/clean · 0 drift rows/);
      // Outside the work tree; the path is printed so a person can look at it.
      const screenshot = path.join(process.env.TANDEM_SCREENSHOT_DIR ?? tmpdir(), 'tandem-rollout-console.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(statSync(screenshot).size).toBeGreaterThan(10_000);
      console.log(`console screenshot: ${screenshot}`);
    } finally {
      await browser.close();
    }
  });
});
