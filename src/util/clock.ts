/**
 * Monotonic milliseconds. Not `performance.now()`: in Node 20 the global
 * `performance` loads perf_hooks on first use, a few ms of lockd-run's start-up.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The longest delay a Node timer can take (2^31-1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls fire() after ms unless the returned cancel() comes first. Not
 * setTimeout: the first timer of a process costs about 0.7 ms with its
 * clearTimeout (Node compiles its timer functions on first use), which is on
 * lockd-run's way to its lock. Atomics.waitAsync is V8's own timed wait: it
 * does not keep the process alive (like an unref'd timer), and a delay past
 * MAX_TIMER_MS is kept, not cut short.
 */
export function timeoutAfter(ms: number, fire: () => void): () => void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(cell, 0, 0, ms);
  if (!wait.async) {
    // ms <= 0: timed out already; fire as a timer would, not before the caller is done.
    let cancelled = false;
    queueMicrotask(() => cancelled || fire());
    return () => (cancelled = true);
  }
  void wait.value.then((result) => result === 'timed-out' && fire());
  return () => Atomics.notify(cell, 0);
}

/** In TypeScript's ES2024 library, in Node since 16. */
interface AtomicsWaitAsync {
  waitAsync(
    cell: Int32Array,
    index: number,
    value: number,
    ms: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}
