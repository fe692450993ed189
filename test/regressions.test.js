// Bugs found in review, each with the test that would have caught it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import { connect } from '../dist/index.js';
import { start, until } from './helpers/server.js';
import { Raw } from './helpers/raw.js';
import { startOldServer } from './helpers/old-server.js';
import { launch, LOCKD_RUN } from './helpers/run.js';

const test = suite('regressions');

test('connections refused over the limit that reset at once do not crash the server', async () => {
  const s = await start({ limits: { maxConnections: 1 }, warn: () => {} });
  const holder = await Raw.open(s.tcp.port);
  assert.is(await holder.ask('g kept'), '1 Lock Get Success: kept');
  await Promise.all(Array.from({ length: 100 }, async () => {
    const c = net.connect(s.tcp.port, '127.0.0.1');
    c.on('error', () => {});
    await once(c, 'connect');
    c.resetAndDestroy();
  }));
  const refused = await Raw.open(s.tcp.port);
  assert.is((await refused.read(1))[0], '0 Too many connections');
  assert.is(await holder.ask('i kept'), '1 Lock Is Locked: kept');
  await s.destroy();
});

test('lines piled up behind a wait are all run once it is granted; the connection keeps reading', async () => {
  const s = await start({ limits: { maxLine: 4096 } });
  const holder = await Raw.open(s.tcp.port);
  await holder.ask('g X');
  const c = await Raw.open(s.tcp.port);
  c.send('wg -1 X\n' + Array.from({ length: 8000 }, (_, i) => `g job-${i}\n`).join(''));
  await until(() => s.waiting('X') === 1, 'the wait to queue');
  await holder.ask('r X');
  const lines = await c.read(8001);
  assert.match(lines[0], /^1 \d+ Lock Get Success: X$/);
  assert.is(lines[8000], '1 Lock Get Success: job-7999');
  assert.is(await c.ask('r X'), '1 Lock Release Success: X');
  await s.destroy();
});

test('a wait longer than a timer can take waits (it is not refused after 1 ms)', async () => {
  const s = await start();
  const holder = await Raw.open(s.tcp.port);
  await holder.ask('g X');
  const c = await Raw.open(s.tcp.port);
  c.send('wg 2592000000 X\n');
  await until(() => s.waiting('X') === 1, 'the wait to queue');
  await holder.ask('ping');
  await holder.ask('r X');
  assert.match((await c.read(1))[0], /^1 \d+ Lock Get Success: X$/);
  await s.destroy();
});

test('a throttled reader is governed by the write timeout, not the line timeout', async () => {
  const s = await start({ limits: { lineTimeout: 150, writeTimeout: 5000, maxPendingOutput: 4096 }, warn: () => {} });
  const c = await Raw.open(s.tcp.port);
  await c.ask('g held');
  c.socket.pause();
  c.send('q\n'.repeat(5000));
  // Longer than the line timeout, well within the write timeout.
  await new Promise((r) => setTimeout(r, 500));
  c.socket.resume();
  const lines = await c.read(16 * 5000);
  assert.is(lines.at(-1), 'shared_orphans: 0');
  assert.is(await c.ask('i held'), '1 Lock Is Locked: held');
  await s.destroy();
});

test('a client that half-closes with replies unread is closed after the write timeout', async () => {
  const s = await start({ limits: { writeTimeout: 300 }, warn: () => {} });
  const c = await Raw.open(s.tcp.port);
  c.socket.pause();
  c.socket.end('q\n'.repeat(20000));
  await until(() => s.connections === 1, 'the connection to be accepted');
  await until(() => s.connections === 0, 'the half-closed connection to be closed', 5000);
  await s.destroy();
});

