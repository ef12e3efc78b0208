/**
 * Rollout against peers outside Node: Python services through the official OFREP provider from
 * PyPI, and the console in a real browser (Debian's Chromium with playwright-core). These need
 * python3 with venv and /usr/bin/chromium, so they run in `npm run test:peers` (CI installs both),
 * not in `npm test`, which needs Node alone.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../src/rollout/bucketing.js';
import { recordReconcileRun, serveRollout, type ServedRollout } from '../integration/rollout/support.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const OPS_KEY = 'ops-key-51c0e9d2aa';
const SERVICE_KEY = 'svc-key-7e3a9b1f04';
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

describe('tandem rollout serve, seen from outside Node', () => {
  let db: TestDatabase;
  let served: ServedRollout;
  let base: string;
  let post: ServedRollout['post'];

  beforeAll(async () => {
    db = await createTestDatabase('rollout_peers');
    served = await serveRollout(db, 'srv', { ops: OPS_KEY, services: SERVICE_KEY });
    base = served.base;
    post = served.post;
  });
  afterAll(async () => {
    await served?.stop();
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
