// Locks on a real three-member etcd cluster (Debian's etcd-server, etcd 3.4).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connectEtcd } from '../dist/etcd/connect.js';
import { parseEtcdTarget } from '../dist/etcd/target.js';
import { startEtcdCluster } from './helpers/etcd-cluster.js';
import { until } from './helpers/server.js';

const test = suite('etcd locks');
let cluster, target, open;
test.before(async () => {
  cluster = await startEtcdCluster();
});
test.after(async () => {
  await cluster.close();
});
test.before.each(() => {
  // Each test its own prefix: no test sees another's keys.
  target = parseEtcdTarget(cluster.endpoints, `lockd-test-${Math.random().toString(36).slice(2)}/`, 2);
  open = [];
});
test.after.each(async () => {
  await Promise.all(open.map((c) => c.disconnect()));
});

async function client(name) {
  const c = await connectEtcd(target, { name });
  open.push(c);
  await c.connected();
  return c;
}

test('exclusive: a second contender is refused at once, naming the holder; released, it gets it', async () => {
  const [a, b] = [await client('host:1:backup.sh'), await client('host:2:backup.sh')];
  const first = await a.acquire('backup');
  assert.is(first.count, 1);
  try {
    await b.acquire('backup');
    assert.unreachable('busy');
  } catch (err) {
    assert.is(err.code, 'ELOCKBUSY');
    assert.equal(err.holders, ['host:1:backup.sh']);
  }
  assert.is(await a.release('backup'), 1);
  const second = await b.acquire('backup');
  assert.ok(second.token > first.token, 'tokens increase');
});

test('waiters are served in arrival order, each the moment the lock is freed', async () => {
  const holder = await client('holder');
  await holder.acquire('job');
  const order = [];
  const waiters = [];
  for (let i = 0; i < 4; i++) {
    const w = await client(`w${i}`);
    // Queued in this order: each put is made before the next waiter starts.
    const granted = w.acquire('job', { wait: 20_000 }).then(async (g) => {
      order.push(i);
      await w.release('job');
      return g;
    });
    waiters.push(granted);
    await until(async () => (await cluster.count(`${target.prefix}x/job/`)) === i + 2, `waiter ${i} to queue`);
  }
  await holder.release('job');
  const grants = await Promise.all(waiters);
  assert.equal(order, [0, 1, 2, 3]);
  assert.equal(grants.map((g) => g.token).sort((x, y) => x - y), grants.map((g) => g.token));
});

test('shared with max 3: 12 contenders, never more than 3 at once, all served', async () => {
  let alive = 0;
  let most = 0;
  const runs = Array.from({ length: 12 }, async (_, i) => {
    const c = await client(`c${i}`);
    await c.acquire('api', { shared: true, max: 3, wait: 30_000 });
    alive++;
    most = Math.max(most, alive);
    await new Promise((r) => setTimeout(r, 30));
    alive--;
    await c.releaseShared('api');
  });
  await Promise.all(runs);
  assert.is(most, 3);
});

test('a wait that runs out rejects ELOCKBUSY and leaves no key behind', async () => {
  const [a, b, c] = [await client('a'), await client('b'), await client('c')];
  await a.acquire('x');
  const started = Date.now();
  try {
    await b.acquire('x', { wait: 300 });
    assert.unreachable('timed out');
  } catch (err) {
    assert.is(err.code, 'ELOCKBUSY');
  }
  assert.ok(Date.now() - started >= 300);
  await a.release('x');
  // b's key is gone: c is next, not behind b.
  assert.is((await c.acquire('x')).count, 1);
});

test('a waiter behind one that gives up still gets the lock when it is freed', async () => {
  const [a, b, c] = [await client('a'), await client('b'), await client('c')];
  await a.acquire('x');
  const gaveUp = b.acquire('x', { wait: 300 }).then(() => 'granted', (err) => err.code);
  await until(async () => (await cluster.count(`${target.prefix}x/x/`)) === 2, 'b to queue');
  const granted = c.acquire('x', { wait: 20_000 });
  await until(async () => (await cluster.count(`${target.prefix}x/x/`)) === 3, 'c to queue');
  assert.is(await gaveUp, 'ELOCKBUSY');
  await a.release('x');
  assert.is((await granted).count, 1);
});

