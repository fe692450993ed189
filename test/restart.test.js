// Planned restarts (docs/protocol.md, "Planned restarts"): lockd-server
// hands its locks to the next start through --state-dir, and lockd-run and
// the library take them back; real server processes, real lockd-runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { launch, LOCKD_CTL, LOCKD_RUN, LOCKD_SERVER, nodeCommand } from './helpers/run.js';
import { freePorts } from './helpers/ports.js';
import { until } from './helpers/server.js';
import { connect, listen } from '../dist/index.js';

/** A lockd-server process on a port of our choosing, so that its successor can take the same one. */
async function serverOn(port, stateDir, extra = []) {
  const proc = launch(LOCKD_SERVER, ['--tcp', `127.0.0.1:${port}`, '--verbose', '--state-dir', stateDir, ...extra]);
  await proc.waitFor(/listening on /);
  return proc;
}

/** SIGTERM, and the exit it leads to. */
async function stop(proc) {
  proc.child.kill('SIGTERM');
  return proc.exited;
}

function tmpDir(t) {
  t.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-restart-'));
}

/** A raw connection: lines sent, lines read, and whether the server closed it. */
function raw(port) {
  const socket = net.connect(port, '127.0.0.1');
  const conn = { socket, text: '', ended: false };
  socket.setEncoding('latin1');
  socket.on('data', (d) => (conn.text += d));
  conn.closed = once(socket, 'close').then(() => (conn.ended = true));
  conn.send = (lines) => socket.write(lines);
  /** Resolves to the lines read once `n` lines have come. */
  conn.lines = async (n) => {
    await until(() => conn.text.split('\n').length > n || conn.ended, `${n} lines`);
    return conn.text.split('\n').slice(0, n);
  };
  return conn;
}

// ---- a restart under load ----

const load = suite('a planned restart while jobs run');
load.before.each(tmpDir);
load.after.each((t) => fs.rmSync(t.dir, { recursive: true, force: true }));

/**
 * Each command appends "LOCK start|end TIME" to a log, with the monotonic
 * clock every process on the host shares; holders wait for their stdin to
 * close and exit with a status of their own, waiters end at once.
 */
function job(log, lock, status, hold) {
  return nodeCommand(`
    const fs = require('fs');
    const mark = (what) => fs.appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(lock)} + ' ' + what + ' ' + process.hrtime.bigint() + '\\n');
    mark('start');
    const end = () => { mark('end'); process.exit(${status}); };
    ${hold ? `console.log('ready'); process.stdin.resume(); process.stdin.on('end', end);` : 'end();'}
  `);
}

/** The most holders each lock had at once, from the commands' own marks. */
function mostAtOnce(log) {
  const marks = fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => {
    const [lock, what, time] = line.split(' ');
    return { lock, what, time: BigInt(time) };
  });
  // At a tie an end counts first: a holder that ends lets the next one start.
  marks.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.what === 'end' ? -1 : 1));
  const now = new Map();
  const most = new Map();
  for (const m of marks) {
    const n = (now.get(m.lock) ?? 0) + (m.what === 'start' ? 1 : -1);
    now.set(m.lock, n);
    most.set(m.lock, Math.max(most.get(m.lock) ?? 0, n));
  }
  return { most, marks };
}

