import { describe, expect, it } from 'vitest';
import { buildReport, renderHtml, renderMarkdown, renderText } from '../../../src/reconcile/report.js';
import type { ReconcileResult, TableReport } from '../../../src/reconcile/run.js';
import { targetsAwaitingSnapshot } from '../../../src/reconcile/snapshot-progress.js';

const targets = [
  { table: 'app.customer', sources: ['legacy.customers', 'legacy.loyalty'] },
  { table: 'app.customer_address', sources: ['legacy.customers'] },
  { table: 'app.orders', sources: ['legacy.orders'] },
];

describe('tables awaiting capture\'s snapshot', () => {
  it('leaves out every target fed by a source table still being snapshotted, merges included', () => {
    expect(targetsAwaitingSnapshot(targets, ['legacy.loyalty'])).toEqual(new Map([['app.customer', ['legacy.loyalty']]]));
    expect(targetsAwaitingSnapshot(targets, ['legacy.customers', 'legacy.orders'])).toEqual(
      new Map([
        ['app.customer', ['legacy.customers']],
        ['app.customer_address', ['legacy.customers']],
        ['app.orders', ['legacy.orders']],
      ]),
    );
    expect(targetsAwaitingSnapshot(targets, [])).toEqual(new Map());
  });
});

describe('an incomplete run in the reports', () => {
  const table = (name: string, extra: Partial<TableReport>): TableReport => ({
    table: name,
    sources: ['legacy.orders'],
    keyColumns: ['id'],
    columns: ['amount_cents'],
    notComparable: [],
    rowsCompared: 0,
    chunks: 0,
    chunking: 'scan',
    segmentsCompared: 0,
    rowsFetched: 0,
    missing: [],
    extra: [],
    different: [],
    inFlightResolved: 0,
    durationMs: 0,
    ...extra,
  });
  const result = {
    connector: 'demo',
    direction: 'forward',
    startedAt: new Date('2026-11-30T01:00:00Z'),
    finishedAt: new Date('2026-11-30T01:00:01Z'),
    status: 'incomplete',
    cut: { mode: 'exact', sourceLsn: '0/1' },
    rowsCompared: 300,
    drift: 0,
    inFlightResolved: 0,
    tables: [
      table('app.customer', { sources: ['legacy.customers'], rowsCompared: 300, chunks: 1 }),
      table('app.orders', { awaitingSnapshot: ['legacy.orders'] }),
      table('app.payments', { sources: ['legacy.payments'], rowsCompared: 50, unverified: { keys: 2, behind: ['demo.legacy.payments[1]'] } }),
    ],
    targets: [],
  } satisfies ReconcileResult;
  const report = buildReport(result, { runId: '7', cap: 100 });

  it('says so first and names each table with what it waits for, in every format', () => {
    expect(report.status).toBe('incomplete');
    expect(report.tables[1]).toMatchObject({ table: 'app.orders', awaitingSnapshot: ['legacy.orders'], drift: 0 });
    expect(report.tables[2]).toMatchObject({ table: 'app.payments', unverified: { keys: 2, behind: ['demo.legacy.payments[1]'] }, drift: 0 });
    const text = renderText(report);
    expect(text.split('\n')[0]).toMatch(/^INCOMPLETE {2}demo: 0 drifted row/);
    expect(text).toContain("wait  app.orders                     not compared: capture's snapshot of legacy.orders is still in progress");
    expect(text).toContain('wait  app.payments                   not verified: 2 key(s) still differed while translate was behind (demo.legacy.payments[1]), so they may be in flight');
    const markdown = renderMarkdown(report);
    expect(markdown.split('\n')[0]).toBe('# Reconcile demo: incomplete, 2 table(s) not compared or not verified');
    expect(markdown).toContain("**Not compared: capture's snapshot of legacy.orders is still in progress; the first run after it completes compares this table.**");
    expect(markdown).toContain('| app.payments (not verified) |');
    const page = renderHtml(report);
    expect(page).toContain('<span class="badge">INCOMPLETE</span>');
    expect(page).toContain('<tr class="wait"><td><code>app.orders</code>');
    expect(page).toContain('<tr class="wait"><td><code>app.payments</code> <span class="muted">not verified</span>');
  });
});
