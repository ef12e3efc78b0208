import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTandem } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createShop } from './fixture.js';

/** Connector file for the CLI: the shop mappings (lookup written out as its CASE). */
function connectorFile(db: TestDatabase, webhook: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tandem-reconcile-'));
  const file = path.join(dir, 'shop.ts');
  writeFileSync(
    file,
    `import { defineConnector, lookup } from ${JSON.stringify(path.resolve('src/index.ts'))};
export default defineConnector({
  name: 'shop',
  source: { url: ${JSON.stringify(db.url)}, schema: 'legacy', tables: ['customers', 'loyalty', 'accounts'] },
  kafka: { brokers: ['127.0.0.1:9'] },
  registry: { url: 'http://127.0.0.1:9' },
  target: { url: ${JSON.stringify(db.url)}, schema: 'app' },
  mappings: {
    'legacy.customers': [
      { to: 'app.customer', columns: { id: 'id', full_name: "trim(first_name || ' ' || last_name)", email: 'lower(email)', status: lookup('status_code', { 1: 'active', 2: 'suspended' }, 'unknown'), signed_up_at: "created::timestamp AT TIME ZONE 'Europe/Berlin'", balance_cents: 'round(balance * 100)' }, where: 'NOT is_test', onDelete: { set: { deleted_at: 'now()' } } },
      { to: 'app.customer_address', columns: { customer_id: 'id', line1: "split_part(address, E'\\\\n', 1)" } },
    ],
    'legacy.loyalty': { to: 'app.customer', columns: { id: 'customer_id', points: 'points' } },
    'legacy.accounts': { to: 'app.account' },
  },
  reconcile: { chunkRows: 400, bisectRows: 40, settleRounds: 0, webhook: { url: ${JSON.stringify(webhook)} } },
});
`,
  );
  return file;
}

describe('tandem reconcile (CLI)', () => {
  let db: TestDatabase;
  let server: Server;
  const posts: { text: string; event: string; drift: number }[] = [];
  let file: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'tandem-reports-'));

  beforeAll(async () => {
    db = await createTestDatabase('reconcile_cli');
    await createShop(db, 3_000);
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        posts.push(JSON.parse(body));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    file = connectorFile(db, `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exits 0 on clean tables, records the run, and sends no alert', async () => {
    const run = await runTandem(['reconcile', '--config', file, '--format', 'json'], { timeoutMs: 120_000 });
    expect(run.stderr).not.toMatch(/error:/);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ drift: 0, status: 'clean' });
    expect(report.tables.map((table: { table: string }) => table.table)).toEqual(['app.customer', 'app.customer_address', 'app.account']);
    const runs = await db.sql('SELECT status, direction, drift_rows, cut FROM tandem.reconcile_run ORDER BY id');
    expect(runs).toEqual([{ status: 'clean', direction: 'forward', drift_rows: '0', cut: expect.objectContaining({ mode: 'settle' }) }]);
    expect(posts).toEqual([]);
  });

  it('exits 2 on drift, writes the JSON contract, Markdown and HTML, alerts once, and not again for the same drift', async () => {
    await db.sql(`UPDATE app.customer SET email = 'wrong@example.com' WHERE id = 14;
      DELETE FROM app.account WHERE tenant = 'zeta' AND code = 'acc-000003';
      INSERT INTO app.customer_address VALUES (424242, 'Nowhere 1');`);
    const reports = ['drift.json', 'drift.md', 'drift.html'].map((name) => path.join(dir, name));
    const run = await runTandem(['reconcile', '--config', file, ...reports.flatMap((report) => ['--report', report])], { timeoutMs: 120_000 });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^DRIFT {2}shop: 3 drifted row\(s\)/);
    const json = JSON.parse(readFileSync(reports[0]!, 'utf8'));
    expect(json.drift).toBe(3);
    const byTable = Object.fromEntries(json.tables.map((table: { table: string }) => [table.table, table]));
    expect(byTable['app.customer'].different).toEqual([{ key: { id: '14' }, columns: { email: { expected: 'user2@example.com', actual: 'wrong@example.com' } } }]);
    expect(byTable['app.account'].missing).toEqual([{ tenant: 'zeta', code: 'acc-000003' }]);
    expect(byTable['app.customer_address'].extra).toEqual([{ customer_id: '424242' }]);
    expect(readFileSync(reports[1]!, 'utf8')).toContain('| app.customer | ');
    const html = readFileSync(reports[2]!, 'utf8');
    expect(html).toContain('<span class="badge">DRIFT</span>');
    expect(html).not.toMatch(/<(script|link)\b|https?:\/\//);
    expect(posts.map((post) => post.event)).toEqual(['appeared']);
    expect(posts[0]!.text).toMatch(/drift found — 3 row\(s\) in 3 table\(s\)/);

    const again = await runTandem(['reconcile', '--config', file], { timeoutMs: 120_000 });
    expect(again.code).toBe(2);
    expect(posts.map((post) => post.event)).toEqual(['appeared']);
  });

  it('--repair rewrites the drifted rows from legacy, records them, and the next run is clean; the webhook says resolved once', async () => {
    const repair = await runTandem(['reconcile', '--config', file, '--repair', '--format', 'json'], { timeoutMs: 120_000 });
    expect(repair.code).toBe(0);
    expect(JSON.parse(repair.stdout).repair).toEqual({ rows: 3, recheckDrift: 0 });
    const repaired = await db.sql<{ target_table: string; kind: string; key: unknown }>('SELECT target_table, kind, key FROM tandem.reconcile_repair ORDER BY target_table');
    expect(repaired).toEqual([
      { target_table: 'app.account', kind: 'missing', key: { tenant: 'zeta', code: 'acc-000003' } },
      { target_table: 'app.customer', kind: 'different', key: { id: '14' } },
      { target_table: 'app.customer_address', kind: 'extra', key: { customer_id: '424242' } },
    ]);
    const next = await runTandem(['reconcile', '--config', file], { timeoutMs: 120_000 });
    expect(next.code).toBe(0);
    expect(next.stdout).toMatch(/^CLEAN/);
    expect(posts.map((post) => post.event)).toEqual(['appeared', 'resolved']);
    const statuses = await db.sql<{ status: string }>('SELECT status FROM tandem.reconcile_run ORDER BY id');
    expect(statuses.map((row) => row.status)).toEqual(['clean', 'drift', 'drift', 'drift', 'clean']);
  });

  it('refuses an unknown table and a bad report name with the fix, exit 1', async () => {
    const table = await runTandem(['reconcile', '--config', file, '--tables', 'app.nope'], { timeoutMs: 60_000 });
    expect(table.code).toBe(1);
    expect(table.stderr).toContain('--tables names app.nope, which no mapping of connector shop feeds');
    expect(table.stderr).toContain('choose among app.customer, app.customer_address, app.account');
    const report = await runTandem(['reconcile', '--config', file, '--report', 'out.pdf'], { timeoutMs: 60_000 });
    expect(report.code).toBe(1);
    expect(report.stderr).toContain('name the file .html, .md or .json');
  });
});
