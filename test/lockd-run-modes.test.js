// lockd-run connects and spawns on Node's native handles, and falls back to
// node:net and node:child_process where this Node offers the handles only
// with a warning (--pending-deprecation). Both ways must behave the same.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../dist/index.js';
import { start } from './helpers/server.js';
import { launch, LOCKD_RUN } from './helpers/run.js';

const MODES = [
  ['native handles', []],
  ['public modules', ['--pending-deprecation']],
];

let server, addr, tmp;

/** lockd-run under `node ...nodeArgs`; also reports the built-in modules it loaded. */
async function run(nodeArgs, args) {
  const loadedFile = path.join(tmp, `loaded-${Math.random().toString(36).slice(2)}`);
  const proc = launch(process.execPath, [...nodeArgs, '--require', path.join(tmp, 'record-modules.cjs'), LOCKD_RUN, ...args], {
    env: { RECORD_MODULES_TO: loadedFile },
  });
  const { code, signal } = await proc.exited;
  const loaded = fs.existsSync(loadedFile) ? fs.readFileSync(loadedFile, 'utf8').split('\n') : [];
  return { code, signal, stdout: proc.stdout, stderr: proc.stderr, loaded };
}

const PUBLIC = ['net', 'child_process', 'tty', 'os', 'stream'];
const publicLoaded = (loaded) => PUBLIC.filter((m) => loaded.includes(`NativeModule ${m}`));

for (const [mode, nodeArgs] of MODES) {
  const test = suite(`lockd-run on ${mode}`);

  test.before.each(async () => {
    server = await start();
    addr = `127.0.0.1:${server.tcp.port}`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-run-modes-'));
    fs.writeFileSync(path.join(tmp, 'record-modules.cjs'),
      "process.on('exit', () => require('fs').writeFileSync(process.env.RECORD_MODULES_TO, process.moduleLoadList.join('\\n')));\n");
  });
  test.after.each(async () => {
    await server.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('takes the lock, runs the command with its environment, no warning', async () => {
    const r = await run(nodeArgs, ['-S', addr, '-l', 'job', '--', 'sh', '-c', 'echo "$LOCKD_LOCK $LOCKD_MODE"; echo err >&2']);
    assert.is(r.code, 0);
    assert.is(r.stdout, 'job exclusive\n');
    assert.is(r.stderr, 'err\n');
    const modules = publicLoaded(r.loaded);
    if (mode === 'native handles') assert.equal(modules, []);
    else assert.ok(modules.includes('net') && modules.includes('child_process'), modules.join(' '));
  });

  test('the lock is held while the command runs and free after', async () => {
    const c = connect(addr);
    const r = await run(nodeArgs, ['-S', addr, '-s', 'pool', '--max', '2', '--', 'sh', '-c', 'echo $LOCKD_COUNT']);
    assert.is(r.stdout, '1\n');
    assert.is(await c.inspectShared('pool'), 0);
    await c.get('busy');
    const busy = await run(nodeArgs, ['-S', addr, '-l', 'busy', '--', 'true']);
    assert.is(busy.code, 75);
    assert.match(busy.stderr, /^lockd-run: lock "busy" is busy \(held by 127\.0\.0\.1:\d+\)\n$/);
    await c.disconnect();
  });

  test('exit statuses: passed through, 128+N by signal, 127 not found, 126 not executable', async () => {
    assert.is((await run(nodeArgs, ['-S', addr, '-l', 'x', '--', 'sh', '-c', 'exit 3'])).code, 3);
    assert.is((await run(nodeArgs, ['-S', addr, '-l', 'x', '-c', 'kill -TERM $$'])).code, 143);
    const nf = await run(nodeArgs, ['-S', addr, '-l', 'x', '--', 'no-such-command-here']);
    assert.is(nf.code, 127);
    assert.is(nf.stderr, 'lockd-run: no-such-command-here: command not found\n');
    const file = path.join(tmp, 'plain');
    fs.writeFileSync(file, 'not a program');
    const ne = await run(nodeArgs, ['-S', addr, '-l', 'x', '--', file]);
    assert.is(ne.code, 126);
    assert.is(ne.stderr, `lockd-run: ${file}: cannot run: permission denied\n`);
  });

  test('the command runs in its own process group, and what it leaves there is terminated', async () => {
    // The shell's pid and its process group (field 5 of /proc/PID/stat), and a straggler left behind.
    const r = await run(nodeArgs, ['-S', addr, '-l', 'x', '-c', 'echo $$ $(cut -d" " -f5 /proc/$$/stat); sleep 37 & exit 0']);
    assert.is(r.code, 0);
    const [pid, pgid] = r.stdout.trim().split(' ').map(Number);
    assert.is(pgid, pid);
    assert.match(r.stderr, /left processes running in its process group; terminating them/);
    assert.throws(() => process.kill(-pgid, 0), /ESRCH/);
  });

  test('unix socket', async () => {
    const sock = path.join(tmp, 'lockd.sock');
    const unixServer = await start({ unix: sock, port: undefined, host: undefined });
    const r = await run(nodeArgs, ['-S', `unix:${sock}`, '-l', 'x', '--', 'sh', '-c', 'echo $LOCKD_SERVER']);
    assert.is(r.code, 0);
    assert.is(r.stdout, `unix:${sock}\n`);
    await unixServer.destroy();
    const gone = await run(nodeArgs, ['-S', `unix:${sock}`, '-l', 'x', '--', 'true']);
    assert.is(gone.code, 69);
    assert.is(gone.stderr, `lockd-run: cannot reach the lock server at unix:${sock}: no such socket\n`);
  });

  test('server unreachable: 69 and the reason', async () => {
    const port = server.tcp.port;
    await server.destroy();
    const r = await run(nodeArgs, ['-S', `127.0.0.1:${port}`, '-l', 'x', '--', 'true']);
    assert.is(r.code, 69);
    assert.is(r.stderr, `lockd-run: cannot reach the lock server at 127.0.0.1:${port}: connection refused\n`);
    server = await start();
  });

  test.run();
}
