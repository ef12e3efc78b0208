import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { ReverseSyncSupervisor, type ReverseSync } from '../../../src/rollout/reverse-sync.js';
import { stateIn, testPlan } from './fixtures.js';

class RecordingSync implements ReverseSync {
  running = false;
  calls: string[] = [];
  failStart: Error | null = null;
  async start() {
    this.calls.push('start');
    if (this.failStart) throw this.failStart;
    this.running = true;
  }
  async stop() {
    this.calls.push('stop');
    this.running = false;
  }
  async close() {
    this.calls.push('close');
    this.running = false;
  }
}

function logger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false, destination }) };
}

const plan = testPlan({ reverse: { 'app.customers': { to: 'legacy.customers' } } });

describe('reverse sync supervisor', () => {
  it('starts the pipeline when the state asks for reverse sync, once, and stops it when it no longer does', async () => {
    const sync = new RecordingSync();
    const supervisor = new ReverseSyncSupervisor(sync, logger().logger);
    expect(await supervisor.follow(stateIn(plan, 'ramp-100'))).toBe('off');
    expect(await supervisor.follow(stateIn(plan, 'cutover'))).toBe('running');
    expect(await supervisor.follow(stateIn(plan, 'cutover'))).toBe('running');
    expect(await supervisor.follow(stateIn(plan, 'ramp-100'))).toBe('off');
    expect(sync.calls).toEqual(['start', 'stop']);
  });

  it('reports a pipeline that fails to start and tries again at the next look', async () => {
    const sync = new RecordingSync();
    sync.failStart = new Error('slot limit reached');
    const { lines, logger: log } = logger();
    const supervisor = new ReverseSyncSupervisor(sync, log);
    expect(await supervisor.follow(stateIn(plan, 'cutover'))).toBe('starting-failed');
    expect(supervisor.lastError).toBe('slot limit reached');
    expect(lines.join('')).toContain('did not start: slot limit reached');
    sync.failStart = null;
    expect(await supervisor.follow(stateIn(plan, 'cutover'))).toBe('running');
  });

  it('says loudly when reverse sync is needed and there is no pipeline', async () => {
    const { lines, logger: log } = logger();
    const supervisor = new ReverseSyncSupervisor(null, log);
    expect(await supervisor.follow(stateIn(plan, 'cutover'))).toBe('no-pipeline');
    expect(lines.join('')).toContain('needs reverse sync (new → legacy), and this process has no reverse pipeline');
  });
});
