// lockd-run starts once per cron job or script call, so its start-up time is
// its cost: as one file it loads in a fraction of the time that resolving
// and compiling its ~20 separate ES modules takes, and from a V8 code cache
// it skips compiling too (see README, Performance).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Module } from 'node:module';
import { build } from 'esbuild';
import { listen } from '../dist/server/listen.js';

// The bundle's source and its V8 code cache, in one file that bin/lockd-run
// reads at once: a 4-byte little-endian length, the source (ASCII: esbuild
// escapes the rest), the cache. One file, because V8 checks a cache against
// the length of its source only: source and cache are only ever written
// together, here.
const CODE = 'dist/bundle/lockd-run.code';

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

const { outputFiles } = await build({
  entryPoints: ['dist/cli/run.js'],
  // CommonJS, and a CommonJS bin/lockd-run: no ES module loader to start.
  outfile: 'lockd-run.cjs',
  write: false,
  charset: 'ascii',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  plugins: [requireItself],
});

const source = outputFiles[0].text;
// Stored as latin1, one byte a character: V8 would take a cache for a source
// of the same length, so a character changed on the way must be impossible.
if (/[^\x00-\x7f]/.test(source)) throw new Error('bundle.js: the bundle is not ASCII');

// First a cache of every function, compiled now rather than on first call,
// then the flag put back so that the cache matches the flags lockd-run runs
// with. V8 rejects a cache from another Node version (or other flags), and
// lockd-run then compiles as usual: slower, never wrong.
v8.setFlagsFromString('--no-lazy');
const script = new vm.Script(Module.wrap(source), { filename: CODE });
v8.setFlagsFromString('--lazy');
const length = Buffer.alloc(4);
length.writeUInt32LE(source.length);
fs.mkdirSync('dist/bundle', { recursive: true });
fs.writeFileSync(CODE, Buffer.concat([length, Buffer.from(source, 'latin1'), script.createCachedData()]));

// Then, in its place, the cache of one real run: `--lock NAME -- COMMAND`
// against a lock server here on loopback. It holds only the functions that
// run took (71 KB instead of 106), and loads about 0.4 ms faster; other
// paths (--shared, --wait, errors) compile their own few functions as they
// go. Should the run fail, the whole cache above stays.
let server;
try {
  server = await listen({ host: '127.0.0.1', port: 0, warn: () => {} });
  // Asynchronously: the server answers from this process.
  await promisify(execFile)(process.execPath, ['scripts/train-cache.cjs', CODE, '-S', `127.0.0.1:${server.tcp.port}`, '--lock', 'build', '--', process.execPath, '-e', '0'], {
    timeout: 30_000,
    // Nothing of the user's lockd settings: this run is against our own server.
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOCKD_'))),
  });
} catch (err) {
  console.warn(`bundle.js: lockd-run's trained code cache not made, the whole one kept: ${err.message.split('\n')[0]}`);
} finally {
  await server?.destroy();
}
