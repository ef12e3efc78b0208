import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TandemError } from '../../../errors.js';

const FILE = 'broker.lock';

/**
 * Makes sure only one broker process uses a data directory: two would interleave writes to the
 * same segment files. The lock file holds the owner's pid; a lock left by a process that no longer
 * runs (kill -9) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, FILE);
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(path, 'utf8'));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
      throw new TandemError(`The broker data directory ${dataDir} is in use by process ${owner}.`, {
        fix: 'Stop that broker, or give this one another --data-dir.',
      });
    }
    rmSync(path, { force: true }); // stale: its owner is gone
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
