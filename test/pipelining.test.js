// Many commands in one packet, one command over many packets, and backpressure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import { start as startServer, until, statsOf, kernelHoldsBytes } from './helpers/server.js';
import { Raw } from './helpers/raw.js';

// The server reads its sockets directly (adopt-socket.ts) unless it cannot; both ways must behave the same.
for (const [mode, options] of [['direct reads', {}], ["'data' events", { dataEvents: true }]]) {
  const start = (o = {}) => startServer({ ...options, ...o });
  const test = suite(`pipelining, ${mode}`);
  let server;
  test.before.each(async () => {
    server = await start();
  });
  test.after.each(async () => {
    await server.destroy();
  });

  function expected(i) {
    switch (i % 4) {
      case 0: return [`g lock${i}`, `1 Lock Get Success: lock${i}`];
      case 1: return [`i lock${i - 1}`, `1 Lock Is Locked: lock${i - 1}`];
      case 2: return [`r lock${i - 2}`, `1 Lock Release Success: lock${i - 2}`];
      default: return [`sg pool`, `1 Shared Lock Get Success: pool`];
    }
  }

  test('10,000 commands in one write: 10,000 replies in order', async () => {
    const c = await Raw.open(server.tcp.port);
    const pairs = Array.from({ length: 10000 }, (_, i) => expected(i));
    c.send(pairs.map(([req]) => req).join('\n') + '\n');
    const lines = await c.read(10000);
    assert.equal(lines, pairs.map(([, reply]) => reply));
  });

  test('one byte per write: same replies as one write', async () => {
    const c = await Raw.open(server.tcp.port);
    c.socket.setNoDelay(true);
    const pairs = Array.from({ length: 40 }, (_, i) => expected(i));
    const bytes = Buffer.from(pairs.map(([req]) => req).join('\r\n') + '\r\n');
    for (const byte of bytes) {
      // Wait for each byte to be flushed so that the server really sees it alone.
      await new Promise((r) => c.socket.write(Buffer.of(byte), r));
    }
    assert.equal(await c.read(40), pairs.map(([, reply]) => reply));
  });

  test('replies to one read go out in one write', async () => {
    const socket = net.connect(server.tcp.port, '127.0.0.1');
    await once(socket, 'connect');
    const requests = Array.from({ length: 200 }, (_, i) => `i x${i}\n`).join('');
    socket.write(requests);
    // The first chunk we receive must carry every reply (they fit in one segment on loopback).
    const [first] = await once(socket, 'data');
    assert.is(first.toString().split('\n').length - 1, 200);
    socket.destroy();
  });

  test('a client that sends without reading cannot grow server memory: reading stops, then it is cut off', async () => {
    const s2 = await start({ limits: { maxPendingOutput: 64 * 1024, writeTimeout: 300 }, warn: () => {} });
    try {
      const socket = net.connect(s2.tcp.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.pause();
      socket.on('error', () => {});
      const closed = new Promise((r) => socket.once('close', r));
      const chunk = 'q\n'.repeat(50000);
      let sent = 0;
      const pump = () => {
        while (!socket.destroyed && sent < 400 && socket.write(chunk)) sent++;
        if (!socket.destroyed && sent < 400) socket.once('drain', pump);
      };
      pump();
      await closed;
      // The server stopped reading long before we could send all of it: our writes backed up.
      assert.ok(sent < 400, `sent ${sent} chunks`);
    } finally {
      await s2.destroy();
    }
  });

  test('replies the kernel has not taken count against the output limit, even when each read brings few replies', async () => {
    const s2 = await start({ limits: { maxPendingOutput: 64 * 1024, writeTimeout: 300 }, warn: () => {} });
    try {
      const socket = net.connect(s2.tcp.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.setNoDelay(true); // each chunk its own segment, so each its own read
      socket.pause();
      socket.on('error', () => {});
      const watcher = await Raw.open(s2.tcp.port);
      // 2 KB of replies per chunk, far under the limit; the round trip on the
      // second connection lets the server read each chunk on its own.
      const chunk = 'i x\n'.repeat(100);
      // Replies of three times what the kernel holds for a client that does not read.
      const chunks = Math.max(8000, Math.ceil((3 * kernelHoldsBytes()) / (100 * '0 Lock Not Locked: x\n'.length)));
      let sent = 0;
      while (!socket.destroyed && sent < chunks) {
        socket.write(chunk);
        sent++;
        await watcher.ask('i y');
      }
      // The server must have stopped reading, then cut the client off (which
      // this paused client may only learn from a failed write).
      await until(async () => statsOf(await watcher.askAll('q')).connections === 1, 'the client to be cut off');
    } finally {
      await s2.destroy();
    }
  });

  test('a burst whose replies overflow the output limit is throttled, not lost: every reply arrives in order', async () => {
    const s2 = await start({ limits: { maxPendingOutput: 1024 }, warn: () => {} });
    try {
      const c = await Raw.open(s2.tcp.port);
      const pairs = Array.from({ length: 5000 }, (_, i) => expected(i));
      c.send(pairs.map(([req]) => req).join('\n') + '\n');
      assert.equal(await c.read(5000), pairs.map(([, reply]) => reply));
    } finally {
      await s2.destroy();
    }
  });

  test('a lone busy client, then a crowd: each reply to its own client, in order, hand-offs included', async () => {
    // Whichever way a reply goes out (a lone client's at once, a crowd's in a
    // batch at the end of the turn), it must reach its own client in order.
    const lone = await Raw.open(server.tcp.port);
    for (let i = 0; i < 20; i++) assert.is(await lone.ask(`g solo${i}`), `1 Lock Get Success: solo${i}`);
    const crowd = await Promise.all(Array.from({ length: 20 }, () => Raw.open(server.tcp.port)));
    crowd.forEach((c) => c.send('wg -1 solo0\nr solo0\n'));
    lone.send('r solo0\ni solo1\n');
    assert.equal(await lone.read(2), ['1 Lock Release Success: solo0', '1 Lock Is Locked: solo1']);
    // solo0 passes down the queue: every client is granted it once, and releases it.
    const replies = await Promise.all(crowd.map((c) => c.read(2)));
    for (const [grant, release] of replies) {
      assert.match(grant, /^1 \d+ Lock Get Success: solo0$/);
      assert.is(release, '1 Lock Release Success: solo0');
    }
  });

  test('a waiting command holds back later lines; they run in order once it is answered', async () => {
    const a = await Raw.open(server.tcp.port);
    const b = await Raw.open(server.tcp.port);
    await a.ask('g x');
    b.send('wg -1 x\ni y\ng y\n');
    assert.is(await a.ask('i y'), '0 Lock Not Locked: y');
    await a.ask('r x');
    const [grant, inspect, get] = await b.read(3);
    assert.match(grant, /^1 \d+ Lock Get Success: x$/);
    assert.is(inspect, '0 Lock Not Locked: y');
    assert.is(get, '1 Lock Get Success: y');
  });

  test.run();
}
