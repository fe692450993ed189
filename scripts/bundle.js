// lockd-run starts once per cron job or script call, so its start-up time is
// its cost: as one CommonJS file it loads without resolving and reading its
// ~20 modules and those of cac and execa one by one (see docs/performance.md).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/run.js'],
  // CommonJS, and a CommonJS bin/lockd-run: no ES module loader to start.
  outfile: 'dist/bundle/lockd-run.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Loaded from node_modules on first use, for etcd:// targets only.
  external: ['etcd3'],
  logLevel: 'warning',
});
