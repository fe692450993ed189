// What one client can use of the server: --max-memory, --max-name, open
// files; and lockd-run's own checks of lock names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { Raw } from './helpers/raw.js';
import { start } from './helpers/server.js';
import { connect } from '../dist/index.js';
import net from 'node:net';
import { launch, lockdRun, startServerProcess, LOCKD_SERVER } from './helpers/run.js';

const MiB = 1024 * 1024;
const peakRss = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

const memory = suite('--max-memory');

memory('1000 connections sending long names, shares, waits and iam: the server stays within the budget plus its stated overhead', async () => {
  const budget = 16 * MiB;
  const srv = await startServerProcess(['--max-memory', '16M', '--max-connections-per-address', '1001']);
  srv.child.stdout.removeAllListeners('data').resume(); // the verbose log is not kept here
  const conns = [];
  let bystander = null;
  // Should an assertion fail, the server and its 1000 connections must not keep the test run alive.
  try {
    for (let i = 0; i < 1000; i++) conns.push(await Raw.open(srv.port));
    bystander = await Raw.openExt(srv.port);
    assert.is(await bystander.ask('g mine'), '1 Lock Get Success: mine');
    let granted = 0;
    let refused = 0;
    await Promise.all(conns.map(async (c, i) => {
      await c.ask(`iam ${'n'.repeat(3000)}${i}`);
      if (i % 10 === 0) c.send(`wg -1 mine\n`); // waits, held back behind it: more requests
      for (let k = 0; k < 20 && i % 10 !== 0; k++) {
        const name = `${i}-${k}-${'x'.repeat(4000)}`;
        const reply = await c.ask(`${k % 2 ? 'sg' : 'g'} ${name}`);
        if (reply.startsWith('0 ')) {
          // Refused in the old reply form: an old client reads a failure.
          assert.is(reply, k % 2 ? `0 Shared Lock Get Failure: ${name}` : `0 Lock Get Failure: ${name}`);
          refused++;
        } else granted++;
      }
    }));
    assert.ok(refused > 0 && granted > 0, `${granted} granted, ${refused} refused`);
    // Served throughout, its lock kept; inspections and dumps answer.
    assert.is(await bystander.ask('i mine'), '1 Lock Is Locked: mine');
    const other = 'o'.repeat(4000);
    assert.is(await bystander.ask(`g ${other}`), `0 (memory full) Lock Get Failure: ${other}`, 'a hello client reads the reason');
    assert.ok((await bystander.askAll('d')).length > 0);
    const overhead = 96 * MiB + 1001 * 48 * 1024; // as man lockd-server states it
    const peak = peakRss(srv.child.pid);
    assert.ok(peak <= budget + overhead, `peak RSS ${(peak / MiB).toFixed(1)} MiB over ${((budget + overhead) / MiB).toFixed(1)}`);
    // Releases give the bytes back: once the others have gone, grants succeed again.
    for (const c of conns) c.end();
    await Promise.all(conns.map((c) => c.closedByServer()));
    assert.is(await bystander.ask(`g ${other}`), `1 Lock Get Success: ${other}`);
    assert.match(srv.stderr, /refused .*: memory full \(\d+ of 16777216 bytes \(--max-memory\) in use\)/);
    assert.ok(srv.stderr.split('\n').filter((l) => l.includes('memory full')).length < 20, 'refusals are logged a line a second at most');
  } finally {
    for (const c of [...conns, bystander]) c?.socket.destroy();
    srv.child.kill();
    await srv.exited;
  }
});

memory('a release makes room at once; iam is refused with its one failure reply', async () => {
  const s = await start({ limits: { maxMemory: 64 * 1024 }, warn: () => {} });
  const c = await Raw.open(s.tcp.port);
  const name = (i) => `${i}-${'y'.repeat(3000)}`;
  let i = 0;
  while ((await c.ask(`g ${name(i)}`)).startsWith('1 ')) i++;
  assert.ok(i > 3, `${i} granted`);
  assert.is(await c.ask(`iam ${'z'.repeat(3000)}`), '0 disabled');
  assert.is(await c.ask(`r ${name(0)}`), `1 Lock Release Success: ${name(0)}`);
  assert.is(await c.ask(`g ${name(i)}`), `1 Lock Get Success: ${name(i)}`);
  const client = connect(`127.0.0.1:${s.tcp.port}`);
  const err = await client.get(name(i + 1)).catch((e) => e);
  assert.is(err.code, 'EREFUSED');
  assert.is(err.message, 'memory full');
  await client.disconnect();
  await s.destroy();
});

