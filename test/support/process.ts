import { spawn, type ChildProcess } from 'node:child_process';
import { tandemBin, repoRoot } from './cli.js';
import { recordOutput, trackOutput } from './output.js';

export interface TandemProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

// A test that fails or times out before it stops its children must not leave them running.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let spawned = 0;

/**
 * Starts a long-running `tandem` command (capture, broker) as a child process that a test can
 * SIGKILL. Its output is kept, not printed: a failing test prints its last lines (test/support/output.ts).
 */
export function spawnTandem(args: string[], env: Record<string, string> = {}): TandemProcess {
  const child = spawn(process.execPath, [tandemBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const source = `process #${++spawned} tandem ${args.slice(0, 1).join(' ')} (pid ${child.pid})`;
  trackOutput(source, () => child.exitCode === null && child.signalCode === null);
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    recordOutput(source, text);
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  // 'close' comes after 'exit' once the process's output has been read to its end.
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in:\n${output.slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        void closed.then(() => {
          check();
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before ${pattern}:\n${output.slice(-3000)}`));
          }
        });
        check();
      });
    },
  };
}
