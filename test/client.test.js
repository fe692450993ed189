// The client library against lockd-server and against the doubles of the
// old servers: the original Node lockd, and glockd as it really behaves.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import { connect, LockdError } from '../dist/index.js';
import { start, until, sendWithoutNewline } from './helpers/server.js';
import { startOldServer } from './helpers/old-server.js';

async function rejects(promise, code, message) {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, LockdError);
    assert.instance(err, Error);
    assert.is(err.code, code);
    if (message !== undefined) assert.is(err.message, message);
    return err;
  }
  assert.unreachable(`expected a ${code} rejection`);
}


const address = async (c) => (await c.getName()).address;

// The same behaviour is asserted against the three servers.
for (const kind of ['lockd-server', 'node', 'glockd']) {
  const test = suite(`client against ${kind === 'lockd-server' ? kind : `the ${kind} double`}`);
  const old = kind !== 'lockd-server';
  let server, port, c1, c2;
  test.before.each(async () => {
    if (kind === 'lockd-server') {
      server = await start();
      port = server.tcp.port;
    } else {
      server = await startOldServer({ kind });
      port = server.port;
    }
    c1 = connect({ tcp: `127.0.0.1:${port}` });
    c2 = connect(`127.0.0.1:${port}`);
  });
  test.after.each(async () => {
    await c1.disconnect();
    await c2.disconnect();
    if (old) {
      // To glockd, one request at a time: it never had a line to drop.
      assert.is(server.dropped, 0, 'request lines dropped by glockd');
      await server.close();
    } else {
      await server.destroy();
    }
  });

  test('detects the server kind', async () => {
    const info = await c1.connected();
    assert.is(info.extended, !old);
    assert.match(await address(c1), /^127\.0\.0\.1:\d+$/);
  });

  test('get, inspect, release; get rejects with the server message when taken', async () => {
    assert.is(await c1.get('asdf'), 1);
    assert.is(await c1.get('asdf'), 1);
    await rejects(c2.get('asdf'), 'ELOCKBUSY', 'Lock Get Failure: asdf');
    assert.is(await c2.inspect('asdf'), 1);
    await rejects(c2.release('asdf'), 'ENOTHELD', 'Lock Release Failure: asdf');
    assert.is(await c1.release('asdf'), 1);
    assert.is(await c1.inspect('asdf'), 0);
  });

  test('calls made before the handshake keep their order: acquire then release frees the lock', async () => {
    const c = connect(`127.0.0.1:${port}`);
    const [grant, released] = await Promise.all([c.acquire('ordered'), c.release('ordered'), c.acquire('pool', { shared: true }), c.releaseShared('pool')]);
    assert.is(grant.count, 1);
    assert.is(released, 1);
    assert.is(await c2.inspect('ordered'), 0);
    assert.is(await c2.inspectShared('pool'), 0);
    await c.disconnect();
  });

  if (old) {
    test('a request longer than one glockd read is refused before it is sent; the connection goes on', async () => {
      const name = 'n'.repeat(4095);
      await rejects(c1.get(name), 'EINVAL', 'a request of more than 4096 bytes, which an old server (glockd) would cut');
      await rejects(c1.dump(name), 'EINVAL');
      assert.is(await c1.get('n'.repeat(4093)), 1, 'a line of exactly 4096 bytes is sent');
      assert.is(await c1.inspect('after'), 0);
    });
  }

  test('shared locks: counts', async () => {
    assert.is(await c1.inspectShared('pool'), 0);
    assert.is(await c1.getShared('pool'), 1);
    assert.is(await c2.getShared('pool'), 2);
    assert.is(await c1.inspectShared('pool'), 2);
    assert.is(await c2.releaseShared('pool'), 1);
    await rejects(c2.releaseShared('pool'), 'ENOTHELD', 'Shared Lock Release Failure: pool');
    assert.is(await c1.inspectShared('pool'), 1);
  });

  test('dumps resolve to objects and arrays, without waiting on any timeout', async () => {
    const a1 = (await address(c1));
    const a2 = (await address(c2));
    assert.equal(await c1.dump(), {});
    assert.is(await c1.dump('none'), null);
    assert.equal(await c1.dumpShared('none'), []);
    await c1.get('one');
    await c2.get('two');
    await c1.getShared('pool');
    await c2.getShared('pool');
    assert.equal(await c1.dump(), { one: a1, two: a2 });
    assert.is(await c2.dump('one'), a1);
    assert.equal(await c1.dumpShared(), { pool: [a1, a2] });
    assert.equal(await c1.dumpShared('pool'), [a1, a2]);
  });

  test('names: getName, setName, listClients; dumps show names', async () => {
    const a1 = (await address(c1));
    assert.equal(await c1.getName(), { address: a1, name: a1 });
    await c1.setName('c1');
    assert.equal(await c1.getName(), { address: a1, name: 'c1' });
    await c1.get('held');
    assert.equal({ ...(await c2.dump()) }, { held: 'c1' });
    assert.equal({ ...(await c2.listClients()) }, { c1: a1 });
    assert.is(await c2.listClients('c1'), a1);
    assert.is(await c2.listClients('nobody'), null);
    await c1.setName('');
    assert.equal(await c1.getName(), { address: a1, name: a1 });
  });

  test('dumps of one lock: the lock named "", and names that hold ": "', async () => {
    const a1 = (await address(c1));
    await c1.get('');
    await c1.get('a: b');
    await c2.get('a');
    assert.is(await c2.dump(''), a1);
    assert.is(await c2.dump('a: b'), a1);
    assert.is(await c1.dump('free'), null);
    await c1.release('');
    assert.is(await c2.dump(''), null, 'other locks are held, not this one');
    await c1.getShared('');
    await c2.getShared('x: y');
    assert.equal(await c2.dumpShared(''), [a1]);
    assert.equal(await c1.dumpShared('x: y'), [(await address(c2))]);
  });

  test('a dump pipelined right behind setName still ends where it should', async () => {
    await c1.connected();
    await c1.get('x');
    const [, dump, name] = await Promise.all([c1.setName('renamed'), c1.dump(), c1.getName()]);
    assert.equal({ ...dump }, { x: 'renamed' });
    assert.is(name.name, 'renamed');
  });

  test('getStats resolves to numbers', async () => {
    await c1.get('x');
    const stats = await c1.getStats();
    assert.is(stats.locks, 1);
    assert.is(stats.connections, 2);
  });

  test('calls made before the connection is up are queued; 500 pipelined calls match their replies', async () => {
    const c = connect(`127.0.0.1:${port}`);
    const calls = [];
    for (let i = 0; i < 500; i++) {
      calls.push(i % 2 ? c.inspect(`p${i - 1}`) : c.get(`p${i}`));
    }
    assert.equal(await Promise.all(calls), calls.map(() => 1));
    await c.disconnect();
  });

  test('acquire: immediate grant, busy, and waiting until released', async () => {
    const g = await c1.acquire('job');
    assert.is(g.count, 1);
    if (kind === 'lockd-server') assert.type(g.token, 'number');
    else assert.is(g.token, null);
    await rejects(c2.acquire('job'), 'ELOCKBUSY');
    const waiting = c2.acquire('job', { wait: Infinity });
    await c1.release('job');
    assert.is((await waiting).count, 1);
    assert.is(await c1.inspect('job'), 1);
    await rejects(c1.get('job'), 'ELOCKBUSY');
  });

  test('acquire: a wait that times out rejects ELOCKBUSY', async () => {
    await c1.get('job');
    await rejects(c2.acquire('job', { wait: 50 }), 'ELOCKBUSY');
    // And the connection is still in step afterwards.
    assert.is(await c2.inspect('job'), 1);
  });

  test('acquire shared with max: never over the maximum', async () => {
    await c1.acquire('pool', { shared: true, max: 1 });
    await rejects(c2.acquire('pool', { shared: true, max: 1 }), 'ELOCKBUSY');
    assert.is(await c2.inspectShared('pool'), 1);
    const waiting = c2.acquire('pool', { shared: true, max: 1, wait: Infinity });
    await c1.releaseShared('pool');
    assert.is((await waiting).count, 1);
  });

  test('acquire made before the handshake answers: granted by lockd-server, or by the fallback on an old server', async () => {
    const c = connect(`127.0.0.1:${port}`);
    const named = c.setName('early');
    const grant = await c.acquire('early-job');
    await named;
    assert.is(grant.count, 1);
    assert.is(grant.token === null, old);
    assert.is(await c.dump('early-job'), 'early');
    await rejects(c2.acquire('early-job'), 'ELOCKBUSY');
    // Two connections asking at once, both before their handshakes: one gets in.
    const [s1, s2] = [connect(`127.0.0.1:${port}`), connect(`127.0.0.1:${port}`)];
    const results = await Promise.allSettled([s1, s2].map((s) => s.acquire('early-pool', { shared: true, max: 1 })));
    assert.equal(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.is(results.find((r) => r.status === 'fulfilled').value.count, 1);
    assert.is(results.find((r) => r.status === 'rejected').reason.code, 'ELOCKBUSY');
    assert.is(await c.inspectShared('early-pool'), 1);
    await Promise.all([s1.disconnect(), s2.disconnect(), c.disconnect()]);
  });

  test('an acquire held back behind a multi-line call made before the handshake answers', async () => {
    const c = connect(`127.0.0.1:${port}`);
    const dumped = c.dump();
    const shares = c.getShared('held-back-pool');
    const grant = c.acquire('held-back', { wait: 1000 });
    const after = c.inspectShared('held-back-pool');
    assert.equal({ ...(await dumped) }, {});
    assert.is(await shares, 1);
    assert.is((await grant).count, 1);
    assert.is(await after, 1, 'replies still matched to their calls');
    await c.disconnect();
  });

  test('an early shared acquire behind an early getShared of the same lock keeps the share', async () => {
    const c = connect(`127.0.0.1:${port}`);
    await c2.getShared('both');
    const joined = c.getShared('both');
    const grant = c.acquire('both', { shared: true, max: 1 });
    assert.is(await joined, 2);
    assert.is((await grant).count, 2);
    assert.is(await c2.inspectShared('both'), 2);
    await c.disconnect();
  });

  test('acquire of a shared lock already held: granted, and the share kept, even over the maximum', async () => {
    await c1.getShared('pool');
    await c2.getShared('pool');
    assert.is((await c1.acquire('pool', { shared: true, max: 1 })).count, 2);
    assert.is(await c2.inspectShared('pool'), 2);
    assert.is(await c1.releaseShared('pool'), 1);
    await rejects(c1.acquire('pool', { shared: true, max: 1 }), 'ELOCKBUSY');
    assert.is(await c1.inspectShared('pool'), 1);
  });

  test('ping', async () => {
    assert.type(await c1.ping(), 'number');
  });

  test('pending calls reject ECONNCLOSED when the connection drops', async () => {
    await c2.get('never');
    const p = c1.acquire('never', { wait: Infinity });
    c1.destroy();
    await rejects(p, 'ECONNCLOSED');
    await rejects(c1.get('after'), 'ECONNCLOSED');
  });

  test.run();
}

const misc = suite('client errors');

misc('a name with a line break is refused before it reaches the wire', async () => {
  const server = await start();
  const c = connect(`127.0.0.1:${server.tcp.port}`);
  await rejects(c.get('a\nb'), 'EINVAL');
  assert.is(await c.get('ok'), 1);
  await c.disconnect();
  await server.destroy();
});

misc('connection refused rejects every call with ECONNECT', async () => {
  const server = await start();
  const port = server.tcp.port;
  await server.destroy();
  const c = connect(`127.0.0.1:${port}`);
  c.on('error', () => {});
  const err = await rejects(c.get('x'), 'ECONNECT');
  assert.match(err.message, /ECONNREFUSED/);
  await rejects(c.connected(), 'ECONNECT');
});

misc('a server that accepts but never answers: connect timeout rejects ETIMEDOUT', async () => {
  const silent = net.createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const c = connect(`127.0.0.1:${silent.address().port}`, { connect: 100 });
  c.on('error', () => {});
  await rejects(c.get('x'), 'ETIMEDOUT');
  silent.close();
});

misc('reply lines: up to MAX_REPLY_LINE characters taken whole, longer ones refused with EPROTOCOL', async () => {
  const MAX = 4 * 1024 * 1024;
  const cases = [
    // Taken as a line: the handshake then finds it is not one it knows.
    ['x'.repeat(MAX) + '\n', /^unexpected handshake reply from the lock server: x{80}…$/],
    // Three bytes a character: 6 MiB, but 2 Mi characters.
    ['\u20ac'.repeat(MAX / 2) + '\n', /^unexpected handshake reply from the lock server: \u20ac{80}…$/],
    ['x'.repeat(MAX + 1) + '\n', /^a reply line longer than 4194304 characters$/],
    [sendWithoutNewline, /^a reply line longer than 4194304 characters$/],
  ];
  for (const [send, message] of cases) {
    let peerClosed;
    const peer = net.createServer((socket) => {
      socket.on('error', () => {});
      peerClosed = new Promise((resolve) => socket.once('close', resolve));
      socket.resume(); // reading, so that it sees the client's FIN
      if (typeof send === 'function') send(socket);
      else socket.write(send);
    });
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    try {
      const c = connect(`127.0.0.1:${peer.address().port}`);
      c.on('error', () => {});
      const err = await rejects(c.connected(), 'EPROTOCOL');
      assert.match(err.message, message);
      // The client hung up: the peer sees its side close.
      await peerClosed;
    } finally {
      peer.close();
    }
  }
});

misc('a server at its connection limit: ECONNECT, saying so', async () => {
  const server = await start({ limits: { maxConnections: 1 }, warn: () => {} });
  const first = connect(`127.0.0.1:${server.tcp.port}`);
  await first.connected();
  const c = connect(`127.0.0.1:${server.tcp.port}`);
  c.on('error', () => {});
  const err = await rejects(c.connected(), 'ECONNECT');
  assert.is(err.message, 'the lock server is at its connection limit');
  await first.disconnect();
  await server.destroy();
});

misc('unix socket', async () => {
  const path = `/tmp/lockd-test-${process.pid}.sock`;
  const server = await start({ unix: path, port: undefined, host: undefined });
  const c = connect({ unix: path });
  assert.match(await address(c), /^unix:\d+$/);
  assert.is(await c.get('x'), 1);
  await c.disconnect();
  await server.destroy();
});

misc('IPv6 loopback', async () => {
  const server = await start({ host: '::1' });
  const c = connect(`[::1]:${server.tcp.port}`);
  assert.match(await address(c), /^\[::1\]:\d+$/);
  assert.is(await c.get('x'), 1);
  await c.disconnect();
  await server.destroy();
});

misc('a host name, and an IPv4 address in a short form', async () => {
  const server = await start({ host: '127.0.0.1' });
  for (const host of ['localhost', '127.1']) {
    const c = connect(`${host}:${server.tcp.port}`);
    assert.is(await c.get('x'), 1, host);
    await c.disconnect();
  }
  await server.destroy();
});

misc('disconnect resolves once the server has closed too, and its locks are free by then', async () => {
  const server = await start();
  const [c, other] = [connect(`127.0.0.1:${server.tcp.port}`), connect(`127.0.0.1:${server.tcp.port}`)];
  await c.get('x');
  await c.disconnect();
  assert.ok(c.isClosed);
  assert.is(await other.inspect('x'), 0);
  await other.disconnect();
  await server.destroy();
});

misc('the server going away rejects pending calls ECONNCLOSED and emits close', async () => {
  const server = await start();
  const [c, holder] = [connect(`127.0.0.1:${server.tcp.port}`), connect(`127.0.0.1:${server.tcp.port}`)];
  await holder.get('x');
  const waiting = c.acquire('x', { wait: Infinity });
  const closed = once(c, 'close');
  await until(() => server.waiting('x') === 1, 'the wait to be queued');
  await server.destroy();
  await rejects(waiting, 'ECONNCLOSED');
  await closed;
  await rejects(c.get('y'), 'ECONNCLOSED');
});

misc('a reply split inside a multi-byte character is read whole', async () => {
  const server = await start();
  // Passes the server's replies on one byte at a time.
  const proxy = net.createServer((client) => {
    const upstream = net.connect(server.tcp.port, '127.0.0.1');
    client.pipe(upstream);
    let queue = Promise.resolve();
    upstream.on('data', (chunk) => {
      for (const byte of chunk) {
        queue = queue.then(() => new Promise((r) => client.write(Buffer.of(byte), () => setTimeout(r, 1))));
      }
    });
    upstream.on('end', () => queue.then(() => client.end()));
    client.on('error', () => upstream.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  // Garbled, the replies would not match their calls: fail rather than hang.
  const c = connect(`127.0.0.1:${proxy.address().port}`, { request: 5000 });
  await c.setName('n\u00e9 \u{1f512}');
  await c.get('\u00fcber');
  assert.equal({ ...(await c.dump()) }, { '\u00fcber': 'n\u00e9 \u{1f512}' });
  await c.disconnect();
  proxy.close();
  await server.destroy();
});

misc.run();

const off = suite('client against the glockd double with its registry off');
let offServer, offPort;
off.before.each(async () => {
  offServer = await startOldServer({ kind: 'glockd', registry: false });
  offPort = offServer.port;
});
off.after.each(async () => {
  assert.is(offServer.dropped, 0, 'request lines dropped by glockd');
  await offServer.close();
});

off('every single-line call works; setName and listClients say the registry is off', async () => {
  const [c, other] = [connect(`127.0.0.1:${offPort}`), connect(`127.0.0.1:${offPort}`)];
  assert.is((await c.connected()).extended, false);
  await rejects(c.setName('x'), 'EDISABLED');
  await rejects(c.listClients(), 'EDISABLED');
  assert.is(await c.get('job'), 1);
  await rejects(other.get('job'), 'ELOCKBUSY', 'Lock Get Failure: job');
  assert.is(await other.inspect('job'), 1);
  assert.is(await c.getShared('pool'), 1);
  assert.is(await other.getShared('pool'), 2);
  assert.is(await c.inspectShared('pool'), 2);
  const third = connect(`127.0.0.1:${offPort}`);
  await rejects(third.acquire('pool', { shared: true, max: 2 }), 'ELOCKBUSY', 'Shared Lock Get Failure: pool');
  assert.is(await other.releaseShared('pool'), 1);
  assert.is((await third.acquire('pool', { shared: true, max: 2 })).count, 2);
  await third.disconnect();
  assert.type(await c.ping(), 'number');
  assert.is((await c.getStats()).locks, 1);
  assert.is(await c.release('job'), 1);
  assert.equal(await c.acquire('job', { wait: 1000 }), { count: 1, token: null });
  await Promise.all([c.disconnect(), other.disconnect()]);
});

off('a call it never answers ends with a clear ETIMEDOUT after a bound, not never', async () => {
  const c = connect(`127.0.0.1:${offPort}`);
  c.on('error', () => {});
  await c.get('held');
  const err = await rejects(c.dump(), 'ETIMEDOUT');
  assert.match(err.message, /^no reply to "d" from the lock server within 3000 ms \(glockd started with -registry=false never answers me, d or sd\)$/);
  assert.ok(c.isClosed, 'closed: later replies would be out of step');
  const fast = connect(`127.0.0.1:${offPort}`, { request: 100 });
  fast.on('error', () => {});
  await rejects(fast.getName(), 'ETIMEDOUT');
});

const blank = suite('multi-line replies with blank lines in them');

blank('blank lines are not entries', async () => {
  const server = await startOldServer({ blankLines: true });
  const [c, other] = [connect(`127.0.0.1:${server.port}`), connect(`127.0.0.1:${server.port}`)];
  await c.setName('holder');
  await c.get('asdf');
  await c.getShared('pool');
  assert.equal({ ...(await other.dump()) }, { asdf: 'holder' });
  assert.equal({ ...(await other.dumpShared()) }, { pool: ['holder'] });
  assert.equal({ ...(await other.listClients()) }, { holder: await address(c) });
  assert.ok(!('' in (await other.getStats())));
  await Promise.all([c.disconnect(), other.disconnect()]);
  await server.close();
});

off.run();
blank.run();
