import type { Log } from './state.js';

/**
 * A warning that may come in floods (refusals, failed accepts): at most one
 * line a second, which says how many were left out since the last one.
 */
export class RateLimitedWarning {
  private sinceReport = 0;
  private lastReport = -Infinity;

  constructor(
    private readonly warn: Log,
    /** What each event is, for "(N refused since the last report)". */
    private readonly what = 'refused',
  ) {}

  /** Counts one event; reports it (message() is called only then) unless one was reported this second. */
  report(message: () => string): void {
    this.sinceReport++;
    const now = Date.now();
    if (now - this.lastReport < 1000) return;
    const more = this.sinceReport > 1 ? ` (${this.sinceReport} ${this.what} since the last report)` : '';
    this.warn(`${message()}${more}`);
    this.lastReport = now;
    this.sinceReport = 0;
  }
}
