// lockd-ctl as a real process against lockd-server and the old servers' doubles.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../dist/index.js';
import { start, until } from './helpers/server.js';
import { startOldServer } from './helpers/old-server.js';
import { launch, LOCKD_CTL } from './helpers/run.js';

async function ctl(addr, args, env) {
  const proc = launch(LOCKD_CTL, ['-S', addr, ...args], { env });
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** A named connection; resolves once the server has its name. */
async function named(addr, name) {
  const c = connect(addr);
  await c.setName(name);
  return c;
}

/** The rows of a lockd-ctl table, split on runs of two or more spaces. */
const rows = (text) => text.trimEnd().split('\n').map((line) => line.split(/ {2,}/));

const test = suite('lockd-ctl against lockd-server');
let server, addr, clients;
test.before.each(async () => {
  server = await start();
  addr = `127.0.0.1:${server.tcp.port}`;
  clients = [];
});
test.after.each(async () => {
  await Promise.all(clients.map((c) => c.disconnect()));
  await server.destroy();
});

/** The state the tests look at: backup held by db1 with two waiters; api shared by two with max 3; a plain lock. */
async function scene() {
  const [db1, w1, w2, web1, web2] = await Promise.all(['db1', 'w1', 'w2', 'web1', 'web2'].map((n) => named(addr, n)));
  clients.push(db1, w1, w2, web1, web2);
  const backupToken = (await db1.acquire('backup')).token;
  w1.acquire('backup', { wait: 60_000 }).catch(() => {});
  await until(() => server.waiting('backup') === 1, 'w1 to queue');
  w2.acquire('backup', { wait: 60_000 }).catch(() => {});
  await until(() => server.waiting('backup') === 2, 'w2 to queue');
  await web1.acquire('api', { shared: true, max: 3 });
  await web2.acquire('api', { shared: true, max: 3 });
  await db1.get('apple pie: with ": "');
  return { backupToken };
}

test('list: one aligned row per lock, sorted, with holders, max, age, token, waiters', async () => {
  const { backupToken } = await scene();
  const r = await ctl(addr, ['list']);
  assert.is(r.code, 0, r.stderr);
  const [header, ...body] = rows(r.stdout);
  assert.equal(header, ['NAME', 'MODE', 'HOLDERS', 'AGE', 'TOKEN', 'WAITERS', 'HELD BY']);
  assert.equal(body.map((row) => row[0]), ['api', 'apple pie: with ": "', 'backup']);
  const [api, , backup] = body;
  assert.equal([api[1], api[2], api[5], api[6]], ['shared', '2/3', '0', 'web1, web2']);
  assert.equal([backup[1], backup[2], backup[4], backup[5], backup[6]], ['exclusive', '1', String(backupToken), '2', 'db1']);
  assert.match(backup[3], /^\d+(ms|\.\ds|s)$/);
  // Columns line up: every row's second column starts where the header's does.
  const at = r.stdout.split('\n')[0].indexOf('MODE');
  for (const line of r.stdout.trimEnd().split('\n').slice(1)) assert.is(line.slice(at - 2, at), '  ');
});

test('list PREFIX and --json: one JSON document with since, age, token and the waiters in order', async () => {
  const { backupToken } = await scene();
  const r = await ctl(addr, ['ls', 'back', '--json']);
  assert.is(r.code, 0, r.stderr);
  const locks = JSON.parse(r.stdout);
  assert.is(locks.length, 1);
  const [lock] = locks;
  assert.is(lock.name, 'backup');
  assert.is(lock.shared, false);
  assert.equal(lock.holders.map((h) => [h.name, h.token, h.max]), [['db1', backupToken, null]]);
  assert.ok(lock.holders[0].since <= Date.now() && lock.holders[0].age >= 0);
  assert.equal(lock.waiters.map((w) => w.name), ['w1', 'w2']);
  assert.match(lock.waiters[0].address, /^127\.0\.0\.1:\d+$/);
});

test('show: every holder, then the waiters in queue order; a free lock says so', async () => {
  await scene();
  const r = await ctl(addr, ['show', 'backup']);
  assert.is(r.code, 0, r.stderr);
  const lines = rows(r.stdout);
  assert.equal(lines[0], ['lock "backup": 1 holder(s)']);
  assert.equal(lines[1], ['HOLDER', 'ADDRESS', 'AGE', 'TOKEN']);
  assert.is(lines[2][0], 'db1');
  assert.equal(lines[3], ['waiters, in queue order: 2']);
  assert.equal(lines.slice(5).map((l) => l[0]), ['w1', 'w2']);
  const shared = await ctl(addr, ['show', '--shared', 'api']);
  assert.match(shared.stdout, /^shared lock "api": 2 holder\(s\), at most 3\n/);
  assert.match(shared.stdout, /\nwaiters: none\n$/);
  const free = await ctl(addr, ['show', 'api']);
  assert.equal([free.code, free.stdout], [0, 'lock "api" is free\n']);
});

test('check: 0 when free, 1 when held naming the holder, -q silent; it takes nothing', async () => {
  await scene();
  const before = await clients[0].stats();
  const held = await ctl(addr, ['check', 'backup']);
  assert.is(held.code, 1);
  assert.match(held.stdout, /^lock "backup" is held by db1 for \d+(ms|\.\ds|s)\n$/);
  const quiet = await ctl(addr, ['check', '-q', '-s', 'api']);
  assert.equal([quiet.code, quiet.stdout], [1, '']);
  const free = await ctl(addr, ['check', 'nobody-has-this']);
  assert.equal([free.code, free.stdout, free.stderr], [0, '', '']);
  const after = await clients[0].stats();
  // Nothing was asked that takes or waits: no grant, no g, sg, wg or wsg at all.
  assert.equal([after.grants_at_once, after.grants_after_wait, after.command_g, after.command_sg], [before.grants_at_once, before.grants_after_wait, before.command_g, before.command_sg]);
  // Two checks of exclusive locks (i), one of a shared one (si), and each check's handshake probe (i).
  assert.is(after.command_i, before.command_i + 2 + 3);
  assert.is(after.command_si, before.command_si + 1);
});

test('names are shown escaped: no control or format character reaches the terminal', async () => {
  const c = await named(addr, 'evil\x1b[2J\u202eredli\u009b');
  clients.push(c);
  await c.get('job\x07');
  const r = await ctl(addr, ['list']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202e]/);
  assert.ok(r.stdout.includes('job\\u{7}'));
  assert.ok(r.stdout.includes('evil\\u{1b}[2J\\u{202e}redli\\u{9b}'));
});

