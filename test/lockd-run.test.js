// lockd-run as a real process against real servers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { connect } from '../dist/index.js';
import { start, until, sendWithoutNewline } from './helpers/server.js';
import { startOldServer } from './helpers/old-server.js';
import { launch, lockdRun, nodeCommand, startServerProcess, LOCKD_RUN } from './helpers/run.js';

const test = suite('lockd-run');
let server, addr, tmp;

test.before.each(async () => {
  server = await start();
  addr = `127.0.0.1:${server.tcp.port}`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-run-test-'));
});
test.after.each(async () => {
  await server.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A command that prints "ready" and waits until its stdin closes. */
const HOLD = nodeCommand(`console.log('ready'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`);

function holdLock(args) {
  const proc = launch(LOCKD_RUN, ['-S', addr, ...args, '--', ...HOLD]);
  return proc;
}

test('exclusive conflict: a second lockd-run exits 75 at once and says who holds the lock', async () => {
  const holder = holdLock(['--lock', 'job', '--name', 'first-holder']);
  await holder.waitFor(/ready/);
  const second = await lockdRun(addr, ['--lock', 'job', '--', 'echo', 'should not run']);
  assert.is(second.code, 75);
  assert.is(second.stdout, '');
  assert.is(second.stderr, 'lockd-run: lock "job" is busy (held by first-holder)\n');
  const custom = await lockdRun(addr, ['-E', '3', '-q', '--lock', 'job', '--', 'true']);
  assert.is(custom.code, 3);
  assert.is(custom.stderr, '');
  holder.child.stdin.end();
  assert.is((await holder.exited).code, 0);
  assert.is((await lockdRun(addr, ['--lock', 'job', '--', 'true'])).code, 0);
});

test('exit status pass-through: 0, 3, 255, and 128+N for death by signal', async () => {
  for (const status of [0, 3, 255]) {
    const r = await lockdRun(addr, ['-l', 'x', '--', 'sh', '-c', `exit ${status}`]);
    assert.is(r.code, status);
  }
  const killed = await lockdRun(addr, ['-l', 'x', '--', 'sh', '-c', 'kill -KILL $$']);
  assert.is(killed.code, 137);
  const termed = await lockdRun(addr, ['-l', 'x', '-c', 'kill -TERM $$']);
  assert.is(termed.code, 143);
});

test('not found 127, not executable 126, usage errors 64: one line each, no stack trace', async () => {
  const nf = await lockdRun(addr, ['-l', 'x', '--', 'no-such-command-here']);
  assert.is(nf.code, 127);
  assert.is(nf.stderr, 'lockd-run: no-such-command-here: command not found\n');
  const file = path.join(tmp, 'plain');
  fs.writeFileSync(file, 'not a program');
  const ne = await lockdRun(addr, ['-l', 'x', '--', file]);
  assert.is(ne.code, 126);
  assert.is(ne.stderr, `lockd-run: ${file}: cannot run: permission denied\n`);
  for (const [args, message] of [
    [['--', 'true'], 'no lock given: use --lock NAME or --shared NAME'],
    [['-l', 'x'], 'no command given'],
    [['-l', 'x', '--', ''], 'the command is an empty word'],
    [['-l', 'x', '-s', 'y', 'true'], 'give either --lock or --shared, not both'],
    [['-l', 'x', '-m', '3', 'true'], '--max goes with --shared'],
    [['-s', 'x', '-m', 'lots', 'true'], '--max: "lots" is not a whole number from 1 to 999999999'],
    [['-l', 'x', '-w', 'soon', '--', 'true'], '--wait: "soon" is not a duration (examples: 500ms, 30s, 2m, 1.5)'],
    [['-l', 'x', '-n', '-w', '1s', 'true'], 'give either --nonblock or --wait, not both'],
    [['-l', 'x', '-c', 'true', 'false'], 'give either -c STRING or a command, not both'],
    [['-l', 'x', '--on-lost', 'panic', 'true'], '--on-lost: "panic" is not term or ignore'],
  ]) {
    const r = await lockdRun(addr, args);
    assert.is(r.code, 64, args.join(' '));
    assert.is(r.stderr, `lockd-run: ${message}\n`, args.join(' '));
  }
  const unknown = await lockdRun(addr, ['--frobnicate', '-l', 'x', 'true']);
  assert.is(unknown.code, 64);
  assert.match(unknown.stderr, /^lockd-run: unknown option --frobnicate; try 'lockd-run --help'\n$/);
});

test('the command\'s own options stay its own; -c runs a shell string', async () => {
  const r = await lockdRun(addr, ['-l', 'x', 'sh', '-c', 'echo "$0 $1"', '-v', '--lock']);
  assert.is(r.code, 0);
  assert.is(r.stdout, '-v --lock\n');
  const c = await lockdRun(addr, ['-l', 'x', '-c', 'echo "$LOCKD_LOCK via shell"']);
  assert.is(c.stdout, 'x via shell\n');
});

test('stdin, stdout and stderr pass straight through', async () => {
  const r = await lockdRun(addr, ['-l', 'x', '--', 'cat'], { input: 'hi\n' });
  assert.is(r.code, 0);
  assert.is(r.stdout, 'hi\n');
  const e = await lockdRun(addr, ['-l', 'x', '--', 'sh', '-c', 'echo oops >&2']);
  assert.is(e.stderr, 'oops\n');
});

test('the command\'s environment; fencing tokens increase with every grant', async () => {
  const script = 'echo "$LOCKD_LOCK|$LOCKD_MODE|$LOCKD_COUNT|$LOCKD_MAX|$LOCKD_SERVER|$LOCKD_TOKEN"';
  const tokens = [];
  for (let i = 0; i < 3; i++) {
    const r = await lockdRun(addr, ['-l', 'job', '-c', script]);
    const [lock, mode, count, max, srv, token] = r.stdout.trim().split('|');
    assert.equal([lock, mode, count, max, srv], ['job', 'exclusive', '1', '', addr]);
    tokens.push(Number(token));
  }
  const holder = connect(addr);
  await holder.getShared('pool');
  const shared = await lockdRun(addr, ['-s', 'pool', '-m', '5', '-c', script]);
  const [, mode, count, max, , token] = shared.stdout.trim().split('|');
  assert.equal([mode, count, max], ['shared', '2', '5']);
  tokens.push(Number(token));
  await holder.disconnect();
  for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1], `tokens ${tokens}`);
});

