/**
 * Delays that double from first up to max, each drawn within ±50% of its
 * step, so that many clients retrying at once do not retry in step.
 */
export class Backoff {
  private step: number;

  constructor(first: number, private readonly max: number) {
    this.step = first;
  }

  next(): number {
    const delay = this.step * (0.5 + Math.random());
    this.step = Math.min(this.step * 2, this.max);
    return delay;
  }
}

/** Resolves after ms, or as soon as signal aborts (a wait that someone may end early). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done);
  });
}
