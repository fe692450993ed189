import { lockdCtl, parseCtlArgs } from '../ctl/index.js';
import { runMain } from '../util/cli-errors.js';

runMain('lockd-ctl', async () => {
  const cfg = parseCtlArgs(process.argv.slice(2));
  return cfg ? lockdCtl(cfg) : 0;
});
