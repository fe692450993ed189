/**
 * Monotonic milliseconds. Not `performance.now()`: in Node 20 the global
 * `performance` loads perf_hooks on first use, a few ms of lockd-run's start-up.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
