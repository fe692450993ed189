// The README's quick start: `npm run demo` works end to end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('npm run demo shows both lockd-run uses against an embedded server', async () => {
  const script = fileURLToPath(new URL('../scripts/demo.js', import.meta.url));
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(process.execPath, [script], (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  assert.is(code, 0, stderr);
  assert.match(stderr, /lockd-run: lock "nightly-backup" is busy/);
  assert.match(stdout, /backing up with token \d+/);
  assert.match(stdout, /exit statuses: 0 0 0 0 0\n/, stdout + stderr);
  const inside = stdout.match(/inside with (\d) holder/g).map((l) => Number(l.match(/\d/)[0]));
  assert.is(inside.length, 5);
  assert.ok(inside.every((n) => n <= 2));
});

test.run();
