// Who may connect, and limits: auth tokens, connection limits, slow and greedy clients.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { connect, LockdError } from '../dist/index.js';
import { start, until } from './helpers/server.js';
import { Raw } from './helpers/raw.js';
import { launch, lockdRun, LOCKD_SERVER } from './helpers/run.js';

const TOKEN = 's3cret-token';
const test = suite('hardening');
let server, warnings, tmp;
test.before.each(async () => {
  warnings = [];
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-hard-'));
  server = await start({ authToken: TOKEN, limits: { authFailureDelay: 100 }, warn: (m) => warnings.push(m) });
});
test.after.each(async () => {
  await server.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function lockFree(name) {
  const c = await Raw.open(server.tcp.port);
  assert.is(await c.ask(`auth ${TOKEN}`), '1 ok');
  const reply = await c.ask(`i ${name}`);
  await c.end();
  return reply === `0 Lock Not Locked: ${name}`;
}

test('auth: the right token first lets everything through', async () => {
  const c = await Raw.open(server.tcp.port);
  assert.is(await c.ask(`auth ${TOKEN}`), '1 ok');
  assert.is(await c.ask('g x'), '1 Lock Get Success: x');
  assert.is(await c.ask(`auth ${TOKEN}`), '1 ok');
});

test('auth: a wrong token gets one error line after the delay, then close; no lock taken', async () => {
  const c = await Raw.open(server.tcp.port);
  const started = Date.now();
  c.send('auth wrong\ng x\n');
  assert.is(await c.ask(''), '0 Authentication failed');
  assert.ok(Date.now() - started >= 90, 'answered only after the fixed delay');
  await c.closedByServer();
  assert.is(c.lines.length, 0, 'nothing after the error line');
  assert.ok(await lockFree('x'));
  assert.match(warnings.join('\n'), /wrong auth token, connection closed/);
});

test('auth: any other command first is refused the same way', async () => {
  const c = await Raw.open(server.tcp.port);
  c.send('g x\n');
  assert.is(await c.ask(''), '0 Authentication required');
  await c.closedByServer();
  assert.ok(await lockFree('x'));
});

test('auth: a connection that says nothing is closed after the line timeout', async () => {
  const s = await start({ authToken: TOKEN, limits: { lineTimeout: 150 }, warn: (m) => warnings.push(m) });
  const c = await Raw.open(s.tcp.port);
  await c.closedByServer();
  assert.match(warnings.join('\n'), /no auth within 150 ms, connection closed/);
  await s.destroy();
});

test('client library: authToken, and EAUTH without it or with a wrong one', async () => {
  const ok = connect(`127.0.0.1:${server.tcp.port}`, { authToken: TOKEN });
  assert.is(await ok.get('x'), 1);
  assert.ok((await ok.connected()).capabilities.includes('auth'));
  await ok.disconnect();
  for (const options of [{}, { authToken: 'nope' }]) {
    const bad = connect(`127.0.0.1:${server.tcp.port}`, options);
    bad.on('error', () => {});
    // Both are pipelined behind the refused handshake: both fail EAUTH, and nothing is taken.
    for (const call of [bad.acquire('x'), bad.get('y')]) {
      try {
        await call;
        assert.unreachable('should be refused');
      } catch (err) {
        assert.instance(err, LockdError);
        assert.is(err.code, 'EAUTH');
      }
    }
  }
  const check = connect(`127.0.0.1:${server.tcp.port}`, { authToken: TOKEN });
  assert.is(await check.inspect('x'), 0);
  assert.is(await check.inspect('y'), 0);
  await check.disconnect();
});

test('lockd-run: token from --auth-token-file or LOCKD_AUTH_TOKEN, never the command line; 77 when refused', async () => {
  const addr = `127.0.0.1:${server.tcp.port}`;
  const file = path.join(tmp, 'token');
  fs.writeFileSync(file, `${TOKEN}\n`);
  assert.is((await lockdRun(addr, ['--auth-token-file', file, '-l', 'x', '--', 'true'])).code, 0);
  const viaEnv = await lockdRun(addr, ['-l', 'x', '--', 'true'], { env: { LOCKD_AUTH_TOKEN: TOKEN } });
  assert.is(viaEnv.code, 0);
  const none = await lockdRun(addr, ['-l', 'x', '--', 'true'], { env: { LOCKD_AUTH_TOKEN: '' } });
  assert.is(none.code, 77);
  assert.is(none.stderr, 'lockd-run: the lock server refused us: Authentication required (give --auth-token-file or LOCKD_AUTH_TOKEN)\n');
  const missing = await lockdRun(addr, ['--auth-token-file', path.join(tmp, 'nope'), '-l', 'x', '--', 'true']);
  assert.is(missing.code, 78);
  assert.match(missing.stderr, /^lockd-run: cannot read the auth token file .*nope: ENOENT\n$/);
  const long = path.join(tmp, 'long-token');
  fs.writeFileSync(long, `${'t'.repeat(4091)}\n`);
  const tooLong = await lockdRun(addr, ['--auth-token-file', long, '-l', 'x', '--', 'true']);
  assert.is(tooLong.code, 78);
  assert.is(tooLong.stderr, `lockd-run: the auth token in ${long} is longer than 4090 bytes\n`);
});

test('the longest auth token (4090 bytes, one glockd read with its line) works; a longer one is refused up front', async () => {
  const token = 't'.repeat(4090);
  const s = await start({ authToken: token });
  const c = connect(`127.0.0.1:${s.tcp.port}`, { authToken: token });
  assert.is(await c.get('x'), 1);
  await c.disconnect();
  const bad = connect(`127.0.0.1:${s.tcp.port}`, { authToken: `${token}t` });
  bad.on('error', () => {});
  try {
    await bad.connected();
    assert.unreachable('should be refused');
  } catch (err) {
    assert.is(err.code, 'EINVAL');
    assert.is(err.message, 'an auth token longer than 4090 bytes');
  }
  await s.destroy();
  for (const options of [{ authToken: `${token}t` }, { limits: { maxLine: 4095 } }]) {
    try {
      await start(options);
      assert.unreachable('listen() should refuse it');
    } catch (err) {
      assert.instance(err, RangeError);
    }
  }
});

test('a server without a token answers auth with 1 ok, so clients may always send it', async () => {
  const open = await start();
  const c = connect(`127.0.0.1:${open.tcp.port}`, { authToken: 'anything' });
  assert.is(await c.get('x'), 1);
  await c.disconnect();
  await open.destroy();
});

test.run();

const limits = suite('limits');

limits('--max-connections: the one over the limit gets an error line, then close', async () => {
  const warned = [];
  const s = await start({ limits: { maxConnections: 2 }, warn: (m) => warned.push(m) });
  const a = await Raw.open(s.tcp.port);
  const b = await Raw.open(s.tcp.port);
  await a.ask('ping');
  await b.ask('ping');
  const c = await Raw.open(s.tcp.port);
  assert.is((await c.read(1))[0], '0 Too many connections');
  await c.closedByServer();
  assert.match(warned[0], /2 connections, the most allowed; refused/);
  await a.end();
  await until(() => s.connections === 1, 'a to be gone');
  const d = await Raw.open(s.tcp.port);
  assert.is(await d.ask('g x'), '1 Lock Get Success: x');
  await s.destroy();
});

limits('connections per client address', async () => {
  const s = await start({ limits: { maxConnectionsPerAddress: 1 }, warn: () => {} });
  const a = await Raw.open(s.tcp.port);
  await a.ask('ping');
  const b = await Raw.open(s.tcp.port);
  assert.is((await b.read(1))[0], '0 Too many connections');
  // Another address (127.0.0.2 is loopback too) is not affected.
  const socket = net.connect({ port: s.tcp.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  await once(socket, 'connect');
  const other = new Raw(socket);
  assert.is(await other.ask('g y'), '1 Lock Get Success: y');
  await s.destroy();
});

limits('a partial line that trickles in too slowly is dropped; an idle lock holder never is', async () => {
  const warned = [];
  const s = await start({ limits: { lineTimeout: 150 }, warn: (m) => warned.push(m) });
  const idle = await Raw.open(s.tcp.port);
  assert.is(await idle.ask('g held'), '1 Lock Get Success: held');
  const slow = await Raw.open(s.tcp.port);
  slow.send('g sl');
  await slow.closedByServer();
  assert.match(warned.join('\n'), /request line not completed within 150 ms, connection closed/);
  // The idle holder outlived the slow one by far more than the line timeout: still served, still holding.
  await new Promise((r) => setTimeout(r, 300));
  assert.is(await idle.ask('i held'), '1 Lock Is Locked: held');
  assert.not.ok(idle.closed);
  await s.destroy();
});

limits('a client that keeps completing lines is not cut off, even if every read ends mid-line', async () => {
  const s = await start({ limits: { lineTimeout: 200 }, warn: () => {} });
  const c = await Raw.open(s.tcp.port);
  c.send('i a');
  const until = Date.now() + 600;
  for (let i = 0; Date.now() < until; i++) {
    // Complete the pending line and start the next one in the same write.
    c.send(`${i}\ni b`);
    await c.read(1);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.not.ok(c.closed);
  await s.destroy();
});

limits('locks per connection', async () => {
  const s = await start({ limits: { maxLocksPerConnection: 2 }, warn: () => {} });
  const c = await Raw.openExt(s.tcp.port);
  assert.is(await c.ask('g a'), '1 Lock Get Success: a');
  assert.match(await c.ask('sg b'), /^1 Shared Lock Get Success: b$/);
  assert.is(await c.ask('g c'), '0 (too many locks) Lock Get Failure: c');
  assert.is(await c.ask('sg d'), '0 (too many locks) Shared Lock Get Failure: d');
  assert.is(await c.ask('wg 0 e'), '0 (too many locks) Lock Get Failure: e');
  assert.is(await c.ask('g a'), '1 Lock Get Success: a', 'a lock already held is still fine');
  assert.is(await c.ask('r a'), '1 Lock Release Success: a');
  assert.is(await c.ask('g c'), '1 Lock Get Success: c');
  // A client that never said hello gets the old failure replies.
  const old = await Raw.open(s.tcp.port);
  await old.ask('g x');
  await old.ask('g y');
  assert.is(await old.ask('g z'), '0 Lock Get Failure: z');
  assert.is(await old.ask('sg z'), '0 Shared Lock Get Failure: z');
  await s.destroy();
});

limits('lockd-server warns once at start-up when listening beyond loopback without auth', async () => {
  const run = async (args) => {
    const p = launch(LOCKD_SERVER, ['--verbose', ...args]);
    await p.waitFor(/listening on/);
    p.child.kill();
    await p.exited;
    return p.stderr;
  };
  assert.match(await run(['-t', '0.0.0.0:0']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z lockd-server: WARNING: listening on 0\.0\.0\.0:\d+ beyond loopback with no --auth-token-file/);
  assert.is(await run(['-t', '127.0.0.1:0']), '');
  const file = path.join(os.tmpdir(), `lockd-token-${process.pid}`);
  fs.writeFileSync(file, 'x\n');
  assert.is(await run(['-t', '0.0.0.0:0', '--auth-token-file', file]), '');
  fs.rmSync(file);
});

limits.run();
