import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runTandem, type CliResult } from '../../support/cli.js';

/** The summary block's value for a label, e.g. `drift` → `found 2 row(s), repaired 2; ...`. */
function summaryValue(stdout: string, label: string): string {
  const summary = stdout.slice(stdout.lastIndexOf('\nSummary ('));
  const line = summary.split('\n').find((candidate) => candidate.trimStart().startsWith(`${label} `));
  expect(line, `the summary has a "${label}" line:\n${summary}`).toBeDefined();
  return line!.trim().slice(label.length).trim();
}

function expectTheWholeStory(result: CliResult): void {
  expect(result.code, `exit code; stderr: ${result.stderr.slice(-2000)}\nstdout: ${result.stdout.slice(-3000)}`).toBe(0);
  // Step 4: the injected drift is reported, alerted, rolled back by watch, repaired, and clean again.
  expect(result.stdout).toContain('reconcile reports the drift');
  expect(result.stdout).toMatch(/alert received by the webhook: .*drift found — \d+ row\(s\)/);
  const drift = /^found (\d+) row\(s\), repaired (\d+); canary rolled back canary → shadow by watch$/.exec(summaryValue(result.stdout, 'drift'));
  expect(drift, summaryValue(result.stdout, 'drift')).not.toBeNull();
  expect(Number(drift![1])).toBeGreaterThan(0);
  expect(Number(drift![2])).toBe(Number(drift![1]));
  // Step 5: the plan walked to cutover after the rollback, reverse sync carried a write to legacy.
  expect(summaryValue(result.stdout, 'phases passed')).toBe('shadow → canary → canary → full → cutover (now cutover)');
  expect(result.stdout).toMatch(/in legacy: customers \d+ full_name "Written On New"/);
  expect(summaryValue(result.stdout, 'final reconcile')).toBe('clean');
  // Measured values, not placeholders.
  const captured = /^(\d+) \(r=(\d+)/.exec(summaryValue(result.stdout, 'events captured'));
  expect(Number(captured![1])).toBeGreaterThan(Number(captured![2]));
  expect(Number(/^(\d+)/.exec(summaryValue(result.stdout, 'events applied'))![1])).toBeGreaterThan(0);
  expect(summaryValue(result.stdout, 'end-to-end lag')).toMatch(/^p50 \d+(\.\d+)? m?s, p99 \d+(\.\d+)? m?s over [1-9]\d* streamed changes/);
  // The files the summary points at exist.
  const report = /^(\S+\.html) \(and (\S+\.md)\)/.exec(summaryValue(result.stdout, 'reconcile report'))!;
  expect(readFileSync(report[2]!, 'utf8')).toContain('app.orders');
  expect(existsSync(report[1]!)).toBe(true);
  const audit = readFileSync(/^(\S+)/.exec(summaryValue(result.stdout, 'audit log'))![1]!, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; actorKind: string });
  expect(audit.map((entry) => entry.action)).toEqual(['promote', 'rollback', 'promote', 'promote', 'approve', 'cutover']);
  expect(audit[1]!.actorKind).toBe('watch');
  // The secret part of the database URL is not printed.
  expect(result.stdout).not.toContain('postgres:postgres@');
}

describe('tandem demo --fast', () => {
  it('tells the whole migration: drift found, rolled back and repaired, then promoted to cutover with reverse sync, and exits 0 — twice on the same machine', async () => {
    expectTheWholeStory(await runTandem(['demo', '--fast'], { timeoutMs: 300_000 }));
    // No leftovers: a second run starts its own stack on free ports and tells the same story.
    expectTheWholeStory(await runTandem(['demo', '--fast'], { timeoutMs: 300_000 }));
  }, 620_000);

  it('keeps an explicit port that is taken a clear error', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const result = await runTandem(['demo', '--fast', '--broker-port', String(port)], { timeoutMs: 120_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(String(port));
      expect(result.stderr).toMatch(/in use|taken/i);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
