// Half-open connections across a real (virtual) network: two network
// namespaces made by this test, joined by a veth pair. Taking the client's
// link down makes it vanish without a FIN or RST: the server must release its
// locks within the keepalive bound, and lockd-run must notice that its server
// is gone within its ping bound and stop its command (exit 74).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch } from './helpers/run.js';

const test = suite('netns');
const RUN = fileURLToPath(new URL('../bin/lockd-run', import.meta.url));
const SERVER = fileURLToPath(new URL('../bin/lockd-server', import.meta.url));
const tag = `${process.pid % 100000}`;
const SRV_NS = `lockd-s${tag}`;
const CLI_NS = `lockd-c${tag}`;
const octet = (process.pid % 200) + 20;
const SRV_IP = `10.254.${octet}.1`;
const CLI_IP = `10.254.${octet}.2`;

function why() {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'no `ip netns` (Debian package iproute2)';
  }
  return null;
}

const ip = (...args) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (ns, file, args) => launch('ip', ['netns', 'exec', ns, file, ...args]);

function setUp() {
  ip('netns', 'add', SRV_NS);
  ip('netns', 'add', CLI_NS);
  ip('link', 'add', `vs${tag}`, 'type', 'veth', 'peer', 'name', `vc${tag}`);
  ip('link', 'set', `vs${tag}`, 'netns', SRV_NS);
  ip('link', 'set', `vc${tag}`, 'netns', CLI_NS);
  ip('-n', SRV_NS, 'addr', 'add', `${SRV_IP}/30`, 'dev', `vs${tag}`);
  ip('-n', CLI_NS, 'addr', 'add', `${CLI_IP}/30`, 'dev', `vc${tag}`);
  for (const [ns, dev] of [[SRV_NS, `vs${tag}`], [CLI_NS, `vc${tag}`]]) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
}

function tearDown() {
  for (const ns of [SRV_NS, CLI_NS]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not there
    }
  }
}

const reason = why();
if (reason) {
  test(`skipped: ${reason}`, () => {
    console.log(`  netns tests skipped: ${reason}`);
  });
} else {
  test('a vanished client\'s locks are released within the keepalive bound; lockd-run notices its vanished server and exits 74', async () => {
    setUp();
    const procs = [];
    try {
      const server = inNs(SRV_NS, SERVER, ['-t', `${SRV_IP}:9999`, '--keepalive', '1s', '--verbose']);
      procs.push(server);
      await server.waitFor(/listening on/);
      // The client host takes the lock and runs a long command under it.
      const holder = inNs(CLI_NS, RUN, ['-S', `${SRV_IP}:9999`, '--ping-interval', '300ms', '--kill-after', '500ms',
        '-l', 'job', '--', process.execPath, '-e', "console.log('ready'); setInterval(() => {}, 1000)"]);
      procs.push(holder);
      await holder.waitFor(/ready/);
      // On the server host, another lockd-run queues for the same lock.
      const waiter = inNs(SRV_NS, RUN, ['-S', `${SRV_IP}:9999`, '-l', 'job', '-w', '40s', '--', 'true']);
      procs.push(waiter);
      await server.waitFor(/waits for lock job/);
      // The client host's link goes down: no FIN, no RST, just silence.
      const downAt = Date.now();
      ip('-n', CLI_NS, 'link', 'set', `vc${tag}`, 'down');
      const lost = await holder.exited;
      const lostAfter = Date.now() - downAt;
      assert.is(lost.code, 74, holder.stderr);
      assert.match(holder.stderr, /lost lock "job": the lock server has not answered/);
      // Documented bound: 2 to 3 ping intervals (+ the kill grace).
      assert.ok(lostAfter < 3 * 300 + 500 + 1500, `lockd-run noticed after ${lostAfter} ms`);
      const granted = await waiter.exited;
      const releasedAfter = Date.now() - downAt;
      assert.is(granted.code, 0, waiter.stderr);
      // Documented bound: keepalive idle time + 10 probes 1 s apart (+ scheduling slack).
      assert.ok(releasedAfter < 1000 + 10_000 + 3000, `the server released the lock after ${releasedAfter} ms`);
      assert.match(server.stdout, /disconnected, orphaning 1 lock/);
      console.log(`  netns: lockd-run noticed after ${lostAfter} ms; server released after ${releasedAfter} ms`);
    } finally {
      for (const p of procs) p.child.kill('SIGKILL');
      tearDown();
    }
  });
}

test.run();