test('fencing tokens keep increasing across a server restart', async () => {
  const first = await startServerProcess();
  const before = await lockdRun(first.address, ['-l', 'job', '-c', 'echo $LOCKD_TOKEN']);
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startServerProcess();
  const after = await lockdRun(second.address, ['-l', 'job', '-c', 'echo $LOCKD_TOKEN']);
  second.child.kill();
  await second.exited;
  assert.ok(Number(after.stdout) > Number(before.stdout), `${before.stdout} then ${after.stdout}`);
});

test('waiting: first come first served, handed over on release without polling', async () => {
  const holder = holdLock(['--lock', 'job']);
  await holder.waitFor(/ready/);
  const order = path.join(tmp, 'order');
  const waiters = [];
  for (let i = 0; i < 5; i++) {
    waiters.push(launch(LOCKD_RUN, ['-S', addr, '-l', 'job', '-w', '--', 'sh', '-c', `echo ${i} >> ${order}`]));
    // Each one queued before the next starts, so arrival order is known.
    await until(() => server.waiting('job') === i + 1, `waiter ${i} to queue`);
  }
  const probe = connect(addr);
  const gBefore = (await probe.getStats()).command_g;
  holder.child.stdin.end();
  const codes = await Promise.all(waiters.map((w) => w.exited));
  assert.equal(codes.map((c) => c.code), [0, 0, 0, 0, 0]);
  assert.equal(fs.readFileSync(order, 'utf8').split('\n').filter(Boolean), ['0', '1', '2', '3', '4']);
  assert.is((await probe.getStats()).command_g, gBefore, 'no g was sent: nobody polled');
  await probe.disconnect();
});

test('a wait with a limit times out with 75 and says so', async () => {
  const holder = holdLock(['--lock', 'job', '--name', 'slowpoke']);
  await holder.waitFor(/ready/);
  const r = await lockdRun(addr, ['-l', 'job', '-w', '150ms', '--', 'true']);
  assert.is(r.code, 75);
  assert.match(r.stderr, /^lockd-run: timed out after \d+ms waiting for lock "job" \(held by slowpoke\)\n$/);
  holder.child.stdin.end();
});

