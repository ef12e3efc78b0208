/**
 * The reconcile HTML report in a real browser (Debian's Chromium): self-contained (no request but
 * the page itself), summary first, drift shown column by column. Needs /usr/bin/chromium, so it runs
 * in `npm run test:peers`.
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { renderHtml, type ReportJson, type TableJson } from '../../src/reconcile/report.js';

const CHROMIUM = '/usr/bin/chromium';

const table = (name: string, overrides: Partial<TableJson>): TableJson => ({
  table: name,
  sources: ['legacy.customers'],
  rowsCompared: 0,
  drift: 0,
  inFlightResolved: 0,
  columnCounts: {},
  missing: [],
  extra: [],
  different: [],
  truncated: { missing: 0, extra: 0, different: 0 },
  counts: { missing: 0, extra: 0, different: 0 },
  notComparable: [],
  chunks: 1,
  durationMs: 120,
  ...overrides,
});

const report: ReportJson = {
  connector: 'demo',
  runId: '12',
  status: 'drift',
  direction: 'forward',
  startedAt: '2026-11-29T12:00:00.000Z',
  finishedAt: '2026-11-29T12:00:03.000Z',
  durationMs: 3000,
  cut: { mode: 'exact', sourceLsn: '0/2218ED8', applied: {} },
  rowsCompared: 1_200_400,
  drift: 3,
  inFlightResolved: 0,
  summary: { missing: 1, extra: 0, different: 2 },
  tables: [
    table('app.customer', { rowsCompared: 200_200, chunks: 5 }),
    table('app.orders', {
      sources: ['legacy.orders'],
      rowsCompared: 1_000_200,
      drift: 3,
      columnCounts: { amount_cents: 2, status: 1 },
      missing: [{ id: '1001' }],
      different: [
        { key: { id: '1' }, columns: { amount_cents: { expected: '5315', actual: '5415' }, status: { expected: 'paid', actual: 'new' } } },
        { key: { id: '4' }, columns: { amount_cents: { expected: '16415', actual: null } } },
      ],
      counts: { missing: 1, extra: 0, different: 2 },
      chunks: 21,
    }),
  ],
};

describe('reconcile report in a browser', () => {
  it('is one self-contained page: summary first, then each drifted table with expected and actual values', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-report-'));
    const file = path.join(dir, 'reconcile.html');
    writeFileSync(file, renderHtml(report));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(file).href);
      expect(requests).toEqual([pathToFileURL(file).href]);
      expect(await page.title()).toBe('Reconcile demo — 3 drifted rows');
      const text = await page.locator('main').innerText();
      expect(text.indexOf('drifted rows')).toBeLessThan(text.indexOf('app.orders'));
      expect(await page.locator('.cards .card').count()).toBe(6);
      expect(await page.locator('table.diff tbody tr').count()).toBe(3);
      expect(await page.locator('table.diff td.exp').first().innerText()).toBe('5315');
      expect(await page.locator('table.diff td.act').first().innerText()).toBe('5415');
      expect(await page.locator('ul.keys li').innerText()).toContain('1001');
      const screenshot = path.join(process.env.TANDEM_SCREENSHOT_DIR ?? dir, 'tandem-reconcile-report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(statSync(screenshot).size).toBeGreaterThan(10_000);
      console.log(`reconcile report screenshot: ${screenshot}`);
    } finally {
      await browser.close();
    }
  });
});
