import { onCheckedNode } from './node-bindings.js';

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
 * setTimeout(fire, ms), with the returned function as its clearTimeout, and
 * the same rule for delays: below 1, above MAX_TIMER_MS, or not a number,
 * the delay is 1 ms. On Node 20 it is not a Node timer: a process's first
 * setTimeout and clearTimeout cost about 0.7 ms (Node compiles its timer
 * functions on first use), on lockd-run's way to its lock. Atomics.waitAsync
 * is V8's own timed wait. Unlike a timer, a pending one does not hold the
 * process open (the client's socket does), but whether it does is Node's
 * choice, so only on the Node versions the tests check (see
 * node-bindings.ts).
 */
export function timeoutAfter(ms: number, fire: () => void): () => void {
  const delay = ms >= 1 && ms <= MAX_TIMER_MS ? ms : 1;
  if (!onCheckedNode()) {
    const timer = setTimeout(fire, delay);
    return () => clearTimeout(timer);
  }
  const cell = new Int32Array(new SharedArrayBuffer(4));
  // The cell holds the 0 waited on and the delay is positive: the wait starts, and settles later.
  const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(cell, 0, 0, delay);
  void wait.value.then((result) => result === 'timed-out' && fire());
  return () => Atomics.notify(cell, 0);
}

/** In TypeScript's ES2024 library, in Node since 16. */
interface AtomicsWaitAsync {
  waitAsync(cell: Int32Array, index: number, value: number, ms: number): { async: true; value: Promise<'ok' | 'timed-out'> };
}