test('--max 3 with 20 concurrent runs: never more than 3 commands alive, all 20 run', async () => {
  const log = path.join(tmp, 'log');
  const cmd = `echo start >> ${log}; sleep 0.05; echo end >> ${log}`;
  const runs = Array.from({ length: 20 }, () => lockdRun(addr, ['-s', 'api', '-m', '3', '-w', '30s', '-c', cmd]));
  const results = await Promise.all(runs);
  assert.equal(results.map((r) => r.code), Array(20).fill(0));
  let alive = 0;
  let most = 0;
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  for (const line of lines) {
    alive += line === 'start' ? 1 : -1;
    most = Math.max(most, alive);
  }
  assert.is(lines.length, 40);
  assert.ok(most <= 3, `at most ${most} at once`);
  assert.is(most, 3, 'the limit was reached');
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']) {
  test(`${sig} is forwarded to the command, and the lock kept until it exits`, async () => {
    const proc = launch(LOCKD_RUN, ['-S', addr, '-l', 'sig', '--', ...nodeCommand(
      `process.on('${sig}', () => { console.log('got ${sig}'); setTimeout(() => process.exit(7), 50); }); console.log('ready'); setInterval(() => {}, 1000);`,
    )]);
    await proc.waitFor(/ready/);
    proc.child.kill(sig);
    await proc.waitFor(/got /);
    const probe = connect(addr);
    assert.is(await probe.inspect('sig'), 1, 'still locked while the command finishes');
    assert.is((await proc.exited).code, 7);
    assert.is(proc.stdout, `ready\ngot ${sig}\n`);
    await probe.disconnect();
  });
}

test('a command that ignores TERM is killed after --kill-after', async () => {
  const proc = launch(LOCKD_RUN, ['-S', addr, '--kill-after', '200ms', '-l', 'x', '--', ...nodeCommand(
    `process.on('SIGTERM', () => console.log('ignoring TERM')); console.log('ready'); setInterval(() => {}, 1000);`,
  )]);
  await proc.waitFor(/ready/);
  proc.child.kill('SIGTERM');
  const { code } = await proc.exited;
  assert.is(code, 137);
  assert.match(proc.stdout, /ignoring TERM/);
  assert.match(proc.stderr, /still running 200ms after TERM; sent KILL/);
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  test(`${sig} while waiting stops waiting and exits 128+N`, async () => {
    const holder = holdLock(['--lock', 'job']);
    await holder.waitFor(/ready/);
    const waiter = launch(LOCKD_RUN, ['-S', addr, '-l', 'job', '-w', '--', 'echo', 'never']);
    await until(() => server.waiting('job') === 1, 'the waiter to queue');
    waiter.child.kill(sig);
    const { code } = await waiter.exited;
    assert.is(code, 128 + os.constants.signals[sig]);
    assert.is(waiter.stdout, '');
    await until(() => server.waiting('job') === 0, 'the waiter to leave the queue');
    holder.child.stdin.end();
  });
}

test('server killed while the command runs: the command is terminated, exit 74', async () => {
  const srv = await startServerProcess();
  const marker = path.join(tmp, 'terminated');
  const proc = launch(LOCKD_RUN, ['-S', srv.address, '-l', 'job', '--', ...nodeCommand(
    `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'TERM'); process.exit(1); }); console.log('ready'); setInterval(() => {}, 1000);`,
  )]);
  await proc.waitFor(/ready/);
  srv.child.kill('SIGKILL');
  const { code } = await proc.exited;
  assert.is(code, 74);
  assert.is(fs.readFileSync(marker, 'utf8'), 'TERM');
  assert.match(proc.stderr, /^lockd-run: lost lock "job": the connection to the lock server closed; terminating the command\n/);
});

test('server killed and restarted while several commands run: all are terminated; tokens after the restart are larger', async () => {
  const first = await startServerProcess();
  const runs = Array.from({ length: 3 }, () => launch(LOCKD_RUN, ['-S', first.address, '-s', 'pool', '-m', '5', '--', ...nodeCommand(
    `console.log('ready ' + process.env.LOCKD_TOKEN); process.on('SIGTERM', () => process.exit(1)); setInterval(() => {}, 1000);`,
  )]));
  for (const r of runs) await r.waitFor(/ready \d+/);
  const before = Math.max(...runs.map((r) => Number(/ready (\d+)/.exec(r.stdout)[1])));
  first.child.kill('SIGKILL');
  const codes = await Promise.all(runs.map((r) => r.exited));
  assert.equal(codes.map((c) => c.code), [74, 74, 74]);
  // A new server process (tokens come from its start time, not from any state of the old one).
  const second = await startServerProcess();
  const again = await lockdRun(second.address, ['-s', 'pool', '-m', '5', '-c', 'echo $LOCKD_TOKEN']);
  assert.ok(Number(again.stdout) > before, `${again.stdout} after ${before}`);
  second.child.kill();
  await second.exited;
});

test('server stops answering (SIGSTOP): noticed by ping, command terminated, exit 74', async () => {
  const srv = await startServerProcess();
  const proc = launch(LOCKD_RUN, ['-S', srv.address, '--ping-interval', '100ms', '-l', 'job', '--', ...HOLD]);
  await proc.waitFor(/ready/);
  srv.child.kill('SIGSTOP');
  const { code } = await proc.exited;
  srv.child.kill('SIGKILL');
  assert.is(code, 74);
  assert.match(proc.stderr, /lost lock "job": the lock server has not answered for \d+ms; terminating the command/);
});

test('--on-lost ignore lets the command finish and returns its status', async () => {
  const srv = await startServerProcess();
  const proc = launch(LOCKD_RUN, ['-S', srv.address, '--on-lost', 'ignore', '-l', 'job', '--', ...HOLD]);
  await proc.waitFor(/ready/);
  srv.child.kill('SIGKILL');
  await proc.waitFor(/lost lock/, 'stderr');
  proc.child.stdin.end();
  assert.is((await proc.exited).code, 0);
  assert.match(proc.stderr, /--on-lost ignore: the command goes on unprotected/);
});

test('lockd-run killed with SIGKILL: the server frees its lock', async () => {
  const proc = holdLock(['--lock', 'job']);
  await proc.waitFor(/ready/);
  const probe = connect(addr);
  assert.is(await probe.inspect('job'), 1);
  proc.child.kill('SIGKILL');
  await proc.exited;
  await until(async () => (await probe.inspect('job')) === 0, 'the lock to be freed');
  assert.is((await probe.getStats()).orphans, 1, 'a crash is an orphan');
  await probe.disconnect();
});

test('a normal end releases the lock before exiting: no orphan, whatever the exit status', async () => {
  const runs = [
    await lockdRun(addr, ['-l', 'job', '--', 'true']),
    await lockdRun(addr, ['-l', 'job', '-c', 'exit 3']),
    await lockdRun(addr, ['-s', 'pool', '-m', '2', '--', 'true']),
  ];
  assert.equal(runs.map((r) => r.code), [0, 3, 0]);
  const probe = connect(addr);
  // The releases arrive before each connection's close, which the server has seen once connections is 1.
  await until(async () => (await probe.getStats()).connections === 1, 'the connections to be gone');
  const stats = await probe.getStats();
  assert.is(stats.orphans, 0);
  assert.is(stats.shared_orphans, 0);
  assert.is(stats.command_r, 2);
  assert.is(stats.command_sr, 1);
  await probe.disconnect();
});

test('two round trips: the handshake, then name and acquire in one write', async () => {
  // A recording stand-in for lockd-server: it answers the handshake, records
  // the write that follows, and hangs up.
  const writes = [];
  const recorder = net.createServer((socket) => {
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const probe = /^i (lockd-probe-\w+)\n$/m.exec(received);
      if (writes.length === 0 && probe) {
        writes.push(received);
        received = '';
        socket.write(`1 hello lockd 0 wait max token\n0 Lock Not Locked: ${probe[1]}\n`);
      } else if (writes.length === 1 && received.endsWith('pool\n')) {
        writes.push(received);
        socket.destroy();
      }
    });
  });
  recorder.listen(0, '127.0.0.1');
  await once(recorder, 'listening');
  const r = await lockdRun(`127.0.0.1:${recorder.address().port}`, ['--name', 'one-trip', '-s', 'pool', '-m', '4', '-w', '2s', '--', 'true']);
  recorder.close();
  assert.is(r.code, 69);
  // hello is padded to glockd's 4096-byte read, so that glockd reads the probe behind it.
  assert.match(writes[0], /^hello {4090}\ni lockd-probe-\w+\n$/);
  assert.is(writes[1], 'iam one-trip\nwsg 4 2000 pool\n');
});