test('different maximums for one name: each counts the keys ahead against its own', async () => {
  const [a, b, c, d] = [await client('a'), await client('b'), await client('c'), await client('d')];
  await a.acquire('pool', { shared: true, max: 2 });
  await b.acquire('pool', { shared: true, max: 2 });
  // Two ahead: under c's maximum of 3, over d's of 1.
  assert.is((await c.acquire('pool', { shared: true, max: 3 })).count, 3);
  const refused = await d.acquire('pool', { shared: true, max: 1 }).then(() => null, (err) => err);
  assert.is(refused.code, 'ELOCKBUSY');
  assert.equal(refused.holders, ['a']);
  // Holders never exceed the largest maximum in use: a fourth with max 3 waits.
  const fourth = await d.acquire('pool', { shared: true, max: 3 }).then(() => null, (err) => err.code);
  assert.is(fourth, 'ELOCKBUSY');
});

test('the library: a string target; what etcd cannot answer rejects with a code', async () => {
  const c = await connectEtcd(cluster.endpoints, { name: 'lib', prefix: target.prefix, ttl: 2 });
  open.push(c);
  const grant = await c.acquire('pool', { shared: true, max: 2 });
  assert.is(grant.count, 1);
  assert.ok(Number.isInteger(grant.token) && grant.token > 0);
  assert.equal((await c.contenders()).map((k) => [k.lock, k.shared, k.holder]), [['pool', true, 'lib']]);
  assert.is(await c.releaseShared('pool'), 1);
  const codes = async (p) => p.then(() => 'resolved', (err) => `${err.code}: ${err.message}`);
  assert.is(await codes(c.release('pool')), 'ENOTHELD: Lock Release Failure: pool');
  assert.match(await codes(c.clients()), /^EUNSUPPORTED: /);
  assert.match(await codes(c.stats()), /^EUNSUPPORTED: /);
  assert.match(await codes(connectEtcd('http://127.0.0.1:2379')), /^EINVAL: "http:\/\/127.0.0.1:2379" is not etcd:\/\//);
  assert.match(await codes(connectEtcd(cluster.endpoints, { ttl: 1 })), /^EINVAL: an etcd lease TTL of 1s/);
});

test.run();

const ha = suite('etcd locks when members fail');
let haCluster;
ha.before.each(async () => {
  haCluster = await startEtcdCluster();
});
ha.after.each(async () => {
  await haCluster.close();
});

ha('the leader killed: the lock holds through the election, and stays busy to others', async () => {
  const t = parseEtcdTarget(haCluster.endpoints, 'lockd/', 2);
  const [a, b] = [await connectEtcd(t, { name: 'a' }), await connectEtcd(t, { name: 'b' })];
  const lost = [];
  a.on('lost', (err) => lost.push(err));
  await a.acquire('job');
  await haCluster.stop(await haCluster.leader());
  // Longer than the TTL: the lease must have been kept alive through the new leader.
  const started = Date.now();
  while (Date.now() - started < 3000) {
    try {
      await b.acquire('job');
      assert.unreachable('the lock was free while a held it');
    } catch (err) {
      if (err.code !== 'ELOCKBUSY') throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(lost, []);
  await Promise.all([a.disconnect(), b.disconnect()]);
});

ha('quorum lost (two of three members stopped): the holder is told within the TTL plus a bound', async () => {
  const t = parseEtcdTarget(haCluster.endpoints, 'lockd/', 2);
  const a = await connectEtcd(t, { name: 'a' });
  await a.acquire('job');
  const lost = new Promise((resolve) => a.on('lost', resolve));
  const started = Date.now();
  await haCluster.stop(0);
  await haCluster.stop(1);
  const err = await lost;
  const took = Date.now() - started;
  assert.match(err.message, /^the etcd (lease was lost|cluster has not renewed the lease for its TTL \(2s\))/);
  // The TTL from the last renewal; the last member may renew until it finds it has no quorum.
  assert.ok(took <= 2000 + 2500, `lost after ${took} ms`);
  await a.disconnect();
});

ha('tokens keep increasing across a member\'s restart', async () => {
  const t = parseEtcdTarget(haCluster.endpoints, 'lockd/', 2);
  const a = await connectEtcd(t, { name: 'a' });
  const first = (await a.acquire('job')).token;
  await a.release('job');
  await haCluster.stop(0);
  await haCluster.start(0);
  const second = (await a.acquire('job')).token;
  assert.ok(second > first, `${second} after ${first}`);
  await a.disconnect();
});

ha.run();
