/**
 * Child processes of the benchmarks: started with their output kept, waited for by a line they
 * print, stopped by signal, killed if the benchmark exits first; their CPU time from /proc (Linux).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  // SIGTERM: the peer scripts stop their JVMs on it.
  for (const child of running) child.kill('SIGTERM');
});

export interface PeerProcess {
  child: ChildProcess;
  /** Every line printed on stdout and stderr so far. */
  output: string[];
  /** Resolves with the first line (already printed or to come) that matches; rejects if the process exits first. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export function startPeer(command: string, args: string[], options: { name: string; env?: NodeJS.ProcessEnv; cwd?: string; /** Also write every line here. */ logFile?: string }): PeerProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  running.add(child);
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  const onLine = (line: string) => {
    log?.write(`${line}\n`);
    output.push(line);
    if (output.length > 5000) output.splice(0, 1000);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const tail = () => output.slice(-40).join('\n');
  return {
    child,
    output,
    line(pattern, timeoutMs = 300_000) {
      const seen = output.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${options.name} printed no line matching ${pattern} within ${timeoutMs / 1000} s:\n${tail()}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${options.name} exited (code ${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${tail()}`));
        });
      });
    },
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Clock ticks per second, the unit of the CPU times in /proc/<pid>/stat (USER_HZ, almost always 100). */
const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // no getconf: the usual value
  }
  return 100;
})();

/** /proc/<pid>/stat fields from field 3 (state) on: field N is at index N - 3. */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) is in parentheses and may contain spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system, all threads) a running process has used. */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS;
}

/** CPU seconds of this process's children that exited and were waited for (cutime + cstime). */
export function exitedChildrenCpuSeconds(): number {
  const fields = statFields('self');
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / CLOCK_TICKS;
}