test('server unreachable: 69 with one clear line', async () => {
  const port = server.tcp.port;
  await server.destroy();
  const r = await lockdRun(`127.0.0.1:${port}`, ['-l', 'x', '--', 'true']);
  assert.is(r.code, 69);
  assert.is(r.stderr, `lockd-run: cannot reach the lock server at 127.0.0.1:${port}: connection refused\n`);
  server = await start();
});

test('something other than a lock server at the address: 69 with one clear line, no stack trace', async () => {
  // A web server answers the handshake with lines of its own; a stream
  // without newlines is cut off at the client's longest reply line.
  const peers = [
    (socket) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'),
    sendWithoutNewline,
  ];
  for (const answer of peers) {
    const peer = net.createServer((socket) => {
      socket.on('error', () => {});
      answer(socket);
    });
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    const where = `127.0.0.1:${peer.address().port}`;
    const r = await lockdRun(where, ['-l', 'x', '--', 'true']);
    peer.close();
    assert.is(r.code, 69);
    assert.match(r.stderr, new RegExp(`^lockd-run: cannot reach the lock server at ${where}: what answers there is not a lock server \\([^\\n]+\\)\\n$`));
  }
});

test('a server at its connection limit: 69, saying so', async () => {
  const full = await start({ limits: { maxConnections: 1 }, warn: () => {} });
  const first = connect(`127.0.0.1:${full.tcp.port}`);
  await first.connected();
  const r = await lockdRun(`127.0.0.1:${full.tcp.port}`, ['-l', 'x', '--', 'true']);
  assert.is(r.code, 69);
  assert.is(r.stderr, `lockd-run: cannot reach the lock server at 127.0.0.1:${full.tcp.port}: the lock server is at its connection limit\n`);
  await first.disconnect();
  await full.destroy();
});