load('20 holders and 10 waiters: no command stopped, never two holders, waiters served after', async (t) => {
  const [port] = await freePorts(1);
  const log = path.join(t.dir, 'jobs.log');
  let server = await serverOn(port, t.dir);
  const target = `127.0.0.1:${port}`;
  const run = (args, command) => launch(LOCKD_RUN, ['-S', target, '--ping-interval', '200ms', ...args, '--', ...command]);

  // 10 exclusive holders, and 5 + 5 shared holders of two locks with at most 5 each.
  const holders = [];
  for (let i = 0; i < 10; i++) holders.push({ lock: `ex${i}`, max: 1, status: 10 + i, proc: run(['-l', `ex${i}`], job(log, `ex${i}`, 10 + i, true)) });
  for (let i = 0; i < 10; i++) {
    const lock = i < 5 ? 'pool-a' : 'pool-b';
    holders.push({ lock, max: 5, status: 30 + i, proc: run(['-s', lock, '-m', '5'], job(log, lock, 30 + i, true)) });
  }
  await Promise.all(holders.map((h) => h.proc.waitFor(/ready/)));
  // 10 waiters: on five of the exclusive locks, and five on a full pool-a.
  const waiters = [];
  for (let i = 0; i < 5; i++) waiters.push({ lock: `ex${i}`, proc: run(['-l', `ex${i}`, '-w', '60s'], job(log, `ex${i}`, 0, false)) });
  for (let i = 0; i < 5; i++) waiters.push({ lock: 'pool-a', proc: run(['-s', 'pool-a', '-m', '5', '-w', '60s'], job(log, 'pool-a', 0, false)) });
  const viewer = connect(target, { reclaim: false });
  await until(async () => (await viewer.stats()).waiters === 10, 'ten waiters queued', 10_000);
  const before = (await viewer.locks()).records;
  await viewer.disconnect();

  const stopped = await stop(server);
  assert.is(stopped.code, 0, server.stderr);
  assert.match(server.stdout, /kept 20 lock\(s\) of 20 connection\(s\)/);
  server = await serverOn(port, t.dir);
  assert.match(server.stdout, /20 lock\(s\) kept from the planned restart/);
  await until(() => (server.stdout.match(/ reclaimed /g) ?? []).length === 20, 'every holder reclaimed', 15_000);

  // Every lock has its holders of before, with their tokens; the waiters queued again.
  const back = connect(target, { reclaim: false });
  const after = (await back.locks()).records;
  const tokens = (records) => records.flatMap((r) => r.holders.map((h) => `${r.name}:${h.token}`)).sort();
  assert.equal(tokens(after), tokens(before));
  await until(async () => (await back.stats()).waiters === 10, 'the waiters queued again', 10_000);
  await back.disconnect();

  for (const h of holders) h.proc.child.stdin.end();
  for (const h of holders) {
    const { code } = await h.proc.exited;
    assert.is(code, h.status, `${h.lock}: ${h.proc.stderr}`);
    assert.not.match(h.proc.stderr, /lost/);
  }
  for (const w of waiters) {
    const { code } = await w.proc.exited;
    assert.is(code, 0, `${w.lock}: ${w.proc.stderr}`);
  }
  const { most, marks } = mostAtOnce(log);
  for (const h of holders) assert.ok(most.get(h.lock) <= h.max, `${h.lock}: ${most.get(h.lock)} at once, the most is ${h.max}`);
  assert.is(marks.filter((m) => m.what === 'start').length, 30);
  // The waiters were served by the new server, once the holders had ended.
  assert.is((server.stdout.match(/ after waiting/g) ?? []).length, 10);
  await stop(server);
});

load('the waiters of a restart get tokens newer than any from before it', async (t) => {
  const [port] = await freePorts(1);
  let server = await serverOn(port, t.dir);
  const target = `127.0.0.1:${port}`;
  const holder = launch(LOCKD_RUN, ['-S', target, '-l', 'job', '--', ...nodeCommand(`console.log('ready'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`)]);
  await holder.waitFor(/ready/);
  const viewer = connect(target, { reclaim: false });
  const [{ holders: [{ token: old }] }] = (await viewer.locks('job')).records;
  await viewer.disconnect();
  const waiter = launch(LOCKD_RUN, ['-S', target, '-l', 'job', '-w', '30s', '-c', 'echo "$LOCKD_TOKEN"']);
  await until(() => /waits for lock job/.test(server.stdout), 'the waiter queued');
  await stop(server);
  server = await serverOn(port, t.dir);
  await until(() => / reclaimed lock job /.test(server.stdout), 'the holder reclaimed');
  holder.child.stdin.end();
  assert.is((await holder.exited).code, 0, holder.stderr);
  assert.is((await waiter.exited).code, 0, waiter.stderr);
  assert.ok(Number(waiter.stdout.trim()) > old, `${waiter.stdout} after ${old}`);
  await stop(server);
});

