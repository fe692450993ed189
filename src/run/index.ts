import { acquireLock } from './acquire-lock.js';
import type { RunConfig } from './options.js';
import { supervise } from './supervise.js';

export { parseRunArgs, type RunConfig } from './options.js';

const say = (message: string) => process.stderr.write(`lockd-run: ${message}\n`);

/**
 * Takes the lock, runs the command while holding it, and resolves to the exit
 * status. The caller exits then, which closes the connection and so releases
 * the lock: closing it here first would only delay the exit.
 */
export async function lockdRun(cfg: RunConfig): Promise<number> {
  const acquired = await acquireLock(cfg, say);
  if (acquired.kind === 'exit') return acquired.status;
  return supervise(cfg, acquired.client, acquired.grant, say);
}
