import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot, tandemBin } from './cli.js';
import { recordOutput, trackOutput } from './output.js';

export interface BrokerProcess {
  child: ChildProcess;
  bootstrap: string;
  /** Lines the broker printed on stdout and stderr (its JSON log lines go to stderr). */
  output: string[];
  /** Resolves with the next output line that matches. */
  nextLine(pattern: RegExp): Promise<string>;
  /** Ends the process with `signal` and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `tandem broker --port 0 ...args` (`node bin/tandem.js`, so `child.pid` is the broker itself)
 * as a child process and waits for its bootstrap log line.
 */
export async function spawnBroker(args: string[]): Promise<BrokerProcess> {
  const child = spawn(process.execPath, [tandemBin, 'broker', '--port', '0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TANDEM_LOG_LEVEL: 'info' },
  });
  const output: string[] = [];
  const source = `embedded broker process (pid ${child.pid})`;
  trackOutput(source, () => child.exitCode === null && child.signalCode === null);
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onLine = (line: string) => {
    output.push(line);
    recordOutput(source, line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLine = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve });
      void exited.then(() => reject(new Error(`broker exited before printing ${pattern}:\n${output.join('\n')}`)));
    });
  const ready = await nextLine(/broker listening on/);
  const bootstrap = /listening on (\S+?)"/.exec(ready)![1];
  return {
    child,
    bootstrap,
    output,
    nextLine,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
