// `npm run bench -- --smoke`: every scenario of the benchmark, briefly, so the
// bench keeps working. Its figures mean nothing at this length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const missing = ['redis-server', 'cc', 'etcd'].filter((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});

if (missing.length) {
  test(`bench smoke skipped: ${missing.join(' and ')} not installed (.ci/run installs them)`, () => {
    console.log(`  bench smoke skipped: ${missing.join(', ')} not installed`);
  });
} else {
  test('bench --smoke runs every scenario and prints the table', async () => {
    const script = fileURLToPath(new URL('../bench/run.js', import.meta.url));
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile(process.execPath, [script, '--smoke'], { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.is(code, 0, stderr);
    for (const row of ['50 conns, 1 in flight', '16 in flight', '1 connection', 'direct reads vs data events', 'KB/conn', 'locks freed', 'lockd-run --lock x -- true', 'hand-off', 'etcd: acquire+release', 'etcd: lockd-run', 'planned restart']) {
      assert.ok(stdout.includes(row), `row "${row}" in:\n${stdout}`);
    }
    assert.match(stdout, /raw figures: .*\.json/);
  });
}

test.run();
