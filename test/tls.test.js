// TLS on the TCP listener: server certificates, client certificates, lockds://.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { connect, LockdError } from '../dist/index.js';
import { start, until } from './helpers/server.js';
import { lockdRun } from './helpers/run.js';
import { makeCerts, opensslMissing } from './helpers/certs.js';

const test = suite('tls');
const reason = opensslMissing();

if (reason) {
  test(`skipped: ${reason}`, () => console.log(`  tls tests skipped: ${reason}`));
} else {
  const certs = makeCerts();

  test('a TLS listener: the client verifies the server with the CA; lockds:// works', async () => {
    const server = await start({ tls: { cert: certs.cert, key: certs.key } });
    const c = connect(`lockds://127.0.0.1:${server.tcp.port}`, { tls: { ca: certs.ca } });
    assert.is(await c.get('x'), 1);
    assert.ok((await c.connected()).extended);
    await c.disconnect();
    // Without the CA the self-made certificate is refused.
    const untrusting = connect(`lockds://127.0.0.1:${server.tcp.port}`);
    untrusting.on('error', () => {});
    try {
      await untrusting.get('x');
      assert.unreachable();
    } catch (err) {
      assert.instance(err, LockdError);
      assert.is(err.code, 'ECONNECT');
      assert.match(err.message, /certificate/);
    }
    // A plain-text client gets nothing sensible: no lock is taken.
    const plain = net.connect(server.tcp.port, '127.0.0.1');
    plain.on('error', () => {});
    plain.write('g x\ni y\n');
    await new Promise((r) => plain.once('close', r));
    const check = connect(`127.0.0.1:${server.tcp.port}`, { tls: { ca: certs.ca } });
    assert.is(await check.inspect('x'), 0);
    await check.disconnect();
    await server.destroy();
  });

  test('--tls-ca on the server: client certificates are required', async () => {
    const server = await start({ tls: { cert: certs.cert, key: certs.key, ca: certs.ca } });
    const withCert = connect(`lockds://127.0.0.1:${server.tcp.port}`, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    assert.is(await withCert.get('x'), 1);
    await withCert.disconnect();
    const without = connect(`lockds://127.0.0.1:${server.tcp.port}`, { tls: { ca: certs.ca } });
    without.on('error', () => {});
    try {
      await without.get('x');
      assert.unreachable();
    } catch (err) {
      assert.ok(['ECONNECT', 'ECONNCLOSED'].includes(err.code), err.code);
    }
    await server.destroy();
  });

  test('lockd-run --tls-ca and -S lockds://', async () => {
    const server = await start({ tls: { cert: certs.cert, key: certs.key } });
    const r = await lockdRun(`lockds://127.0.0.1:${server.tcp.port}`, ['--tls-ca', certs.f('ca.pem'), '-l', 'x', '-c', 'echo in $LOCKD_LOCK']);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'in x\n');
    const r2 = await lockdRun(`127.0.0.1:${server.tcp.port}`, ['--tls-ca', certs.f('ca.pem'), '-l', 'x', '--', 'true']);
    assert.is(r2.code, 0, r2.stderr);
    const plain = await lockdRun(`127.0.0.1:${server.tcp.port}`, ['-l', 'x', '--', 'true']);
    assert.is(plain.code, 69);
    assert.match(plain.stderr, /^lockd-run: cannot reach the lock server at 127\.0\.0\.1:\d+: .*closed the connection before answering\n$/);
    const bad = await lockdRun(`lockds://127.0.0.1:${server.tcp.port}`, ['-l', 'x', '--', 'true']);
    assert.is(bad.code, 69);
    assert.match(bad.stderr, /^lockd-run: cannot reach the lock server at lockds:\/\/127\.0\.0\.1:\d+: .*certificate/);
    await server.destroy();
  });

  test('connections still in their TLS handshake count against --max-connections', async () => {
    const warned = [];
    const server = await start({ tls: { cert: certs.cert, key: certs.key }, limits: { maxConnections: 2 }, warn: (m) => warned.push(m) });
    const port = server.tcp.port;
    // Two TCP connections that never start a handshake.
    const idle = await Promise.all([0, 1].map(() => new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
    })));
    const refused = connect(`lockds://127.0.0.1:${port}`, { tls: { ca: certs.ca } });
    refused.on('error', () => {});
    try {
      await refused.get('x');
      assert.unreachable('a third connection got in');
    } catch (err) {
      assert.ok(['ECONNECT', 'ECONNCLOSED'].includes(err.code), err.code);
    }
    assert.match(warned.join('\n'), /2 connections, the most allowed; refused/);
    // Once they go, their places are free again. (Reset: a FIN alone leaves the
    // server's side open until the handshake timeout, and counted till then.)
    for (const s of idle) s.resetAndDestroy();
    await until(async () => {
      const c = connect(`lockds://127.0.0.1:${port}`, { tls: { ca: certs.ca } });
      c.on('error', () => {});
      const ok = await c.get('x').then(() => true, () => false);
      c.destroy();
      return ok;
    }, 'a TLS client to get in');
    await server.destroy();
  });

  test.after(() => certs.remove());
}

test.run();