load.run();

// ---- what the server keeps, and for whom ----

const grace = suite('reserved locks');
grace.before.each(tmpDir);
grace.after.each((t) => fs.rmSync(t.dir, { recursive: true, force: true }));

/** A client that takes lock (and says hello, so is told), then the restart: its going-away key, the token, and the new server. */
async function heldAcrossRestart(t, extra = []) {
  const [port] = await freePorts(1);
  const first = await serverOn(port, t.dir, extra);
  const holder = raw(port);
  holder.send('hello\nwg 0 job\nwsg 2 0 pool\n');
  const [, grant, shared] = await holder.lines(3);
  await stop(first);
  await holder.closed;
  const away = /^! going-away (\d+) (\w+)$/m.exec(holder.text);
  assert.ok(away, holder.text);
  const server = await serverOn(port, t.dir, extra);
  return { port, server, token: grant.split(' ')[1], sharedToken: shared.split(' ')[1], grace: Number(away[1]), key: away[2] };
}

grace('only the token with the key the holder was sent takes a reserved lock back', async (t) => {
  const { port, server, token, sharedToken, key } = await heldAcrossRestart(t);
  const other = raw(port);
  other.send([
    'hello',
    'g job',
    'wg 0 job',
    `rg ${Number(token) + 1} ${key} job`,
    `rg ${token} ${'0'.repeat(32)} job`,
    `rg ${token} ${key} other-name`,
    `rsg ${token} ${key} job`,
    'sg pool',
    'wsg 5 0 pool',
    `rg ${token} ${key} job`,
    `rsg ${sharedToken} ${key} pool`,
    `rg ${token} ${key} job`,
    '',
  ].join('\n'));
  const lines = await other.lines(12);
  assert.equal(lines.slice(1), [
    '0 Lock Get Failure: job',
    '0 Lock Get Failure: job',
    '0 Lock Get Failure: job',
    '0 Lock Get Failure: job',
    '0 Lock Get Failure: other-name',
    '0 Shared Lock Get Failure: job',
    '0 Shared Lock Get Failure: pool',
    '0 Shared Lock Get Failure: pool',
    `1 ${token} Lock Get Success: job`,
    `1 ${sharedToken} Shared Lock Get Success: pool`,
    // Taken back once: it is not reserved any more.
    '0 Lock Get Failure: job',
  ]);
  other.socket.destroy();
  // After a reclaim, the name is served as usual: a new grant's token is larger.
  const next = raw(port);
  next.send('hello\nwg 0 job\n');
  const [, granted] = await next.lines(2);
  assert.ok(Number(granted.split(' ')[1]) > Number(token), granted);
  next.socket.destroy();
  await stop(server);
});

grace('an old client cannot reclaim: rg and rsg are unknown to it', async (t) => {
  const { port, server, token, key } = await heldAcrossRestart(t);
  const old = raw(port);
  old.send(`rg ${token} ${key} job\ni job\n`);
  assert.equal(await old.lines(1), ['1 Lock Is Locked: job']);
  old.socket.destroy();
  await stop(server);
});

grace('a reserved lock nobody reclaims is freed at the end of the grace, to its waiter', async (t) => {
  const { port, server, token } = await heldAcrossRestart(t, ['--reclaim-grace', '1s']);
  const waiter = connect(`127.0.0.1:${port}`);
  const viewer = connect(`127.0.0.1:${port}`);
  const granted = waiter.acquire('job', { wait: 10_000 });
  await until(async () => (await viewer.locks('job')).records[0]?.waiterCount === 1, 'the waiter queued');
  // Until then the lock shows its holder of before the restart.
  const [record] = (await viewer.locks('job')).records;
  assert.is(String(record.holders[0].token), token);
  const grant = await granted;
  assert.ok(grant.token > Number(token));
  assert.match(server.stdout, /reclaim grace over: freed 2 lock\(s\) not reclaimed/);
  assert.is((await viewer.stats()).orphans, 1);
  await waiter.disconnect();
  await viewer.disconnect();
  await stop(server);
});

