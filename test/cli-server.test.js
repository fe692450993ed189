// The lockd-server command line, as a real process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Raw } from './helpers/raw.js';

const BIN = fileURLToPath(new URL('../bin/lockd-server', import.meta.url));
const test = suite('lockd-server CLI');

function run(args) {
  return new Promise((resolve) => {
    execFile(BIN, args, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

/** Starts the server with --verbose and resolves once it says where it listens. */
async function startCli(args, env = process.env) {
  const child = spawn(BIN, ['--verbose', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => (out += d));
  while (!/listening on/.test(out)) await once(child.stdout, 'data');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  return { child, port, output: () => out };
}

test('logs: the start-up line without -v, with the real port; every line stamped; one line at shutdown', async () => {
  const TS = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
  const start = async (env) => {
    const child = spawn(BIN, ['--tcp', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    while (!/listening on/.test(out)) await once(child.stdout, 'data');
    return { child, output: () => out };
  };
  const inherited = { ...process.env };
  delete inherited.JOURNAL_STREAM;
  const s = await start(inherited);
  const [, port] = new RegExp(`^${TS} lockd-server \\S+ listening on 127\\.0\\.0\\.1:(\\d+)\\n$`).exec(s.output()) ?? [];
  assert.ok(Number(port) > 0, s.output());
  const c = await Raw.open(Number(port));
  assert.is(await c.ask('i x'), '0 Lock Not Locked: x');
  s.child.kill('SIGTERM');
  await once(s.child, 'close');
  assert.match(s.output().split('\n')[1], new RegExp(`^${TS} SIGTERM: shutting down, closing 1 connection\\(s\\)$`));
  // Under systemd the journal stamps lines itself.
  const j = await start({ ...inherited, JOURNAL_STREAM: '8:12345' });
  assert.match(j.output(), /^lockd-server \S+ listening on 127\.0\.0\.1:\d+\n$/);
  j.child.kill('SIGTERM');
  assert.equal(await once(j.child, 'close'), [0, null], 'a TERM right after the start-up line is handled');
  assert.match(j.output().split('\n')[1], /^SIGTERM: shutting down/);
});

test('--help lists every option; --version prints the version', async () => {
  const help = await run(['--help']);
  assert.is(help.code, 0);
  for (const opt of ['--tcp', '--unix', '--disable-dump', '--disable-registry', '--pid-file', '--max-line', '--verbose', '--version']) {
    assert.ok(help.stdout.includes(opt), opt);
  }
  const version = await run(['--version']);
  assert.match(version.stdout, /^lockd-server\/\d+\.\d+\.\d+/);
});

test('a usage error is one line and exit 64', async () => {
  const r = await run(['--bogus']);
  assert.is(r.code, 64);
  assert.match(r.stderr, /^lockd-server: unknown option --bogus; try 'lockd-server --help'\n$/);
  assert.not.match(r.stderr, /at /);
});

test('a taken port is a clear message and exit 71, not a stack trace', async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const port = blocker.address().port;
  const r = await run(['--tcp', `127.0.0.1:${port}`]);
  blocker.close();
  assert.is(r.code, 71);
  assert.is(r.stderr, `lockd-server: cannot listen on 127.0.0.1:${port}: address already in use\n`);
});

test('serves, logs with --verbose, writes and removes its pid file, shuts down cleanly on SIGTERM', async () => {
  const pidFile = `/tmp/lockd-test-${process.pid}.pid`;
  const { child, port, output } = await startCli(['--tcp', '127.0.0.1:0', '--pid-file', pidFile]);
  assert.is(fs.readFileSync(pidFile, 'utf8'), `${child.pid}\n`);
  const c = await Raw.open(port);
  assert.is(await c.ask('g job'), '1 Lock Get Success: job');
  await c.end();
  while (!/orphaning 1 lock/.test(output())) await once(child.stdout, 'data');
  assert.match(output(), /connected/);
  assert.match(output(), /obtained lock job/);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.is(code, 0);
  assert.not.ok(fs.existsSync(pidFile));
});

test('SIGINT also shuts down cleanly; --unix listens on a socket and removes it', async () => {
  const path = `/tmp/lockd-test-cli-${process.pid}.sock`;
  const child = spawn(BIN, ['--unix', path, '--verbose'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!/listening on unix:/.test(out)) await once(child.stdout, 'data');
  assert.not.match(out, /:9999/, 'no TCP when only --unix is given');
  const c = await Raw.openUnix(path);
  assert.match(await c.ask('me'), /^1 unix:1 unix:1$/);
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.is(code, 0);
  assert.not.ok(fs.existsSync(path));
});

test('--disable-dump and --disable-registry switch the features off', async () => {
  const { child, port } = await startCli(['-t', '127.0.0.1:0', '--disable-dump', '--disable-registry']);
  const c = await Raw.open(port);
  assert.is(await c.ask('d'), '0 disabled');
  assert.is(await c.ask('iam x'), '0 disabled');
  child.kill();
  await once(child, 'exit');
});

test('under --pending-deprecation, where touching Node\'s native handles would print a warning: every reply, in order, and no warning', async () => {
  const { child, port } = await startCli(['--tcp', '127.0.0.1:0'], { ...process.env, NODE_OPTIONS: '--pending-deprecation' });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const c = await Raw.open(port);
  const names = Array.from({ length: 3000 }, (_, i) => `lock${i}`);
  // A burst, then a half-close: every reply must still arrive, the last ones after our FIN.
  c.socket.end(names.map((n) => `g ${n}\ni ${n}\n`).join(''));
  const lines = await c.read(2 * names.length);
  assert.equal(lines, names.flatMap((n) => [`1 Lock Get Success: ${n}`, `1 Lock Is Locked: ${n}`]));
  await c.closedByServer();
  child.kill();
  await once(child, 'exit');
  assert.is(stderr, '');
});

test.run();
