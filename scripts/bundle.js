// lockd-run starts once per cron job or script call, so its start-up time is
// its cost: as one file it loads in a fraction of the time that resolving
// and compiling its ~20 separate ES modules takes (see README, Performance).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/run.js'],
  // CommonJS, and a CommonJS bin/lockd-run: no ES module loader to start.
  outfile: 'dist/bundle/lockd-run.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // The client lazily requires node:tls through createRequire(import.meta.url),
  // which takes a path as well as a URL (and node:url costs 0.5 ms to load).
  define: { 'import.meta.url': '__filename' },
});
