// lockd-run with -S etcd://... against a real three-member etcd cluster.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEtcdCluster } from './helpers/etcd-cluster.js';
import { until } from './helpers/server.js';
import { makeCerts } from './helpers/certs.js';
import { launch, lockdRun, nodeCommand, LOCKD_CTL, LOCKD_RUN } from './helpers/run.js';

/** A command that prints "ready" and waits until its stdin closes. */
const HOLD = nodeCommand(`console.log('ready'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`);

const test = suite('lockd-run on etcd');
let cluster, target, tmp;
test.before(async () => {
  cluster = await startEtcdCluster();
});
test.after(async () => {
  await cluster.close();
});
test.before.each(() => {
  target = cluster.endpoints;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-etcd-run-'));
});
test.after.each(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Each test its own prefix, so that no test sees another's keys.
const prefix = () => ['--etcd-prefix', `t-${Math.random().toString(36).slice(2)}/`];

test('exclusive conflict: the second exits 75 naming the holder; status and environment pass through', async () => {
  const p = prefix();
  const holder = launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '--name', 'first-holder', '--', ...HOLD]);
  await holder.waitFor(/ready/);
  const second = await lockdRun(target, [...p, '-l', 'job', '--', 'echo', 'ran']);
  assert.equal([second.code, second.stdout, second.stderr], [75, '', 'lockd-run: lock "job" is busy (held by first-holder)\n']);
  holder.child.stdin.end();
  assert.is((await holder.exited).code, 0);
  const r = await lockdRun(target, [...p, '-l', 'job', '-c', 'echo "$LOCKD_LOCK $LOCKD_MODE $LOCKD_TOKEN"; exit 3']);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stdout, /^job exclusive \d+\n$/);
});

test('12 runs of --shared api --max 3 --wait: never more than 3 commands alive, all finish', async () => {
  const p = prefix();
  const log = path.join(tmp, 'log');
  const cmd = `echo start >> ${log}; sleep 0.1; echo end >> ${log}`;
  const results = await Promise.all(Array.from({ length: 12 }, () => lockdRun(target, [...p, '-s', 'api', '-m', '3', '-w', '60s', '-c', cmd])));
  assert.equal(results.map((r) => r.code), Array(12).fill(0), results.map((r) => r.stderr).join(''));
  let alive = 0;
  let most = 0;
  for (const line of fs.readFileSync(log, 'utf8').trim().split('\n')) {
    alive += line === 'start' ? 1 : -1;
    most = Math.max(most, alive);
  }
  assert.ok(most <= 3, `${most} at once`);
  assert.is(fs.readFileSync(log, 'utf8').trim().split('\n').length, 24);
});

test('waiters are served in arrival order, and the shared lock is a separate namespace', async () => {
  const p = prefix();
  const log = path.join(tmp, 'order');
  const holder = launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '--', ...HOLD]);
  await holder.waitFor(/ready/);
  // A shared lock of the same name is another lock: it is free.
  assert.is((await lockdRun(target, [...p, '-s', 'job', '--', 'true'])).code, 0);
  const waiters = [];
  for (let i = 0; i < 4; i++) {
    waiters.push(launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '-w', '30s', '-c', `echo ${i} >> ${log}`]));
    // Each queued (its key put) before the next starts.
    await until(async () => (await cluster.count(`${p[1]}x/job/`)) === i + 2, `waiter ${i} to queue`, 10_000);
  }
  holder.child.stdin.end();
  assert.is((await holder.exited).code, 0);
  for (const w of waiters) assert.is((await w.exited).code, 0, w.stderr);
  assert.is(fs.readFileSync(log, 'utf8'), '0\n1\n2\n3\n');
});

test('a shared lock: the environment says so; TERM is forwarded and the lock kept until the command exits', async () => {
  const p = prefix();
  // On TERM it finishes when told to (its stdin closes): meanwhile the lock must still be held.
  const script = `process.on('SIGTERM', () => { console.log('got TERM'); process.stdin.on('end', () => process.exit(7)).resume(); }); setInterval(() => {}, 1000);
    console.log('ready', process.env.LOCKD_MODE, process.env.LOCKD_COUNT, process.env.LOCKD_MAX);`;
  const holder = launch(LOCKD_RUN, ['-S', target, ...p, '-s', 'pool', '-m', '1', '--', ...nodeCommand(script)]);
  await holder.waitFor(/ready/);
  assert.is(holder.stdout, 'ready shared 1 1\n');
  holder.child.kill('SIGTERM');
  await holder.waitFor(/got TERM/);
  const busy = await lockdRun(target, [...p, '-s', 'pool', '-m', '1', '--', 'true']);
  assert.is(busy.code, 75, 'still held while the command finishes');
  holder.child.stdin.end();
  assert.equal(await holder.exited, { code: 7, signal: null });
});

