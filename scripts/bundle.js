// lockd-run starts once per cron job or script call, so its start-up time is
// its cost: as one file it loads in a fraction of the time that resolving
// and compiling its ~20 separate ES modules takes, and from a V8 code cache
// it skips compiling too (see README, Performance).
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Module } from 'node:module';
import { build } from 'esbuild';

const BUNDLE = 'dist/bundle/lockd-run.cjs';
// bin/lockd-run compiles the bundle with Module.wrap() and this cache.
const CACHE = 'dist/bundle/lockd-run.cache';

// Node modules lockd-run seldom needs (node:tls, node:net for a host name)
// are loaded through requireBuiltin, which the ES modules make with
// node:module's createRequire. In CommonJS it is require itself, and
// node:module is a module load saved.
const requireItself = {
  name: 'require-itself',
  setup(b) {
    b.onLoad({ filter: /[\\/]util[\\/]require-builtin\.js$/ }, () => ({
      contents: 'export const requireBuiltin = require;',
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: ['dist/cli/run.js'],
  // CommonJS, and a CommonJS bin/lockd-run: no ES module loader to start.
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  plugins: [requireItself],
});

// V8 checks a cache against the source's length only: the bundle ends with a
// build id, and the cache starts with it, so that bin/lockd-run never pairs a
// bundle with another build's cache.
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
const source = `${fs.readFileSync(BUNDLE, 'utf8')}// build ${id}`;
fs.writeFileSync(BUNDLE, source);

// Every function compiled now rather than on first call, then the flag put
// back so that the cache matches the flags lockd-run runs with. V8 rejects a
// cache from another Node version (or other flags), and lockd-run then
// compiles as usual: slower, never wrong.
v8.setFlagsFromString('--no-lazy');
const script = new vm.Script(Module.wrap(source), { filename: BUNDLE });
v8.setFlagsFromString('--lazy');
fs.writeFileSync(CACHE, Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]));
