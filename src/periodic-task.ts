/**
 * Background work on a fixed interval that never overlaps itself: a tick that is still running when
 * the next one is due makes that one skip, so a slow database or broker cannot pile ticks up. The
 * tick handles its own errors.
 */
export interface PeriodicTask {
  stop(): void;
}

export function startPeriodicTask(intervalMs: number, tick: () => Promise<void>): PeriodicTask {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void tick().finally(() => (running = false));
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
