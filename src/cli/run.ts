import { lockdRun, parseRunArgs } from '../run/index.js';
import { runMain } from '../util/cli-errors.js';

runMain('lockd-run', async () => {
  const cfg = parseRunArgs(process.argv.slice(2));
  if (!cfg) return 0;
  // Exit at once: nothing of ours is left to finish, and the inherited stdin must not keep us alive.
  process.exit(await lockdRun(cfg));
});
