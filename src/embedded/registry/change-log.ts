/**
 * Write-ahead log of registry changes: one JSON line per change, fsynced before the registry
 * answers, so an acknowledged registration survives kill -9. A line torn by a crash mid-write
 * (never acknowledged) is cut off when the log is opened again.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { TandemError } from '../../errors.js';
import type { RegistryChange } from './state.js';

export const LOG_FILE = 'registry.log';

export interface ChangeLog {
  /** The changes already in the log, in order. */
  readonly changes: RegistryChange[];
  append(changes: RegistryChange[]): Promise<void>;
  close(): Promise<void>;
}

export async function openChangeLog(dataDir: string): Promise<ChangeLog> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOG_FILE);
  const handle = await open(file, 'a+');
  try {
    const text = await handle.readFile('utf8');
    const { changes, validLength } = parseLog(text, file);
    if (validLength < Buffer.byteLength(text)) await handle.truncate(validLength);
    await syncDirectory(dataDir);
    return {
      changes,
      async append(newChanges) {
        if (newChanges.length === 0) return;
        await handle.write(newChanges.map((change) => `${JSON.stringify(change)}\n`).join(''));
        await handle.sync();
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function parseLog(text: string, file: string): { changes: RegistryChange[]; validLength: number } {
  // Everything after the last newline is a write cut short by a crash: never acknowledged, dropped.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const changes = complete
    .split('\n')
    .slice(0, -1)
    .map((line, index) => {
      try {
        return JSON.parse(line) as RegistryChange;
      } catch {
        throw new TandemError(`registry log ${file} is damaged at line ${index + 1}`, {
          fix: 'restore the data directory from a backup, or remove the damaged line if you know what it held',
        });
      }
    });
  return { changes, validLength: Buffer.byteLength(complete) };
}

/** A new log file's directory entry must reach the disk too. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsync is what matters most.
  } finally {
    await handle?.close();
  }
}