test('lockd-run killed with SIGKILL: the next waiter gets the lock within the TTL plus a bound', async () => {
  const p = [...prefix(), '--ttl', '2s'];
  const holder = launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '--', ...HOLD]);
  await holder.waitFor(/ready/);
  const waiter = launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '-w', '30s', '--', 'echo', 'got it']);
  // Queued before the kill: its key is there beside the holder's.
  await until(async () => (await cluster.count(`${p[1]}x/job/`)) === 2, 'the waiter to queue', 10_000);
  const killed = Date.now();
  holder.child.kill('SIGKILL');
  await holder.exited;
  holder.child.stdin.end(); // the command, in its own group, goes on until its stdin closes
  assert.is((await waiter.exited).code, 0, waiter.stderr);
  const took = Date.now() - killed;
  assert.is(waiter.stdout, 'got it\n');
  // The lease's TTL (2 s), plus etcd's expiry check and the hand-over: within 2 s more.
  assert.ok(took < 2000 + 2000, `granted ${took} ms after the kill`);
});

test('lockd-ctl list, show and check read the keys: holder, waiters in order, tokens', async () => {
  const p = prefix();
  const holder = launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '--name', 'db1', '--', ...HOLD]);
  await holder.waitFor(/ready/);
  const waiter = launch(LOCKD_RUN, ['-S', target, ...p, '-l', 'job', '--name', 'db2', '-w', '60s', '--', 'true']);
  await until(async () => (await cluster.count(`${p[1]}x/job/`)) === 2, 'the waiter to queue', 10_000);
  const ctl = async (args) => {
    const proc = launch(LOCKD_CTL, ['-S', target, ...p, ...args]);
    const { code } = await proc.exited;
    return { code, stdout: proc.stdout, stderr: proc.stderr };
  };
  const list = await ctl(['list', '--json']);
  assert.is(list.code, 0, list.stderr);
  const [job] = JSON.parse(list.stdout);
  assert.equal([job.name, job.shared, job.holders.map((h) => h.name), job.waiters.map((w) => w.name)], ['job', false, ['db1'], ['db2']]);
  assert.ok(job.holders[0].token > 0);
  const check = await ctl(['check', 'job']);
  assert.equal([check.code, check.stdout], [1, 'lock "job" is held by db1\n']);
  assert.equal((await ctl(['check', 'other'])).code, 0);
  const show = await ctl(['show', 'job']);
  assert.match(show.stdout, /^lock "job": 1 holder\(s\)\n/);
  assert.match(show.stdout, /waiters, in queue order: 1\n/);
  const clients = await ctl(['clients']);
  assert.is(clients.code, 64);
  holder.child.stdin.end();
  assert.is((await holder.exited).code, 0);
  assert.is((await waiter.exited).code, 0);
});

test('an unreachable cluster: 69 with one line', async () => {
  const r = await lockdRun('etcd://127.0.0.1:1', ['--connect-timeout', '1s', '-l', 'x', '--', 'true']);
  assert.is(r.code, 69);
  assert.match(r.stderr, /^lockd-run: cannot reach the etcd cluster at etcd:\/\/127\.0\.0\.1:1: [^\n]+\n$/);
});

test.run();

const ha = suite('lockd-run on etcd when members fail');
let haCluster;
ha.before.each(async () => {
  haCluster = await startEtcdCluster();
});
ha.after.each(async () => {
  await haCluster.close();
});

ha('the leader killed while the command runs: it runs to its end, status passes through, the lock stays busy', async () => {
  const holder = launch(LOCKD_RUN, ['-S', haCluster.endpoints, '--ttl', '2s', '-l', 'job', '--name', 'h', '-c', 'echo ready; read line; exit 7']);
  await holder.waitFor(/ready/);
  await haCluster.stop(await haCluster.leader());
  const other = await lockdRun(haCluster.endpoints, ['-l', 'job', '--', 'true']);
  assert.equal([other.code, other.stderr], [75, 'lockd-run: lock "job" is busy (held by h)\n']);
  holder.child.stdin.end('go\n');
  assert.equal(await holder.exited, { code: 7, signal: null }, holder.stderr);
});

ha('two of three members stopped: the command is terminated and lockd-run exits 74 within the TTL plus a bound', async () => {
  const holder = launch(LOCKD_RUN, ['-S', haCluster.endpoints, '--ttl', '2s', '-l', 'job', '--', ...HOLD]);
  await holder.waitFor(/ready/);
  const stopped = Date.now();
  await haCluster.stop(0);
  await haCluster.stop(1);
  assert.is((await holder.exited).code, 74);
  const took = Date.now() - stopped;
  assert.match(holder.stderr, /^lockd-run: lost lock "job": the etcd [^\n]*; terminating the command\n/);
  // The TTL from the last renewal (the last member may renew for an election
  // timeout before it finds it has no quorum), then TERM to the command: the
  // bound stated in the man page is the TTL plus 2.5 s.
  assert.ok(took < 2000 + 2500, `exited ${took} ms after the stop`);
});

