/** Why a request was refused, as `stats` and the metrics count them. */
export type RefusalReason = 'busy' | 'full' | 'limit' | 'auth';

/** Counters of `q` and `stats` that are not per-command and not kept by the lock table. */
export class Counters {
  invalidCommands = 0;
  orphans = 0;
  sharedOrphans = 0;
  /** Connections turned away at a connection limit. */
  connectionsRefused = 0;
  /**
   * Requests refused: busy (the lock was held, or the wait ran out), full
   * (--max-memory), limit (--max-name, --max-locks-per-connection), auth.
   */
  readonly refusals: Record<RefusalReason, number> = { busy: 0, full: 0, limit: 0, auth: 0 };
}
