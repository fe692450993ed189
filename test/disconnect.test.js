// Ownership across connections, and orphaning on every way a connection ends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import { start as startServer, until, statsOf, kernelHoldsBytes } from './helpers/server.js';
import { Raw } from './helpers/raw.js';

// The server reads its sockets directly (adopt-socket.ts) unless it cannot; both ways must behave the same.
for (const [mode, options] of [['direct reads', {}], ["'data' events", { dataEvents: true }]]) {
  const start = (o = {}) => startServer({ ...options, ...o });
  const test = suite(`disconnect, ${mode}`);
  let server, watcher, warnings;

  test.before.each(async () => {
    warnings = [];
    server = await start({ limits: { maxLine: 4096, writeTimeout: 200, maxPendingOutput: 4096 }, warn: (m) => warnings.push(m) });
    watcher = await Raw.open(server.tcp.port);
  });
  test.after.each(async () => {
    await server.destroy();
  });

  async function holder() {
    const c = await Raw.open(server.tcp.port);
    assert.is(await c.ask('g ex1'), '1 Lock Get Success: ex1');
    assert.is(await c.ask('g ex2'), '1 Lock Get Success: ex2');
    assert.match(await c.ask('sg sh1'), /Shared Lock Get Success: sh1$/);
    await c.ask('iam holder');
    return c;
  }

  async function stats() {
    return statsOf(await watcher.askAll('q'));
  }

  async function assertOrphaned(before) {
    await until(async () => (await stats()).connections === before.connections - 1, 'the close to be seen');
    const after = await stats();
    assert.is(after.orphans - before.orphans, 2, 'orphans');
    assert.is(after.shared_orphans - before.shared_orphans, 1, 'shared_orphans');
    assert.is(after.locks, 0);
    assert.is(after.shared_locks, 0);
    assert.is(await watcher.ask('g ex1'), '1 Lock Get Success: ex1');
    assert.equal(await watcher.askAll('who'), []);
  }

  test('clean close (FIN) releases everything', async () => {
    const c = await holder();
    const before = await stats();
    await c.end();
    await assertOrphaned(before);
  });

  test('a client that half-closes right after its requests still gets every reply', async () => {
    const c = await Raw.open(server.tcp.port);
    c.socket.end('g half\ni half\nsg pool\nme\n');
    assert.equal(await c.read(4), [
      '1 Lock Get Success: half',
      '1 Lock Is Locked: half',
      '1 Shared Lock Get Success: pool',
      `1 ${c.address} ${c.address}`,
    ]);
    await c.closedByServer();
    await until(async () => (await watcher.ask('i half')) === '0 Lock Not Locked: half', 'the lock to be released');
  });

  test('a client that half-closes with more replies due than the kernel holds still gets every one, in order', async () => {
    // Output limit above the burst's replies: the server reads to the EOF
    // while megabytes of replies still wait in its process for the kernel.
    const big = await start({ limits: { maxPendingOutput: 64 << 20 } });
    try {
      const socket = net.connect(big.tcp.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.pause();
      let error = null;
      socket.on('error', (err) => (error = err));
      const name = (i) => `${'n'.repeat(200)}${i}`;
      // Replies of twice what the kernel holds for a client that is not reading.
      const N = Math.max(40_000, Math.ceil((2 * kernelHoldsBytes()) / `0 Lock Not Locked: ${name(0)}\n`.length));
      let burst = '';
      for (let i = 0; i < N; i++) burst += `i ${name(i)}\n`;
      socket.end(burst + 'g last\n');
      const w = await Raw.open(big.tcp.port);
      // Locks go at the EOF: once `last` is orphaned, the server has read everything.
      await until(async () => statsOf(await w.askAll('q')).orphans === 1, 'the EOF to be read');
      socket.resume();
      const chunks = [];
      socket.on('data', (c) => chunks.push(c));
      await once(socket, 'close');
      assert.is(error, null);
      const lines = Buffer.concat(chunks).toString('latin1').split('\n');
      assert.is(lines.pop(), '');
      assert.is(lines.length, N + 1);
      for (let i = 0; i < N; i++) if (lines[i] !== `0 Lock Not Locked: ${name(i)}`) assert.unreachable(`reply ${i}: ${lines[i].slice(0, 60)}`);
      assert.is(lines[N], '1 Lock Get Success: last');
    } finally {
      await big.destroy();
    }
  });

  test('many clients leaving at once: every lock is released and every socket closed', async () => {
    const n = 300; // several of the close queue's batches
    const clients = await Promise.all(Array.from({ length: n }, () => Raw.open(server.tcp.port)));
    const grants = await Promise.all(clients.map((c, i) => c.ask(`g many${i}`)));
    assert.ok(grants.every((g, i) => g === `1 Lock Get Success: many${i}`));
    const before = await stats();
    assert.is(before.locks, n);
    for (const c of clients) c.socket.end();
    await until(() => clients.every((c) => c.closed), 'the server to close every client socket');
    const after = await stats();
    assert.is(after.locks, 0);
    assert.is(after.orphans - before.orphans, n);
    assert.is(after.connections, 1);
    await until(() => server.connections === 1, 'the server to close every socket');
  });

  test('stats and dumps stay consistent while hundreds of holders leave and their waiters get the locks', async () => {
    const n = 400;
    const queued = 100;
    const holders = await Promise.all(Array.from({ length: n }, () => Raw.open(server.tcp.port)));
    await Promise.all(holders.map(async (c, i) => {
      assert.is(await c.ask(`g m${i}`), `1 Lock Get Success: m${i}`);
      assert.match(await c.ask(`sg s${i % 10}`), new RegExp(`^\\d+ Shared Lock Get Success: s${i % 10}$`));
    }));
    const waiters = await Promise.all(Array.from({ length: queued }, () => Raw.openExt(server.tcp.port)));
    waiters.forEach((w, i) => w.send(`wg -1 m${i}\n`));
    await until(() => waiters.every((_, i) => server.waiting(`m${i}`) === 1), 'the waiters to queue');
    const poller = await Raw.openExt(server.tcp.port);
    const reply = async () => {
      const out = [];
      for (let [line] = await poller.read(1); line !== '.'; [line] = await poller.read(1)) out.push(line);
      return out;
    };
    // q, d and sd in one write: the server runs them in one go, so they see the same table.
    const snapshot = async () => {
      poller.send('q\nd\nsd\n');
      return { q: statsOf(await reply()), d: await reply(), sd: await reply() };
    };
    let last = await snapshot();
    assert.equal([last.q.locks, last.d.length, last.q.shared_locks, last.sd.length], [n, n, 10, n]);
    const check = (s) => {
      const names = s.d.map((line) => line.slice(0, line.indexOf(': ')));
      assert.is(names.length, s.q.locks, 'd lists as many locks as q counts');
      assert.is(new Set(names).size, names.length, 'no lock listed twice');
      assert.ok(names.every((name) => /^m\d+$/.test(name)), 'd lists only the locks taken');
      assert.is(new Set(s.sd.map((line) => line.slice(0, line.indexOf(': ')))).size, s.q.shared_locks, 'sd as q counts');
      for (const key of ['locks', 'shared_locks', 'connections']) assert.ok(s.q[key] <= last.q[key], `${key} only fall`);
      last = s;
    };
    // The holders leave in eight waves of 50, each sent without waiting and
    // followed at once by a look at the table, then until everything settles.
    const closing = [];
    let polls = 0;
    for (let wave = 0; wave < 8; wave++) {
      closing.push(...holders.slice(wave * 50, wave * 50 + 50).map((c) => c.end()));
      check(await snapshot());
      polls++;
    }
    const deadline = Date.now() + 20_000;
    while (!(last.q.connections === queued + 2 && last.q.locks === queued)) {
      assert.ok(Date.now() < deadline, `after ${polls} polls the locks were not yet handed over: ${JSON.stringify(last.q)}`);
      check(await snapshot());
      polls++;
    }
    await Promise.all(closing);
    // Each waiter got its lock, and the dump shows just those, each held by its waiter.
    for (const [i, w] of waiters.entries()) assert.match((await w.read(1))[0], new RegExp(`^1 \\d+ Lock Get Success: m${i}$`));
    assert.equal(last.d.sort(), waiters.map((w, i) => `m${i}: ${w.address}`).sort());
    assert.equal(last.sd, []);
    assert.is(last.q.shared_locks, 0);
  });

  test('reset (RST) releases everything', async () => {
    const c = await holder();
    const before = await stats();
    await c.reset();
    await assertOrphaned(before);
  });

  test('a connection the server cuts off (overlong line) releases everything', async () => {
    const c = await holder();
    const before = await stats();
    c.send('g ' + 'x'.repeat(5000) + '\n');
    await c.closedByServer();
    await assertOrphaned(before);
    assert.equal(warnings, ['holder: request line longer than 4096 bytes, connection closed']);
  });

  test('a client that never reads its replies is cut off after the write timeout, and its locks released', async () => {
    const c = await holder();
    const socket = c.socket;
    socket.pause(); // never read again
    const before0 = await stats();
    assert.is(before0.locks, 2);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    // Ask for far more output than the socket buffers hold.
    const flood = 'q\n'.repeat(20000);
    const pump = (err) => { if (!err && !socket.destroyed) socket.write(flood, pump); };
    pump();
    await closed;
    await until(async () => (await stats()).locks === 0, 'the stalled client to be dropped');
    const after = await stats();
    assert.is(after.orphans - before0.orphans, 2);
    assert.is(after.shared_orphans - before0.shared_orphans, 1);
    assert.match(warnings.join('\n'), /replies unread for 200 ms, connection closed/);
  });

  test('server destroy() drops every client', async () => {
    const c = await holder();
    await server.destroy();
    await c.closedByServer();
    assert.ok(c.closed);
  });

  test('ownership: only the holder releases; many clients contend for one lock', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => Raw.open(server.tcp.port)));
    const replies = await Promise.all(clients.map((c) => c.ask('g contested')));
    assert.is(replies.filter((r) => r.startsWith('1 ')).length, 1);
    const winner = clients[replies.findIndex((r) => r.startsWith('1 '))];
    for (const c of clients) {
      if (c !== winner) assert.is(await c.ask('r contested'), '0 Lock Release Failure: contested');
    }
    assert.is(await watcher.ask('i contested'), '1 Lock Is Locked: contested');
    assert.is(await winner.ask('r contested'), '1 Lock Release Success: contested');
    assert.is(await watcher.ask('i contested'), '0 Lock Not Locked: contested');
  });

  test('a disconnect releases only that connection\'s locks', async () => {
    const a = await Raw.open(server.tcp.port);
    const b = await Raw.open(server.tcp.port);
    await a.ask('g mine-a');
    await b.ask('g mine-b');
    await a.ask('sg pool');
    await b.ask('sg pool');
    await a.end();
    await until(async () => (await watcher.ask('i mine-a')) === '0 Lock Not Locked: mine-a', 'orphaning');
    assert.is(await watcher.ask('i mine-b'), '1 Lock Is Locked: mine-b');
    assert.is(await watcher.ask('si pool'), '1 Shared Lock Is Locked: pool');
    assert.equal(await watcher.askAll('sd pool'), [`pool: ${b.address}`]);
  });

  test.run();
}
