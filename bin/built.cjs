// Both tools run from dist/, which `npm ci` (its prepare script) builds. In a
// clone before that, say so in one line instead of a stack trace.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/** The path of a built file, or exit 70 saying how to build it. */
module.exports = function built(program, file) {
  const full = path.join(ROOT, 'dist', file);
  if (fs.existsSync(full)) return full;
  process.stderr.write(`${program}: not built: run "npm ci" (or "npm run build") in ${ROOT}\n`);
  process.exit(70);
};