grace('the state file is used once: a start after a crash reserves nothing', async (t) => {
  const { port, server } = await heldAcrossRestart(t);
  assert.not.ok(fs.existsSync(path.join(t.dir, 'lockd-state.json')), 'consumed at start-up');
  server.child.kill('SIGKILL');
  await server.exited;
  const third = await serverOn(port, t.dir);
  assert.not.match(third.stdout, /kept from the planned restart/);
  const c = raw(port);
  c.send('g job\n');
  assert.equal(await c.lines(1), ['1 Lock Get Success: job']);
  c.socket.destroy();
  await stop(third);
});

grace('a state file that cannot be read stops the start, and is left as it is', async (t) => {
  const file = path.join(t.dir, 'lockd-state.json');
  fs.writeFileSync(file, '{"lockd":"state","version":1,"written":1,');
  const server = launch(LOCKD_SERVER, ['--tcp', '127.0.0.1:0', '--state-dir', t.dir]);
  assert.is((await server.exited).code, 71);
  assert.is(server.stderr, `lockd-server: the state file ${file} is unusable (not JSON); the locks it lists may still be held by running jobs: move it away to start without them\n`);
  assert.ok(fs.existsSync(file));
});

grace('an old client (no hello) sees its connection close at shutdown, and its lock is not kept', async (t) => {
  const [port] = await freePorts(1);
  const first = await serverOn(port, t.dir);
  const old = raw(port);
  old.send('g old-job\n');
  assert.equal(await old.lines(1), ['1 Lock Get Success: old-job']);
  const told = raw(port);
  told.send('hello\n');
  await told.lines(1);
  await stop(first);
  await old.closed;
  await told.closed;
  assert.is(old.text, '1 Lock Get Success: old-job\n');
  assert.match(told.text, /\n! going-away 1[45]\d{3} [0-9a-f]+\n$/);
  const second = await serverOn(port, t.dir);
  const c = raw(port);
  c.send('g old-job\n');
  assert.equal(await c.lines(1), ['1 Lock Get Success: old-job']);
  c.socket.destroy();
  await stop(second);
});

grace('without --state-dir a shutdown keeps nothing and tells nobody', async () => {
  const [port] = await freePorts(1);
  const server = launch(LOCKD_SERVER, ['--tcp', `127.0.0.1:${port}`]);
  await server.waitFor(/listening on /);
  const c = raw(port);
  c.send('hello\nwg 0 job\n');
  await c.lines(2);
  await stop(server);
  await c.closed;
  assert.not.match(c.text, /going-away/);
});

grace('under systemd: STATE_DIRECTORY is the state directory; stats counts what is reserved', async (t) => {
  const [port] = await freePorts(1);
  const start = () => launch(LOCKD_SERVER, ['--tcp', `127.0.0.1:${port}`, '--metrics', '127.0.0.1:0'], { env: { STATE_DIRECTORY: `${t.dir}:/nonexistent` } });
  let server = start();
  await server.waitFor(/listening on /);
  const holder = connect(`127.0.0.1:${port}`, { reclaim: false });
  await holder.acquire('job');
  await stop(server);
  assert.ok(fs.existsSync(path.join(t.dir, 'lockd-state.json')));
  server = start();
  await server.waitFor(/listening on .*; 1 lock\(s\) kept from the planned restart for 1[5-7]s more/);
  const viewer = connect(`127.0.0.1:${port}`);
  assert.is((await viewer.stats()).reserved, 1);
  await viewer.disconnect();
  const metricsPort = /metrics on http:\/\/127\.0\.0\.1:(\d+)\//.exec(server.stdout)[1];
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(metrics, /^lockd_reserved_locks 1$/m);
  // The operator sees the lock kept for its holder.
  const ctl = launch(LOCKD_CTL, ['-S', `127.0.0.1:${port}`, 'list']);
  assert.is((await ctl.exited).code, 0, ctl.stderr);
  assert.match(ctl.stdout, /^job +exclusive +1 .*127\.0\.0\.1:\d+ \(reserved\)$/m);
  await stop(server);
});