test('clients: each connection with its name, address, locks held and what it waits for', async () => {
  await scene();
  const r = await ctl(addr, ['clients', '--json']);
  assert.is(r.code, 0, r.stderr);
  const byName = Object.fromEntries(JSON.parse(r.stdout).map((c) => [c.name, c]));
  assert.is(byName.db1.locks, 2);
  assert.is(byName.w1.waiting, 'backup');
  assert.is(byName.web1.locks, 1);
  assert.is(byName.web1.waiting, null);
  assert.match(byName.db1.address, /^127\.0\.0\.1:\d+$/);
  const table = await ctl(addr, ['clients']);
  assert.equal(rows(table.stdout)[0], ['NAME', 'ADDRESS', 'LOCKS', 'CONNECTED', 'WAITING FOR']);
});

test('stats: the counters, with those only lockd-server keeps', async () => {
  await scene();
  await clients[0].release('backup'); // w1 gets it after waiting
  const r = await ctl(addr, ['stats', '--json']);
  assert.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.is(s.locks, 2);
  assert.is(s.waiters, 1);
  assert.is(s.shared_holders, 2);
  assert.is(s.grants_at_once, 4);
  assert.is(s.grants_after_wait, 1);
  assert.is(s.releases, 1);
  assert.is(s.command_q, 0);
  const text = await ctl(addr, ['stats']);
  assert.ok(rows(text.stdout).some(([key, value]) => key === 'waiters' && value === '1'));
});

test('the dump feature off: list, show and clients exit 69 saying so; check still answers', async () => {
  const off = await start({ disableDump: true });
  const offAddr = `127.0.0.1:${off.tcp.port}`;
  const holder = connect(offAddr);
  await holder.get('x');
  for (const args of [['list'], ['show', 'x'], ['clients']]) {
    const r = await ctl(offAddr, args);
    assert.is(r.code, 69);
    assert.is(r.stderr, `lockd-ctl: the server at ${offAddr} has its dump feature off: it shows no holders\n`);
  }
  const check = await ctl(offAddr, ['check', 'x']);
  assert.equal([check.code, check.stdout], [1, 'lock "x" is held\n']);
  await holder.disconnect();
  await off.destroy();
});