test('the auth token does not reach the command', async () => {
  const proc = launch(LOCKD_RUN, ['-S', addr, '-l', 'x', '-c', 'echo "[${LOCKD_AUTH_TOKEN-unset}]"'], { env: { LOCKD_AUTH_TOKEN: 'secret' } });
  await proc.exited;
  assert.is(proc.stdout, '[unset]\n');
});

test('the command runs in its own process group, and what it leaves there is terminated', async () => {
  // The shell's pid and its process group (field 5 of /proc/PID/stat), and a straggler left behind.
  const r = await lockdRun(addr, ['-l', 'x', '-c', 'echo $$ $(cut -d" " -f5 /proc/$$/stat); sleep 37 & exit 0']);
  assert.is(r.code, 0);
  const [pid, pgid] = r.stdout.trim().split(' ').map(Number);
  assert.is(pgid, pid);
  assert.match(r.stderr, /left processes running in its process group; terminating them/);
  assert.throws(() => process.kill(-pgid, 0), /ESRCH/);
});

test('a unix socket server; gone, 69 and the reason', async () => {
  const sock = path.join(tmp, 'lockd.sock');
  const unixServer = await start({ unix: sock, port: undefined, host: undefined });
  const r = await lockdRun(`unix:${sock}`, ['-l', 'x', '--', 'sh', '-c', 'echo $LOCKD_SERVER']);
  assert.is(r.code, 0);
  assert.is(r.stdout, `unix:${sock}\n`);
  await unixServer.destroy();
  const gone = await lockdRun(`unix:${sock}`, ['-l', 'x', '--', 'true']);
  assert.is(gone.code, 69);
  assert.is(gone.stderr, `lockd-run: cannot reach the lock server at unix:${sock}: no such socket\n`);
});

test('LOCKD_SERVER from the environment', async () => {
  const proc = launch(LOCKD_RUN, ['-l', 'x', '-c', 'echo $LOCKD_SERVER'], { env: { LOCKD_SERVER: addr } });
  await proc.exited;
  assert.is(proc.stdout, `${addr}\n`);
});

test('--verbose says what it waits for and how long it took', async () => {
  const r = await lockdRun(addr, ['-v', '-l', 'x', '-w', '5s', '--', 'true']);
  assert.match(r.stderr, /lockd-run: waiting up to 5s for lock "x" on 127\.0\.0\.1:\d+\n/);
  assert.match(r.stderr, /lockd-run: got lock "x" after \d+ms \(1 holder\(s\), token \d+\)\n/);
});

test.run();

