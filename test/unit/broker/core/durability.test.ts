import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/observability/logger.js';
import { Durability, type SyncTarget } from '../../../../src/embedded/broker/storage/durability.js';

let dir: string;
let file: SyncTarget;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-durability-'));
  file = { fd: openSync(join(dir, 'data'), 'a'), closed: false };
});

afterEach(() => {
  closeSync(file.fd);
  rmSync(dir, { recursive: true, force: true });
});

describe('fsync policy', () => {
  it('makes acks wait for the disk only under "always"', () => {
    const logger = createLogger({ level: 'silent' });
    expect(new Durability('always', 1000, logger).syncBeforeAck).toBe(true);
    expect(new Durability('never', 1000, logger).syncBeforeAck).toBe(false);
  });

  it('groups concurrent flushes into at most two rounds of fsyncs', async () => {
    const durability = new Durability('always', 1000, createLogger({ level: 'silent' }));
    const flushes = Array.from({ length: 50 }, (_, i) => {
      writeSync(file.fd, `write ${i}\n`);
      durability.written(file);
      return durability.flush();
    });
    await Promise.all(flushes);
    expect(durability.rounds).toBeLessThanOrEqual(2);
    await durability.close();
  });

  it('covers writes made while a round is running with the next round', async () => {
    const durability = new Durability('always', 1000, createLogger({ level: 'silent' }));
    durability.written(file);
    const first = durability.flush();
    durability.written(file);
    const second = durability.flush();
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
    expect(durability.rounds).toBe(2);
    await durability.close();
  });
});
