import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../../../src/embedded/broker/storage/data-dir-lock.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-lock-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('broker data directory lock', () => {
  it('refuses a directory locked by another running process, naming it', () => {
    writeFileSync(join(dir, 'broker.lock'), String(process.ppid));
    expect(() => lockDataDir(dir)).toThrow(`in use by process ${process.ppid}`);
  });

  it('takes over a lock left by a process that is gone', () => {
    writeFileSync(join(dir, 'broker.lock'), '999999999');
    const unlock = lockDataDir(dir);
    unlock();
    expect(existsSync(join(dir, 'broker.lock'))).toBe(false);
  });
});