grace('a --state-dir that cannot be used, and --reclaim-grace without one, are one-line errors', async (t) => {
  const file = path.join(t.dir, 'a-file');
  fs.writeFileSync(file, '');
  const bad = launch(LOCKD_SERVER, ['--tcp', '127.0.0.1:0', '--state-dir', path.join(file, 'state')]);
  assert.is((await bad.exited).code, 71);
  assert.match(bad.stderr, /^lockd-server: cannot use the state directory .*a-file\/state: not a directory\n$/);
  const lone = launch(LOCKD_SERVER, ['--tcp', '127.0.0.1:0', '--reclaim-grace', '5s']);
  assert.is((await lone.exited).code, 64);
  assert.is(lone.stderr, 'lockd-server: --reclaim-grace goes with --state-dir\n');
});

grace.run();

// ---- lockd-run ----

const run = suite('lockd-run across restarts');
run.before.each(tmpDir);
run.after.each((t) => fs.rmSync(t.dir, { recursive: true, force: true }));

const HOLD = nodeCommand(`
  console.log('ready');
  process.on('SIGTERM', () => { console.log('terminated'); process.exit(143); });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(3));
`);

run('the server killed with -9: the command is terminated at once, exit 74', async (t) => {
  const [port] = await freePorts(1);
  const server = await serverOn(port, t.dir);
  const proc = launch(LOCKD_RUN, ['-S', `127.0.0.1:${port}`, '-l', 'job', '--', ...HOLD]);
  await proc.waitFor(/ready/);
  server.child.kill('SIGKILL');
  const { code } = await proc.exited;
  assert.is(code, 74, proc.stderr);
  assert.match(proc.stdout, /terminated/);
  assert.match(proc.stderr, /lost lock "job": the connection to the lock server closed; terminating the command/);
});

run('a lock not taken back within the grace is lost: the command is terminated, exit 74', async (t) => {
  const [port] = await freePorts(1);
  const server = await serverOn(port, t.dir, ['--reclaim-grace', '1s']);
  const proc = launch(LOCKD_RUN, ['-S', `127.0.0.1:${port}`, '-l', 'job', '--', ...HOLD]);
  await proc.waitFor(/ready/);
  await stop(server); // and no server comes back
  const { code } = await proc.exited;
  assert.is(code, 74, proc.stderr);
  assert.match(proc.stdout, /terminated/);
  assert.match(proc.stderr, /lost lock "job": the lock server did not come back within 1s; terminating the command/);
});

run('--wait 10s against a server that comes up after 2 s gets the lock', async (t) => {
  const [port] = await freePorts(1);
  const proc = launch(LOCKD_RUN, ['-S', `127.0.0.1:${port}`, '-v', '-l', 'job', '-w', '10s', '-c', 'echo got it']);
  await proc.waitFor(/connection refused; trying again until the wait is over/, 'stderr');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const server = await serverOn(port, t.dir);
  const { code } = await proc.exited;
  assert.is(code, 0, proc.stderr);
  assert.is(proc.stdout, 'got it\n');
  await stop(server);
});

run('--wait against a server that stays down exits 69 at its deadline; without --wait at once', async () => {
  const [port] = await freePorts(1);
  const waited = launch(LOCKD_RUN, ['-S', `127.0.0.1:${port}`, '-l', 'job', '-w', '1s', '--', 'true']);
  const once1 = launch(LOCKD_RUN, ['-S', `127.0.0.1:${port}`, '-l', 'job', '--', 'true']);
  assert.is((await once1.exited).code, 69);
  assert.is(once1.stderr, `lockd-run: cannot reach the lock server at 127.0.0.1:${port}: connection refused\n`);
  assert.is((await waited.exited).code, 69);
  assert.match(waited.stderr, /^lockd-run: cannot reach the lock server at 127\.0\.0\.1:\d+: connection refused \(tried \d+ times in 1s\)\n$/);
});

run.run();

// ---- the library ----

const lib = suite('the client library across restarts');
lib.before.each(tmpDir);
lib.after.each((t) => fs.rmSync(t.dir, { recursive: true, force: true }));

