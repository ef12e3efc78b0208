import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/observability/logger.js';
import { Durability } from '../../../../src/embedded/broker/storage/durability.js';
import { OffsetStore } from '../../../../src/embedded/broker/storage/offset-store.js';

let dir: string;
const durability = new Durability('never', 1000, createLogger({ level: 'silent' }));
const commit = (topic: string, partition: number, offset: number) => ({ topic, partition, offset, leaderEpoch: -1, metadata: null });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-offsets-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('committed offset store', () => {
  it('keeps the latest commit per group and partition across a reopen', () => {
    const store = new OffsetStore(dir, durability);
    store.commit('g', [commit('orders', 0, 10), commit('orders', 1, 4)]);
    store.commit('g', [commit('orders', 0, 25)]);
    store.close();
    const reopened = new OffsetStore(dir, durability);
    expect(reopened.fetch('g', 'orders', 0)?.offset).toBe(25);
    expect(reopened.fetch('g', 'orders', 1)?.offset).toBe(4);
    expect(reopened.fetch('g', 'orders', 2)).toBeUndefined();
    reopened.close();
  });

  it('ignores a commit line torn by a crash', () => {
    const store = new OffsetStore(dir, durability);
    store.commit('g', [commit('orders', 0, 10)]);
    store.close();
    appendFileSync(join(dir, 'consumer-offsets.log'), '{"group":"g","commits":[["orders",0,9');
    const reopened = new OffsetStore(dir, durability);
    expect(reopened.fetch('g', 'orders', 0)?.offset).toBe(10);
    reopened.close();
  });

  it('forgets deleted groups and the offsets of deleted topics', () => {
    const store = new OffsetStore(dir, durability);
    store.commit('a', [commit('orders', 0, 1)]);
    store.commit('b', [commit('orders', 0, 2), commit('refunds', 0, 3)]);
    store.deleteGroup('a');
    store.deleteTopic('orders');
    store.close();
    const reopened = new OffsetStore(dir, durability);
    expect(reopened.groupIds()).toEqual(['b']);
    expect(reopened.entries('b').map((e) => e.topic)).toEqual(['refunds']);
    reopened.close();
  });
});