test('client: a request timeout does not cut off a queued wait, nor requests behind it', async () => {
  const s = await start();
  const holder = connect(`127.0.0.1:${s.tcp.port}`);
  await holder.get('X');
  const c = connect(`127.0.0.1:${s.tcp.port}`, { request: 200 });
  await c.get('mine');
  const waiting = c.acquire('X', { wait: 2000 });
  const behind = c.inspect('mine');
  await until(() => s.waiting('X') === 1, 'the wait to queue');
  await new Promise((r) => setTimeout(r, 400)); // past the request timeout
  await holder.release('X');
  assert.is((await waiting).count, 1);
  assert.is(await behind, 1);
  assert.is(await c.inspect('mine'), 1, 'still connected, still holding');
  await c.disconnect();
  await holder.disconnect();
  await s.destroy();
});

test('client against an old server: a name the server trims does not stall later multi-line replies', async () => {
  const old = await startOldServer();
  const c = connect(`127.0.0.1:${old.port}`);
  await c.setName('  backup  ');
  assert.is((await c.getName()).name, 'backup');
  const stats = await c.getStats();
  assert.is(stats.connections, 1);
  assert.is(await c.get('x'), 1);
  await c.disconnect();
  await old.close();
});

test('lockd-run: TERM reaches the command\'s whole process group; nothing of it outlives the lock', async () => {
  const s = await start();
  const proc = launch(LOCKD_RUN, ['-S', `127.0.0.1:${s.tcp.port}`, '-l', 'job', '-c', 'echo $$; sleep 39; true']);
  await proc.waitFor(/^\d+\n/);
  const pgid = Number(proc.stdout.trim());
  proc.child.kill('SIGTERM');
  const { code } = await proc.exited;
  assert.is(code, 143);
  assert.throws(() => process.kill(-pgid, 0), /ESRCH/, 'no process of the command\'s group is left');
  const probe = connect(`127.0.0.1:${s.tcp.port}`);
  assert.is(await probe.inspect('job'), 0);
  await probe.disconnect();
  await s.destroy();
});

test('lockd-run: processes the command left in its group are terminated when it exits', async () => {
  const s = await start();
  const proc = launch(LOCKD_RUN, ['-S', `127.0.0.1:${s.tcp.port}`, '-l', 'job', '-c', 'echo $$; sleep 37 & exit 0']);
  await proc.waitFor(/^\d+\n/);
  const pgid = Number(proc.stdout.trim());
  const { code } = await proc.exited;
  assert.is(code, 0);
  assert.throws(() => process.kill(-pgid, 0), /ESRCH/);
  assert.match(proc.stderr, /left processes running in its process group; terminating them/);
  await s.destroy();
});

test('a CLI that fails exits at once, even with a connection (and so a lock) still open', async () => {
  const s = await start();
  const cliErrors = new URL('../dist/util/cli-errors.js', import.meta.url).href;
  const client = new URL('../dist/index.js', import.meta.url).href;
  const script = `
    const { runMain, CliError } = await import(${JSON.stringify(cliErrors)});
    const { connect } = await import(${JSON.stringify(client)});
    const c = connect('127.0.0.1:${s.tcp.port}');
    await c.get('held');
    runMain('tool', async () => { throw new Error(process.argv[1] === 'bug' ? 'boom' : 'no'); });`;
  try {
    for (const kind of ['bug', 'usage']) {
      const code = kind === 'bug' ? script : script.replace("throw new Error(process.argv[1] === 'bug' ? 'boom' : 'no')", "throw new CliError('bad usage', 64)");
      const proc = launch(process.execPath, ['--input-type=module', '-e', code, kind]);
      const deadline = new Promise((resolve) => setTimeout(resolve, 10_000, { code: 'still running after 10 s' }).unref());
      const { code: status } = await Promise.race([proc.exited, deadline]);
      proc.child.kill();
      assert.is(status, kind === 'bug' ? 70 : 64, proc.stderr);
      assert.match(proc.stderr, kind === 'bug' ? /^tool: internal error: Error: boom\n/ : /^tool: bad usage\n$/);
    }
    const probe = connect(`127.0.0.1:${s.tcp.port}`);
    await until(async () => (await probe.inspect('held')) === 0, 'the lock to be freed');
    await probe.disconnect();
  } finally {
    await s.destroy();
  }
});

test.run();
