import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTandem } from '../../support/cli.js';

describe('tandem dev (the quickstart)', () => {
  it('runs the demo migration on the embedded stack: seeds the legacy tables, snapshots them and streams live changes', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-dev-'));
    chmodSync(dataDir, 0o755); // as root, the embedded server runs as the postgres user
    const args = ['dev', '--duration', '7', '--traffic', '10', '--pg-port', '0', '--broker-port', '0', '--registry-port', '0', '--metrics-port', '0', '--data-dir', dataDir];
    const first = await runTandem(args, { timeoutMs: 110_000 });
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    expect(first.stdout).toContain('tandem dev: the embedded stack is running');
    expect(first.stdout).toMatch(/Kafka broker\s+127\.0\.0\.1:\d+\s+topics: tandem\.legacy\.customers, tandem\.legacy\.orders/);
    expect(first.stdout).not.toContain('postgres:postgres@');
    const summary = first.stdout.trim().split('\n').at(-1)!;
    expect(summary).toContain('legacy.customers r=1000');
    expect(summary).toContain('legacy.orders r=2940');
    expect(summary).toMatch(/legacy\.orders c=[1-9]\d*/);

    // Restarted on the same data: the slot resumes, nothing is snapshotted again.
    const second = await runTandem(args, { timeoutMs: 110_000 });
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    const resumed = second.stdout.trim().split('\n').at(-1)!;
    expect(resumed).not.toContain(' r=');
    expect(resumed).toMatch(/legacy\.orders c=[1-9]\d*/);
  });
});
