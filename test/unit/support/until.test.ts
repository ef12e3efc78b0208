import { describe, expect, it } from 'vitest';
import { until, UntilTimeout } from '../../support/until.js';

describe('until', () => {
  it('resolves with the first truthy value of the condition', async () => {
    let calls = 0;
    await expect(until(() => (++calls >= 3 ? { calls } : null), { describe: 'three calls', intervalMs: 1 })).resolves.toEqual({ calls: 3 });
  });

  it('treats a throwing condition as not yet', async () => {
    let calls = 0;
    const value = await until(
      async () => {
        if (++calls < 2) throw new Error('not connected');
        return 'up';
      },
      { describe: 'the server', intervalMs: 1 },
    );
    expect(value).toBe('up');
  });

  it('fails naming what it waited for and the last value seen', async () => {
    const failure = until(() => ({ rows: 2 }).rows > 5 && 'enough', { describe: 'five rows in app.customer', timeoutMs: 20, intervalMs: 5 });
    await expect(failure).rejects.toBeInstanceOf(UntilTimeout);
    await expect(failure).rejects.toThrow(/waiting for five rows in app\.customer \(last value: false\)/);
  });

  it('reports the last error when the condition kept throwing', async () => {
    await expect(until(() => { throw new Error('ECONNREFUSED'); }, { describe: 'the broker', timeoutMs: 10, intervalMs: 2 })).rejects.toThrow(/the broker \(last attempt threw: ECONNREFUSED\)/);
  });
});