ha.run();

const auth = suite('lockd-run on etcd with auth on');
let authCluster, authDir;
auth.before(async () => {
  authCluster = await startEtcdCluster();
  authDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-etcd-auth-'));
  // As an operator would: root, and a user "job" that may use only lockd/.
  const { Etcd3, Range } = await import('etcd3');
  const admin = new Etcd3({ hosts: authCluster.endpoints.slice('etcd://'.length).split(',').map((h) => `http://${h}`) });
  await admin.role('root').create().catch(() => {}); // etcd 3.4 may have it already
  await (await admin.user('root').create('root-secret')).addRole('root');
  await (await admin.role('lockd').create()).grant({ permission: 'Readwrite', range: Range.prefix('lockd/') });
  await (await admin.user('job').create('job-secret')).addRole('lockd');
  await admin.auth.authEnable();
  admin.close();
  fs.writeFileSync(path.join(authDir, 'good'), 'job-secret\n');
  fs.writeFileSync(path.join(authDir, 'bad'), 'wrong\n');
});
auth.after(async () => {
  await authCluster.close();
  fs.rmSync(authDir, { recursive: true, force: true });
});

auth('the password from a file, or from the environment: the lock is taken', async () => {
  const r = await lockdRun(authCluster.endpoints, ['--etcd-user', 'job', '--etcd-password-file', path.join(authDir, 'good'), '-l', 'x', '--', 'echo', 'ran']);
  assert.equal([r.code, r.stdout, r.stderr], [0, 'ran\n', '']);
  const env = { env: { LOCKD_ETCD_USER: 'job', LOCKD_ETCD_PASSWORD: 'job-secret' } };
  const e = await lockdRun(authCluster.endpoints, ['-l', 'x', '--', 'echo', 'ran'], env);
  assert.equal([e.code, e.stdout, e.stderr], [0, 'ran\n', '']);
  const check = launch(LOCKD_CTL, ['-S', authCluster.endpoints, 'check', 'x'], env);
  assert.equal(await check.exited, { code: 0, signal: null }, check.stderr);
  const refused = launch(LOCKD_CTL, ['-S', authCluster.endpoints, 'list']);
  assert.is((await refused.exited).code, 77, refused.stderr);
});

auth('a wrong password, no user, or a prefix the user may not use: 77 with one line', async () => {
  const bad = await lockdRun(authCluster.endpoints, ['--etcd-user', 'job', '--etcd-password-file', path.join(authDir, 'bad'), '-l', 'x', '--', 'true']);
  assert.equal([bad.code, bad.stderr], [77, 'lockd-run: the etcd cluster refused us: authentication failed, invalid user ID or password\n']);
  const none = await lockdRun(authCluster.endpoints, ['-l', 'x', '--', 'true']);
  assert.is(none.code, 77, none.stderr);
  assert.match(none.stderr, /^lockd-run: the etcd cluster refused us: [^\n]+ \(give --etcd-user and --etcd-password-file, or LOCKD_ETCD_USER\)\n$/);
  const other = await lockdRun(authCluster.endpoints, ['--etcd-user', 'job', '--etcd-password-file', path.join(authDir, 'good'), '--etcd-prefix', 'other/', '-l', 'x', '--', 'true']);
  assert.equal([other.code, other.stderr], [77, 'lockd-run: the etcd cluster refused us: permission denied\n']);
});

auth.run();

const tls = suite('lockd-run on etcd over TLS');
let tlsCluster, certs;
tls.before(async () => {
  certs = makeCerts();
  tlsCluster = await startEtcdCluster({ tls: { certFile: certs.f('server.pem'), keyFile: certs.f('server.key') } });
});
tls.after(async () => {
  await tlsCluster?.close();
  certs?.remove();
});

tls('etcds:// with --tls-ca: the lock is taken; without the CA: 69 with one line', async () => {
  const r = await lockdRun(tlsCluster.tlsEndpoints, ['--tls-ca', certs.f('ca.pem'), '-l', 'x', '--', 'echo', 'ran']);
  assert.equal([r.code, r.stdout, r.stderr], [0, 'ran\n', '']);
  const untrusting = await lockdRun(tlsCluster.tlsEndpoints, ['--connect-timeout', '2s', '-l', 'x', '--', 'true']);
  assert.is(untrusting.code, 69);
  assert.match(untrusting.stderr, /^lockd-run: cannot reach the etcd cluster at etcds:\/\/[^\n]+\n$/);
  // TLS options on a plain etcd:// target are a mistake, said as such.
  const plain = await lockdRun(tlsCluster.endpoints, ['--tls-ca', certs.f('ca.pem'), '-l', 'x', '--', 'true']);
  assert.equal([plain.code, plain.stderr], [64, 'lockd-run: TLS with etcd: use etcds://\n']);
});

tls.run();
