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

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
