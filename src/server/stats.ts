/** Counters of `q` that are not per-command and not derived from the lock table. */
export class Counters {
  connections = 0;
  invalidCommands = 0;
  orphans = 0;
  sharedOrphans = 0;
}