lib('locks taken with acquire are reclaimed, each an event; a get() lock is reported lost', async (t) => {
  const [port] = await freePorts(1);
  let server = await serverOn(port, t.dir);
  const client = connect(`127.0.0.1:${port}`);
  const events = [];
  // The grace less what the server took to write its state.
  client.on('restarting', (ms) => events.push(`restarting ${ms > 14_000 && ms <= 15_000}`));
  client.on('reclaimed', (lock) => events.push(`reclaimed ${lock.name} ${lock.shared} ${lock.token}`));
  client.on('lost', (err, lock) => events.push(`lost ${lock.name} ${err.code}`));
  client.on('close', () => events.push('close'));
  const ex = await client.acquire('ex');
  const sh = await client.acquire('sh', { shared: true, max: 3 });
  await client.get('plain');
  await client.setName('library-user');
  await stop(server);
  server = await serverOn(port, t.dir);
  await until(() => events.length === 4, 'four events', 10_000);
  assert.equal(events, [
    'restarting true',
    'lost plain ELOST',
    `reclaimed ex false ${ex.token}`,
    `reclaimed sh true ${sh.token}`,
  ]);
  // The same connection, back: its name again, and the locks with their tokens.
  const { records } = await client.locks();
  const ours = records.filter((r) => r.name !== 'plain').map((r) => `${r.name} ${r.holders[0].name} ${r.holders[0].token}`);
  assert.equal(ours, [`ex library-user ${ex.token}`, `sh library-user ${sh.token}`]);
  assert.is(await client.release('ex'), 1);
  await client.disconnect();
  assert.equal(events.slice(4), ['close']);
  await stop(server);
});

lib('an acquire waiting at the restart queues again, within its own wait', async (t) => {
  const [port] = await freePorts(1);
  let server = await serverOn(port, t.dir);
  const holder = connect(`127.0.0.1:${port}`);
  await holder.acquire('job');
  const waiter = connect(`127.0.0.1:${port}`);
  const waiting = waiter.acquire('job', { wait: 20_000 });
  await until(() => /waits for lock job/.test(server.stdout), 'the waiter queued');
  await stop(server);
  server = await serverOn(port, t.dir);
  await until(() => /waits for lock job/.test(server.stdout), 'the waiter queued again', 10_000);
  await holder.release('job');
  const grant = await waiting;
  assert.is(grant.count, 1);
  await holder.disconnect();
  await waiter.disconnect();
  await stop(server);
});

lib('with reclaim: false the connection closes at a restart, as at a crash', async (t) => {
  const [port] = await freePorts(1);
  const server = await serverOn(port, t.dir);
  const client = connect(`127.0.0.1:${port}`, { reclaim: false });
  await client.acquire('job');
  const lost = new Promise((resolve) => client.once('lost', (err, lock) => resolve(`${lock.name} ${err.code}`)));
  const closed = once(client, 'close');
  await stop(server);
  await closed;
  assert.is(await lost, 'job ECONNCLOSED');
  const err = await client.get('x').catch((e) => e);
  assert.is(err.code, 'ECONNCLOSED');
});

/** A server in this process that can be restarted on its port with its state directory. */
async function restartable(stateDir) {
  const box = { server: await listen({ host: '127.0.0.1', port: 0, stateDir }) };
  box.port = box.server.tcp.port;
  box.restart = async () => {
    await box.server.shutdown();
    box.server = await listen({ host: '127.0.0.1', port: box.port, stateDir });
  };
  return box;
}

/**
 * A TCP proxy on loopback to port: relay(up, down) gives, for one connection,
 * what to do with the client's chunks (toServer), the server's (toClient) and
 * the server's close (serverClosed); by default each is passed on.
 */
