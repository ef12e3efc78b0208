import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runTandem, tandemBin } from '../../support/cli.js';
import { until } from '../../support/until.js';

/** Holds a port the way another server on the machine would; null when something already holds it. */
async function holdPort(port: number): Promise<Server | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/** The status lines (`hh:mm:ss demo: captured N (...), applied M, ...`) printed after `marker`. */
function statusAfter(stdout: string, marker: string): { captured: number; applied: number; line: string }[] {
  const from = marker ? stdout.indexOf(marker) : 0;
  if (from < 0) return [];
  return stdout
    .slice(from)
    .split('\n')
    .map((line) => ({ line, match: /^\d\d:\d\d:\d\d demo: captured (\d+) .*?, applied (\d+)/.exec(line) }))
    .filter((item) => item.match)
    .map((item) => ({ line: item.line, captured: Number(item.match![1]), applied: Number(item.match![2]) }));
}

describe('tandem dev (develop a connector)', () => {
  const held: Server[] = [];
  afterAll(async () => {
    for (const server of held) await new Promise((resolve) => server.close(resolve));
  });

  it('falls back to free ports, reloads a changed connector (an invalid edit is reported and the old one keeps running), stops on Ctrl-C and resumes on the same data', async () => {
    // The usual ports taken, as on a laptop with its own PostgreSQL and Kafka.
    for (const port of [5432, 9092, 8081, 8470]) {
      const server = await holdPort(port);
      if (server) held.push(server);
    }
    const workspace = mkdtempSync(path.join(tmpdir(), 'tandem-dev-'));
    chmodSync(workspace, 0o755); // as root, the embedded server runs as the postgres user
    mkdirSync(path.join(workspace, 'connectors'));
    const connectorFile = path.join(workspace, 'connectors', 'demo.ts');
    const original = readFileSync(path.join(repoRoot, 'connectors/demo.ts'), 'utf8').replace("from 'tandem'", `from ${JSON.stringify(path.join(repoRoot, 'src/index.ts'))}`);
    writeFileSync(connectorFile, original);
    const dataDir = path.join(workspace, 'data');
    const args = ['dev', '--traffic', '10', '--status-every', '1', '--reconcile', '*/2 * * * * *', '--data-dir', dataDir];

    const child = spawn(process.execPath, [tandemBin, ...args], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // The output and the worker log as they are at the deadline, not when the wait began.
      const workerLogTail = () => (existsSync(path.join(dataDir, 'workers.log')) ? readFileSync(path.join(dataDir, 'workers.log'), 'utf8').split('\n').slice(-40).join('\n') : '(no worker log)');
      const seen = (what: string, condition: () => boolean, timeoutMs = 90_000) =>
        until(condition, { describe: () => `${what}; stdout so far:\n${stdout.split('\n').slice(-60).join('\n')}\nstderr:\n${stderr}\nworker log (last lines):\n${workerLogTail()}`, timeoutMs, intervalMs: 100 });

      await seen('the session to start', () => stdout.includes('watching connectors for changes'));
      for (const [label, usual] of [['PostgreSQL', 5432], ['Kafka broker', 9092], ['schema registry', 8081]] as const) {
        const line = stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(label))!;
        expect(line, `${label} falls back to a free port`).toContain(`(${usual} is taken)`);
      }
      expect(stdout).not.toMatch(/rollout console\s+http:\/\/127\.0\.0\.1:8470\//);
      expect(stdout).not.toContain('postgres:postgres@');
      await seen('the snapshot applied, live changes streaming and a clean scheduled reconcile', () =>
        statusAfter(stdout, '').some((status) => /\bc=[1-9]/.test(status.line) && /reconcile run \d+ clean/.test(status.line)),
      );

      // An invalid edit: reported with its path, and the running connector keeps going.
      writeFileSync(connectorFile, original.replace('chunkRows: 5_000', 'chunkRows: 5'));
      await seen('the invalid edit to be reported', () => stdout.includes('connectors/demo.ts has a problem; the running version of demo keeps going'));
      expect(stdout).toContain('reconcile.chunkRows: Too small');
      const marker = 'connectors/demo.ts has a problem';
      await seen('the old connector to keep capturing and applying after the invalid edit', () => {
        const after = statusAfter(stdout, marker);
        return after.length >= 2 && after.at(-1)!.captured > after[0]!.captured && after.at(-1)!.applied > after[0]!.applied;
      });
      expect(stdout).not.toContain('restarting connector demo');

      // A valid edit: the connector restarts with it and keeps streaming.
      writeFileSync(connectorFile, original.replace('chunkRows: 5_000', 'chunkRows: 2_000'));
      await seen('the valid edit to be reloaded', () => stdout.includes('✔ connectors/demo.ts reloaded'));
      await seen('the reloaded connector to stream', () => statusAfter(stdout, '✔ connectors/demo.ts reloaded').some((status) => status.applied > 0));

      child.kill('SIGINT');
      expect(await exited, stderr).toBe(0);
      expect(stdout.trim().split('\n').at(-1)).toBe('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }

    // Restarted on the same data: the slot resumes, nothing is snapshotted again.
    const again = await runTandem([...args, '--duration', '8', '--status-every', '2'], { cwd: workspace, timeoutMs: 110_000 });
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    const last = statusAfter(again.stdout, '').at(-1)!;
    expect(last.line).not.toMatch(/\br=/);
    expect(last.line).toMatch(/\bc=[1-9]\d*/);
  }, 300_000);
});
