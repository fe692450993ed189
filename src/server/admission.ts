import type { Log } from './state.js';
import { RateLimitedWarning } from './rate-limited.js';
import type { Counters } from './stats.js';

/**
 * Who may connect, by count: at most `total` connections at once, and at
 * most `perAddress` from one client address. Refusals are reported at most
 * once a second, so that a flood of them does not flood the log too.
 */
export class Admission {
  private readonly byAddress = new Map<string, number>();
  private live = 0;
  private readonly refusals: RateLimitedWarning;

  constructor(
    private readonly total: number,
    private readonly perAddress: number,
    warn: Log,
    private readonly counters: Counters,
  ) {
    this.refusals = new RateLimitedWarning(warn);
  }

  /** Counts a new connection from ip in, or returns false (and reports) when it is over a limit. */
  admit(ip: string): boolean {
    const fromThere = this.byAddress.get(ip) ?? 0;
    if (this.live < this.total && fromThere < this.perAddress) {
      this.byAddress.set(ip, fromThere + 1);
      this.live++;
      return true;
    }
    this.counters.connectionsRefused++;
    this.refusals.report(() => {
      const why = this.live >= this.total
        ? `${this.live} connections, the most allowed`
        : `${fromThere} connections from this address, the most allowed`;
      return `${ip}: ${why}; refused`;
    });
    return false;
  }

  /** A connection admitted from ip has closed. */
  leave(ip: string): void {
    this.live--;
    const n = this.byAddress.get(ip)! - 1;
    if (n === 0) this.byAddress.delete(ip);
    else this.byAddress.set(ip, n);
  }
}
