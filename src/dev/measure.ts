/**
 * Measured values for the demo's live block and summary, read from the workers' own Prometheus
 * metrics (the numbers /metrics would show), never computed by the demo on the side.
 */
import type { Histogram } from 'prom-client';
import type { CaptureMetrics } from '../observability/metrics.js';
import type { TranslateMetrics } from '../translate/metrics.js';

/** Events capture had Kafka acknowledge, in total and by op (r = snapshot, c/u/d = streaming). */
export async function capturedEvents(metrics: CaptureMetrics): Promise<{ total: number; byOp: Record<string, number> }> {
  const byOp: Record<string, number> = {};
  let total = 0;
  for (const value of (await metrics.events.get()).values) {
    const op = String(value.labels.op);
    byOp[op] = (byOp[op] ?? 0) + value.value;
    total += value.value;
  }
  return { total, byOp };
}

/** Events translate consumed, by outcome (applied, skipped, parked, dead_lettered). */
export async function translatedEvents(metrics: TranslateMetrics): Promise<Record<string, number>> {
  const byOutcome: Record<string, number> = {};
  for (const value of (await metrics.events.get()).values) {
    const outcome = String(value.labels.outcome);
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + value.value;
  }
  return byOutcome;
}

export interface Quantiles {
  count: number;
  p50: number | null;
  p99: number | null;
}

/**
 * p50 and p99 of a histogram as Prometheus' histogram_quantile computes them: the bucket holding
 * the rank, interpolated linearly inside it (an estimate within the bucket's bounds).
 */
export async function histogramQuantiles(histogram: Histogram): Promise<Quantiles> {
  const buckets = (await histogram.get()).values
    .filter((value) => value.metricName?.endsWith('_bucket'))
    .map((value) => ({ le: value.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(value.labels.le), count: value.value }))
    .sort((a, b) => a.le - b.le);
  const count = buckets.at(-1)?.count ?? 0;
  return { count, p50: quantile(buckets, count, 0.5), p99: quantile(buckets, count, 0.99) };
}

function quantile(buckets: readonly { le: number; count: number }[], count: number, q: number): number | null {
  if (count === 0) return null;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      // Above the highest finite bound: the best estimate is that bound.
      if (!Number.isFinite(bucket.le)) return lower;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + (bucket.le - lower) * ((rank - below) / inBucket);
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

export function seconds(value: number | null): string {
  if (value === null) return 'n/a';
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}
