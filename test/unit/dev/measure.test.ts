import { createServer } from 'node:net';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { histogramQuantiles, seconds } from '../../../src/dev/measure.js';
import { choosePort, portIsFree } from '../../../src/dev/ports.js';

function histogram(values: number[]): Histogram {
  const h = new Histogram({ name: `lag_${Math.random().toString(36).slice(2)}`, help: 'lag', buckets: [0.1, 0.5, 1, 5], registers: [new Registry()] });
  for (const value of values) h.observe(value);
  return h;
}

describe('demo measurements', () => {
  it('estimates p50 and p99 from histogram buckets as histogram_quantile does (linear inside the bucket)', async () => {
    // 100 samples: 50 in (0, 0.1], 40 in (0.1, 0.5], 10 in (0.5, 1].
    const values = [...Array(50).fill(0.05), ...Array(40).fill(0.3), ...Array(10).fill(0.8)];
    const quantiles = await histogramQuantiles(histogram(values));
    expect(quantiles.count).toBe(100);
    expect(quantiles.p50).toBeCloseTo(0.1, 6); // rank 50 ends the first bucket
    expect(quantiles.p99).toBeCloseTo(0.5 + 0.5 * (9 / 10), 6); // rank 99: 9 of the 10 in (0.5, 1]
  });

  it('has no quantiles without samples, and reports the highest finite bound for samples above it', async () => {
    expect(await histogramQuantiles(histogram([]))).toEqual({ count: 0, p50: null, p99: null });
    expect((await histogramQuantiles(histogram([10, 20]))).p99).toBe(5);
  });

  it('prints durations in ms below a second', () => {
    expect(seconds(0.0754)).toBe('75 ms');
    expect(seconds(1.5)).toBe('1.50 s');
    expect(seconds(null)).toBe('n/a');
  });
});

describe('port choice', () => {
  it('keeps an explicit port, uses the usual one when free and a free one (0) when it is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    try {
      expect(await portIsFree(taken)).toBe(false);
      expect(await choosePort(taken, 5432)).toBe(taken); // explicit: the server's own error if taken
      expect(await choosePort(undefined, taken)).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await portIsFree(taken)).toBe(true);
    expect(await choosePort(undefined, taken)).toBe(taken);
  });
});
