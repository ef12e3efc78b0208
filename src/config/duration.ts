/**
 * Durations in a connector (rollout's soak times and intervals, translate's batch history): a
 * number of milliseconds, or a string such as `90s`, `15m`, `4h`, `7d`. Pure.
 */
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

export function isDuration(value: unknown): value is number | string {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0;
  return typeof value === 'string' && DURATION_PATTERN.test(value.trim());
}

/** Milliseconds of a duration already validated by isDuration. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) throw new Error(`not a duration: ${value}`);
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}

/** `5400000` → `1h 30m`; `0` → `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  if (rest < 1_000) return rest === 0 ? '0s' : `${sign}${rest}ms`;
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
    if (parts.length === 2) break;
  }
  return sign + parts.join(' ');
}
