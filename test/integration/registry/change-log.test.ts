import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_FILE, openChangeLog } from '../../../src/embedded/registry/change-log.js';
import type { RegistryChange } from '../../../src/embedded/registry/state.js';

const schema: RegistryChange = { type: 'schema', id: 1, schema: '"string"' };
const version: RegistryChange = { type: 'version', subject: 's-value', version: 1, id: 1 };

describe('registry write-ahead log', () => {
  it('replays the changes appended before a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-log-'));
    const log = await openChangeLog(dir);
    await log.append([schema, version]);
    await log.close();
    const reopened = await openChangeLog(dir);
    expect(reopened.changes).toEqual([schema, version]);
    await reopened.close();
  });

  it('drops a line torn by a crash mid-write and keeps appending after the last whole one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-log-'));
    writeFileSync(path.join(dir, LOG_FILE), `${JSON.stringify(schema)}\n{"type":"vers`);
    const log = await openChangeLog(dir);
    expect(log.changes).toEqual([schema]);
    await log.append([version]);
    await log.close();
    expect(readFileSync(path.join(dir, LOG_FILE), 'utf8')).toBe(`${JSON.stringify(schema)}\n${JSON.stringify(version)}\n`);
  });

  it('refuses to start on a log damaged before its end, naming the line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-log-'));
    writeFileSync(path.join(dir, LOG_FILE), `${JSON.stringify(schema)}\nnot json\n`);
    appendFileSync(path.join(dir, LOG_FILE), `${JSON.stringify(version)}\n`);
    await expect(openChangeLog(dir)).rejects.toThrow(`registry log ${path.join(dir, LOG_FILE)} is damaged at line 2`);
  });
});
