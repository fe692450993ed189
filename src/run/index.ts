import { acquireLock } from './acquire-lock.js';
import type { RunConfig } from './options.js';
import { supervise } from './supervise.js';

export { parseRunArgs, type RunConfig } from './options.js';

const say = (message: string) => process.stderr.write(`lockd-run: ${message}\n`);

/** Takes the lock, runs the command while holding it, and resolves to the exit status. */
export async function lockdRun(cfg: RunConfig): Promise<number> {
  const acquired = await acquireLock(cfg, say);
  if (acquired.kind === 'exit') return acquired.status;
  try {
    return await supervise(cfg, acquired.client, acquired.grant, say);
  } finally {
    acquired.client.destroy();
  }
}
