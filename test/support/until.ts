/**
 * The one way tests wait: poll a condition until it holds or the deadline passes, then fail saying
 * what was awaited and what was last seen. Never a fixed sleep standing in for a condition.
 */
export interface UntilOptions {
  /** What the test waits for, in words: the failure message starts with it. A function is called at the deadline (to show the latest output). */
  describe: string | (() => string);
  timeoutMs?: number;
  /** How often to look again. */
  intervalMs?: number;
}

export class UntilTimeout extends Error {
  override name = 'UntilTimeout';
}

/**
 * Resolves with the condition's first truthy value. The condition may be async; an exception it
 * throws counts as "not yet" and is reported if the deadline passes.
 */
export async function until<T>(condition: () => T | Promise<T>, options: UntilOptions): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await condition();
      lastError = undefined;
      if (last) return last as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const seen = lastError !== undefined ? `last attempt threw: ${(lastError as Error).message ?? String(lastError)}` : `last value: ${describeValue(last)}`;
      const what = typeof options.describe === 'function' ? options.describe() : options.describe;
      throw new UntilTimeout(`timed out after ${timeoutMs} ms waiting for ${what} (${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}

function describeValue(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
    return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}
