import { acquireLock } from './acquire-lock.js';
import type { RunConfig } from './options.js';
import { supervise } from './supervise.js';

export { parseRunArgs, type RunConfig } from './options.js';

const say = (message: string) => process.stderr.write(`lockd-run: ${message}\n`);

/**
 * Takes the lock, runs the command while holding it, and resolves to the exit
 * status. The lock is released on the way out, without waiting for the reply,
 * so that the server's `orphans` counts only connections that ended holding
 * locks; the caller exits then, which closes the connection.
 */
export async function lockdRun(cfg: RunConfig): Promise<number> {
  const acquired = await acquireLock(cfg, say);
  if (acquired.kind === 'exit') return acquired.status;
  const status = await supervise(cfg, acquired.held, acquired.grant, say);
  await acquired.held.release();
  return status;
}