memory.run();

const names = suite('names');

names('--max-name: a longer lock or client name gets the failure reply, the connection stays', async () => {
  const s = await start({ limits: { maxName: 10 }, warn: () => {} });
  const old = await Raw.open(s.tcp.port);
  const ext = await Raw.openExt(s.tcp.port);
  assert.is(await old.ask('g 0123456789'), '1 Lock Get Success: 0123456789');
  assert.is(await old.ask('g 0123456789a'), '0 Lock Get Failure: 0123456789a');
  assert.is(await ext.ask('sg 0123456789a'), '0 (name too long) Shared Lock Get Failure: 0123456789a');
  assert.is(await ext.ask('wg 0 0123456789a'), '0 (name too long) Lock Get Failure: 0123456789a');
  assert.is(await ext.ask('iam 0123456789a'), '0 (name too long) disabled');
  assert.is(await old.ask('i 0123456789'), '1 Lock Is Locked: 0123456789', 'still served');
  await s.destroy();
});

names('lockd-run refuses empty, padded and overlong names as usage errors, quoting briefly', async () => {
  const s = await start();
  const addr = `127.0.0.1:${s.tcp.port}`;
  const cases = [
    [['-l', ''], 'lockd-run: the lock name is empty\n'],
    [['-s', '   '], 'lockd-run: the lock name "   " begins or ends with white space, which servers drop\n'],
    [['-l', '  padded  '], 'lockd-run: the lock name "  padded  " begins or ends with white space, which servers drop\n'],
    [['-l', 'a'.repeat(70_000)], 'lockd-run: the lock name is 70000 bytes long; servers take at most 4096\n'],
    [['-l', 'é'.repeat(2049)], 'lockd-run: the lock name is 4098 bytes long; servers take at most 4096\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await lockdRun(addr, [...args, '--', 'echo', 'ran']);
    assert.is(r.code, 64, stderr);
    assert.is(r.stderr, stderr);
    assert.is(r.stdout, '');
  }
  // Spaces inside a name and UTF-8 are ordinary data.
  const r = await lockdRun(addr, ['-l', 'nightly backup ✓', '-c', 'echo "$LOCKD_LOCK"']);
  assert.is(r.code, 0);
  assert.is(r.stdout, 'nightly backup ✓\n');
  await s.destroy();
});

names('messages quote a long name in 80 characters and an ellipsis', async () => {
  const s = await start();
  const addr = `127.0.0.1:${s.tcp.port}`;
  const long = 'q'.repeat(4000);
  const holder = connect(addr);
  await holder.setName('h'.repeat(500));
  await holder.get(long);
  const r = await lockdRun(addr, ['-l', long, '--', 'true']);
  assert.is(r.code, 75);
  assert.is(r.stderr, `lockd-run: lock "${'q'.repeat(80)}…" is busy (held by ${'h'.repeat(80)}…)\n`);
  await holder.disconnect();
  await s.destroy();
});

names.run();

const files = suite('open files');

files('under a low ulimit -n: one line at start-up, and connections over the lower limit told so, not reset', async () => {
  const proc = launch('/bin/sh', ['-c', `ulimit -n 64 && exec "${LOCKD_SERVER}" --tcp 127.0.0.1:0 --verbose`]);
  await proc.waitFor(/listening on 127\.0\.0\.1:\d+/);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(proc.stdout)[1]);
  assert.match(proc.stderr, /^\S+Z lockd-server: the open-file limit is 64: enforcing --max-connections 32 instead of 10000 \(raise it with ulimit -n, or LimitNOFILE= under systemd\)\n$/);
  const held = [];
  for (let i = 0; i < 32; i++) held.push(await Raw.open(port));
  // 200 more at once: each gets the refusal line, none a reset.
  const outcomes = await Promise.all(Array.from({ length: 200 }, () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('error', (err) => resolve(err.code));
    s.on('close', () => resolve(text));
  })));
  assert.equal([...new Set(outcomes)], ['0 Too many connections\n']);
  assert.is(await held[0].ask('g still-served'), '1 Lock Get Success: still-served');
  assert.ok(proc.stderr.split('\n').filter((l) => l.includes('refused')).length <= 3, 'refusals logged a line a second at most');
  for (const c of held) c.end();
  proc.child.kill();
  await proc.exited;
});

files.run();