async function proxyTo(port, relay = () => ({})) {
  const proxy = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    const { toServer = (d) => up.write(d), toClient = (d) => down.write(d), serverClosed = () => down.destroy() } = relay(up, down);
    up.on('data', toClient);
    up.on('close', serverClosed);
    up.on('error', () => {});
    down.on('data', toServer);
    down.on('close', () => up.destroy());
    down.on('error', () => up.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return proxy;
}

lib('a getShared() refused for a reserved lock is not held: nothing is lost when the server goes', async (t) => {
  const box = await restartable(t.dir);
  const holder = raw(box.port);
  holder.send('hello\nwsg 0 -1 sh\n');
  await holder.lines(2);
  await box.restart(); // the share is kept for the holder, who does not reclaim it
  const client = connect(`127.0.0.1:${box.port}`);
  const lost = [];
  client.on('lost', (err, lock) => lost.push(lock.name));
  assert.is(await client.getShared('sh'), 0, 'refused while reserved');
  const closed = once(client, 'close');
  await box.server.destroy();
  await closed;
  assert.equal(lost, []);
});

lib('a reclaim cut short by a second restart is made again, under the key it was kept with', async (t) => {
  const box = await restartable(t.dir);
  // The first reclaim after the first restart is held back, and the server restarted again meanwhile.
  let restartedAgain;
  const proxy = await proxyTo(box.port, (up) => ({
    toServer(d) {
      if (!restartedAgain && /(^|\n)rg /.test(d.toString('latin1'))) restartedAgain = box.restart();
      else up.write(d);
    },
  }));
  const client = connect(`127.0.0.1:${proxy.address().port}`);
  const events = [];
  client.on('lost', (err, lock) => events.push(`lost ${lock.name}`));
  const reclaimed = once(client, 'reclaimed');
  const { token } = await client.acquire('job');
  await box.restart();
  const [lock] = await reclaimed;
  await restartedAgain;
  assert.equal([lock.name, lock.token, events], ['job', token, []]);
  assert.is(box.server.reserved, 0, 'taken back from the third server');
  const other = connect(`127.0.0.1:${box.port}`);
  const err = await other.acquire('job').catch((e) => e);
  assert.is(err.code, 'ELOCKBUSY');
  await other.disconnect();
  await client.disconnect();
  proxy.close();
  await box.server.destroy();
});

lib('a grant that arrives in the same read as the going-away line is reclaimed, not lost', async (t) => {
  const box = await restartable(t.dir);
  // What the server sends is passed on in batches 20 ms apart, and the server is restarted as soon as it grants the lock.
  let restarted;
  const proxy = await proxyTo(box.port, (_up, down) => {
    let batch = [];
    let timer = null;
    return {
      toClient(d) {
        batch.push(d);
        if (!restarted && /^1 \d+ Lock Get Success: job$/m.test(d.toString('latin1'))) restarted = box.restart();
        timer ??= setTimeout(() => {
          timer = null;
          down.write(Buffer.concat(batch));
          batch = [];
        }, 20);
      },
      serverClosed: () => setTimeout(() => down.destroy(), 30),
    };
  });
  const client = connect(`127.0.0.1:${proxy.address().port}`);
  const lost = [];
  client.on('lost', (err, lock) => lost.push(`${lock.name}: ${err.message}`));
  const reclaimed = once(client, 'reclaimed');
  await client.connected();
  const { token } = await client.acquire('job');
  assert.ok(client.isRestarting, 'told in the same read');
  const [lock] = await reclaimed;
  await restarted;
  assert.equal([lock.name, lock.token, lost], ['job', token, []]);
  assert.is(box.server.reserved, 0);
  await client.disconnect();
  proxy.close();
  await box.server.destroy();
});

lib('disconnect() while reconnecting ends it at once: no lost events, no timer left', async (t) => {
  const server = await listen({ host: '127.0.0.1', port: 0, stateDir: t.dir });
  const client = connect(`127.0.0.1:${server.tcp.port}`);
  await client.acquire('job');
  const events = [];
  client.on('lost', () => events.push('lost'));
  client.on('close', () => events.push('close'));
  const restarting = once(client, 'restarting');
  await server.shutdown(); // and nothing comes back
  await restarting;
  await client.disconnect();
  assert.equal(events, ['close']);
  assert.ok(client.isClosed);
});

lib.run();
