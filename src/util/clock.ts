/**
 * Monotonic milliseconds. Not `performance.now()`: in Node 20 the global
 * `performance` loads perf_hooks on first use, a few ms of lockd-run's start-up.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The longest delay a Node timer can take (2^31-1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