// The same scenarios against the doubles of the old servers.
for (const [kind, registry] of [['node', true], ['glockd', true], ['glockd', false]]) {
  const old = suite(`lockd-run against the ${kind} double${registry ? '' : ' with its registry off'}`);
  let oldServer, oldAddr;
  old.before.each(async () => {
    oldServer = await startOldServer({ kind, registry });
    oldAddr = `127.0.0.1:${oldServer.port}`;
  });
  old.after.each(async () => {
    assert.is(oldServer.dropped, 0, 'request lines dropped by glockd');
    await oldServer.close();
  });

  old('exclusive conflict: exit 75 at once, naming the holder when the server can', async () => {
    const holder = launch(LOCKD_RUN, ['-S', oldAddr, '-l', 'job', '--name', 'first-holder', '--', ...HOLD]);
    await holder.waitFor(/ready/);
    const second = await lockdRun(oldAddr, ['-l', 'job', '--', 'echo', 'ran']);
    assert.is(second.code, 75);
    assert.is(second.stdout, '');
    assert.is(second.stderr, `lockd-run: lock "job" is busy${registry ? ' (held by first-holder)' : ''}\n`);
    // With its registry off glockd would never answer `d`: lockd-run must not ask.
    assert.is(oldServer.count('command_d'), registry ? 1 : 0);
    holder.child.stdin.end();
    assert.is((await holder.exited).code, 0);
  });

  old('the command\'s exit status, and its environment: no fencing token', async () => {
    const r = await lockdRun(oldAddr, ['-l', 'job', '-c', 'echo "lock=$LOCKD_LOCK token=[$LOCKD_TOKEN]"; exit 3']);
    assert.is(r.code, 3);
    assert.is(r.stdout, 'lock=job token=[]\n');
    const shared = await lockdRun(oldAddr, ['-s', 'pool', '--', 'true']);
    assert.is(shared.code, 0);
  });

  old('--wait by polling: granted once the holder leaves', async () => {
    const holder = connect(oldAddr);
    await holder.get('job');
    const waiter = launch(LOCKD_RUN, ['-S', oldAddr, '-v', '-l', 'job', '-w', '10s', '--', 'echo', 'ran']);
    await waiter.waitFor(/old server: waiting up to 10s/, 'stderr');
    await holder.disconnect();
    assert.is((await waiter.exited).code, 0);
    assert.is(waiter.stdout, 'ran\n');
  });

  old('--wait that runs out: exit 75, saying how long it waited', async () => {
    const holder = connect(oldAddr);
    await holder.get('job');
    const r = await lockdRun(oldAddr, ['-l', 'job', '-w', '300ms', '--', 'true']);
    assert.is(r.code, 75);
    assert.match(r.stderr, /^lockd-run: timed out after \d+ms waiting for lock "job"/);
    await holder.disconnect();
  });

  old('--max enforced by joining, comparing and leaving: never more than 2 alive', async () => {
    const tmpLog = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-old-'));
    const log = path.join(tmpLog, 'log');
    const cmd = `echo start >> ${log}; sleep 0.05; echo end >> ${log}`;
    const results = await Promise.all(Array.from({ length: 6 }, () => lockdRun(oldAddr, ['-s', 'api', '-m', '2', '-w', '30s', '-c', cmd])));
    assert.equal(results.map((r) => r.code), Array(6).fill(0));
    let alive = 0;
    let most = 0;
    for (const line of fs.readFileSync(log, 'utf8').trim().split('\n')) {
      alive += line === 'start' ? 1 : -1;
      most = Math.max(most, alive);
    }
    assert.is(most, 2, 'two at once, never more');
    fs.rmSync(tmpLog, { recursive: true, force: true });
  });

  old('--max full without --wait: exit 75 at once', async () => {
    const [a, b] = [connect(oldAddr), connect(oldAddr)];
    await a.getShared('api');
    await b.getShared('api');
    const r = await lockdRun(oldAddr, ['-s', 'api', '-m', '2', '--', 'true']);
    assert.is(r.code, 75);
    assert.match(r.stderr, /^lockd-run: shared lock "api" is full \(max 2\)/);
    assert.is(await a.inspectShared('api'), 2, 'the share taken to compare was given back');
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  old('the server going away while the command runs is noticed', async () => {
    const proc = launch(LOCKD_RUN, ['-S', oldAddr, '-l', 'job', '--', ...HOLD]);
    await proc.waitFor(/ready/);
    await oldServer.close();
    assert.is((await proc.exited).code, 74);
    oldServer = await startOldServer({ kind, registry });
  });

  old.run();
}

const build = suite('before the build');

build('in a clone before npm ci, both tools say in one line how to build them', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-unbuilt-'));
  fs.cpSync(path.dirname(LOCKD_RUN), path.join(root, 'bin'), { recursive: true });
  for (const tool of ['lockd-run', 'lockd-server']) {
    const proc = launch(path.join(root, 'bin', tool), ['--help']);
    assert.is((await proc.exited).code, 70);
    assert.is(proc.stderr, `${tool}: not built: run "npm ci" (or "npm run build") in ${root}\n`);
    assert.is(proc.stdout, '');
  }
  fs.rmSync(root, { recursive: true, force: true });
});

build.run();
