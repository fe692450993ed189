// Run by scripts/bundle.js: runs lockd-run once, as bin/lockd-run does but
// compiling the bundle without a cache, then stores in the bundle's file the
// V8 code cache of what that run compiled. Usage:
//   node scripts/train-cache.cjs CODE_FILE LOCKD_RUN_ARGS...
// CommonJS, as bin/lockd-run is: the cache must come from a compile like its.
const fs = require('node:fs');
const path = require('node:path');
const { Module } = require('node:module');
const { Script } = require('node:vm');

const [file, ...args] = process.argv.slice(2);
const code = fs.readFileSync(file);
const length = code.readUInt32LE(0);
const script = new Script(Module.wrap(code.toString('latin1', 4, 4 + length)), { filename: file });
process.argv = [process.argv[0], file, ...args];
process.on('exit', (status) => {
  if (status === 0) fs.writeFileSync(file, Buffer.concat([code.subarray(0, 4 + length), script.createCachedData()]));
});
script.runInThisContext()(exports, require, module, file, path.dirname(file));