test('usage errors exit 64 with one line; an unreachable server 69 (check too)', async () => {
  for (const [args, message] of [
    [[], "no command given; try 'lockd-ctl --help'"],
    [['frobnicate'], 'unknown command "frobnicate"; try \'lockd-ctl --help\''],
    [['show'], "show: missing NAME; try 'lockd-ctl show --help'"],
    [['check', 'a', 'b'], 'check: unexpected argument "b"; try \'lockd-ctl check --help\''],
    [['list', '--shared'], '--shared is not an option of "list"; try \'lockd-ctl list --help\''],
    [['check', ''], 'the lock name is empty'],
  ]) {
    const r = await ctl(addr, args);
    assert.equal([r.code, r.stderr], [64, `lockd-ctl: ${message}\n`], args.join(' '));
  }
  const probe = await start();
  const gone = `127.0.0.1:${probe.tcp.port}`;
  await probe.destroy();
  for (const args of [['list'], ['check', 'x']]) {
    const r = await ctl(gone, args);
    assert.equal([r.code, r.stderr], [69, `lockd-ctl: cannot reach the lock server at ${gone}: connection refused\n`]);
  }
});

test('LOCKD_SERVER and LOCKD_AUTH_TOKEN from the environment', async () => {
  const guarded = await start({ authToken: 'sesame', warn: () => {} });
  const env = { LOCKD_SERVER: `127.0.0.1:${guarded.tcp.port}` };
  const refused = launch(LOCKD_CTL, ['list'], { env: { ...env, LOCKD_AUTH_TOKEN: '' } });
  assert.is((await refused.exited).code, 77);
  const ok = launch(LOCKD_CTL, ['stats'], { env: { ...env, LOCKD_AUTH_TOKEN: 'sesame' } });
  assert.is((await ok.exited).code, 0, ok.stderr);
  await guarded.destroy();
});

test.run();

for (const [kind, registry] of [['node', true], ['glockd', true], ['glockd', false]]) {
  const old = suite(`lockd-ctl against the ${kind} double${registry ? '' : ' with its registry off'}`);
  let oldServer, oldAddr, held;
  old.before.each(async () => {
    oldServer = await startOldServer({ kind, registry });
    oldAddr = `127.0.0.1:${oldServer.port}`;
    const [a, b] = [connect(oldAddr), connect(oldAddr)];
    if (registry) await Promise.all([a.setName('db1'), b.setName('web1')]);
    await a.get('backup');
    await a.getShared('api');
    await b.getShared('api');
    held = [a, b];
  });
  old.after.each(async () => {
    await Promise.all(held.map((c) => c.disconnect()));
    assert.is(oldServer.dropped, 0, 'request lines dropped by glockd');
    await oldServer.close();
  });

  if (registry) {
    old('list and show: what d and sd tell; ages, tokens and waiters are "-"', async () => {
      const r = await ctl(oldAddr, ['list']);
      assert.is(r.code, 0, r.stderr);
      assert.equal(rows(r.stdout).slice(1), [
        ['api', 'shared', '2', '-', '-', '-', 'db1, web1'],
        ['backup', 'exclusive', '1', '-', '-', '-', 'db1'],
      ]);
      const json = JSON.parse((await ctl(oldAddr, ['list', '--json'])).stdout);
      assert.equal(json[1].holders, [{ name: 'db1', address: json[1].holders[0].address, since: null, age: null, token: null, max: null }]);
      assert.match(json[1].holders[0].address, /^127\.0\.0\.1:\d+$/);
      assert.is(json[1].waiters, null);
      const show = await ctl(oldAddr, ['show', 'backup']);
      assert.match(show.stdout, /\nwaiters: - \(an old server does not show them\)\n$/);
      const check = await ctl(oldAddr, ['check', 'backup']);
      assert.equal([check.code, check.stdout], [1, 'lock "backup" is held by db1\n']);
    });

    old('clients from who, with the locks each holds; stats from q', async () => {
      const r = await ctl(oldAddr, ['clients', '--json']);
      assert.is(r.code, 0, r.stderr);
      const byName = Object.fromEntries(JSON.parse(r.stdout).map((c) => [c.name, c]));
      assert.equal([byName.db1.locks, byName.web1.locks, byName.db1.since], [2, 1, null]);
      const stats = JSON.parse((await ctl(oldAddr, ['stats', '--json'])).stdout);
      assert.is(stats.locks, 1);
      assert.is(stats.shared_locks, 1);
    });
  } else {
    old('registry off: list exits 69 without asking d (glockd would never answer); check still answers', async () => {
      const r = await ctl(oldAddr, ['list']);
      assert.equal([r.code, r.stderr], [69, `lockd-ctl: the server at ${oldAddr} has its registry off: an old server cannot show holders then\n`]);
      const check = await ctl(oldAddr, ['check', '--shared', 'api']);
      assert.equal([check.code, check.stdout], [1, 'shared lock "api" is held\n']);
      assert.is(oldServer.count('command_d'), 0);
      assert.is(oldServer.count('command_sd'), 0);
      assert.is((await ctl(oldAddr, ['stats'])).code, 0);
    });
  }

  old.run();
}
