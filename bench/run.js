// npm run bench: lockd-server against redis-server (SET NX + DEL), side by
// side in one run, with a compiled load generator. Prints a table of ratios
// and writes the raw figures as JSON. `--smoke` runs every scenario briefly
// (CI uses it so that the bench keeps working); the full run is not in CI.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const SMOKE = args.includes('--smoke');
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
// Even counts, so that each side goes first equally often.
const ROUNDS = opt('--rounds', SMOKE ? 1 : 10);
const SECONDS = opt('--seconds', SMOKE ? 0.3 : 2);
const HOLD = opt('--connections', SMOKE ? 500 : 10_000);
const STARTS = opt('--starts', SMOKE ? 3 : 32);
const HANDOFFS = opt('--handoffs', SMOKE ? 50 : 1000);
const ETCD_CYCLES = opt('--etcd-cycles', SMOKE ? 20 : 500);
const RESTART_HOLDERS = opt('--restart-holders', SMOKE ? 50 : 1000);
// --metrics: lockd-server serves Prometheus metrics (on a free port) throughout, to show they cost the lock path nothing.
const METRICS = args.includes('--metrics');
// --only c1,hold: just those scenarios (c50, c50p16, c1, reads, hold, startup, handoff, etcd, restart), for working on one.
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const wanted = (name) => !ONLY || ONLY.includes(name);
const OUT = path.join(ROOT, 'bench', 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuTicks = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
};
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const TICK_S = 1 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function buildLoadgen() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-bench-'));
  const bin = path.join(dir, 'loadgen');
  execFileSync('cc', ['-O2', '-Wall', '-o', bin, path.join(ROOT, 'bench', 'loadgen.c')]);
  return bin;
}

async function waitForPort(port) {
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function startServers() {
  const lockdPort = await freePort();
  // Run as users run it, so that its #! line's node options apply, on this Node.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };
  const lockd = spawn(path.join(ROOT, 'bin', 'lockd-server'), ['-t', `127.0.0.1:${lockdPort}`,
    '--max-connections', String(HOLD + 1000), '--max-connections-per-address', String(HOLD + 1000), ...(process.env.BENCH_VERBOSE ? ['-v'] : []),
    ...(METRICS ? ['--metrics', '127.0.0.1:0'] : [])], { stdio: 'inherit', env });
  // The same server reading through 'data' events instead of adopt-socket.ts's direct reads: what they are worth.
  const dataPort = await freePort();
  const data = spawn(process.execPath, ['--max-semi-space-size=2', '--input-type=module', '-e',
    `import { listen } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
     await listen({ host: '127.0.0.1', port: ${dataPort}, dataEvents: true });`], { stdio: 'inherit' });
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--maxclients', String(HOLD + 1000), '--protected-mode', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await Promise.all([waitForPort(lockdPort), waitForPort(redisPort), waitForPort(dataPort)]);
  return {
    lockd: { name: 'lockd', proto: 'lockd', port: lockdPort, proc: lockd },
    redis: { name: 'redis', proto: 'redis', port: redisPort, proc: redis },
    lockdData: { name: 'lockd with data events', proto: 'lockd', port: dataPort, proc: data },
  };
}

function loadgen(bin, argv) {
  const out = execFileSync(bin, argv, { encoding: 'utf8' });
  return JSON.parse(out);
}

/**
 * Lock cycles. The two servers take turns, each round's two runs back to
 * back (the first alternating between rounds), and the ratio is the median
 * of the rounds' own ratios: the machine's drift, which over a full run moves
 * either server's figures by a third, then hits both runs of a round alike.
 * One short round first, not counted: the first second of a fresh server's
 * load is its JIT warming up (lockd) or its memory being touched (Redis).
 */
function throughput(bin, lockd, reference, conns, depth) {
  const run = (s, seconds) => loadgen(bin, ['cycle', s.proto, '127.0.0.1', String(s.port), String(conns), String(depth), String(seconds)]);
  for (const s of [lockd, reference]) run(s, Math.min(1, SECONDS));
  const raw = { lockd: [], reference: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [[reference, raw.reference], [lockd, raw.lockd]] : [[lockd, raw.lockd], [reference, raw.reference]];
    for (const [s, into] of order) {
      const before = cpuTicks(s.proc.pid);
      const r = run(s, SECONDS);
      r.server_cpu_s = (cpuTicks(s.proc.pid) - before) * TICK_S;
      into.push(r);
    }
  }
  const med = (name, key) => median(raw[name].map((r) => r[key]));
  return {
    reference: reference.name,
    ratio: median(raw.lockd.map((r, i) => r.cycles_per_s / raw.reference[i].cycles_per_s)),
    lockd_cycles_per_s: med('lockd', 'cycles_per_s'),
    reference_cycles_per_s: med('reference', 'cycles_per_s'),
    loadgen_cpu: { lockd: med('lockd', 'loadgen_cpu_s') / SECONDS, reference: med('reference', 'loadgen_cpu_s') / SECONDS },
    raw,
  };
}

/** One line-protocol connection that asks `q` after `hello` (replies end with "."). */
async function statsConnection(port) {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.setEncoding('latin1');
  let buf = '';
  const lines = [];
  let wake = null;
  s.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
    wake?.();
  });
  const line = async () => {
    while (!lines.length) await new Promise((r) => (wake = r));
    return lines.shift();
  };
  s.write('hello\n');
  await line();
  return {
    async q() {
      s.write('q\n');
      const stats = {};
      for (let l = await line(); l !== '.'; l = await line()) {
        const [k, v] = l.split(': ');
        stats[k] = Number(v);
      }
      return stats;
    },
    close: () => s.destroy(),
  };
}

/** N connections each holding one lock: RSS per connection; then all close at once: time until every lock is free. */
async function holdAndRelease(bin, server) {
  const baseline = rssKb(server.proc.pid);
  const gen = spawn(bin, ['hold', server.proto, '127.0.0.1', String(server.port), String(HOLD)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(gen, 'exit');
  gen.stdout.setEncoding('utf8');
  let out = '';
  gen.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) await once(gen.stdout, 'data');
  const held = rssKb(server.proc.pid);
  const result = { connections: HOLD, rss_baseline_kb: baseline, rss_held_kb: held, kb_per_connection: (held - baseline) / HOLD };
  if (server.proto === 'lockd') {
    const stats = await statsConnection(server.port);
    const q0 = await stats.q();
    if (q0.locks !== HOLD) throw new Error(`expected ${HOLD} locks, q says ${q0.locks}`);
    gen.stdin.write('go\n');
    while (!out.includes('closed')) await once(gen.stdout, 'data');
    const closedAt = performance.now();
    // Poll `q` throughout: every answer must parse and be consistent, and the counts only fall.
    let last = q0;
    let polls = 0;
    for (;;) {
      const q = await stats.q();
      polls++;
      if (!(q.locks <= last.locks && q.connections <= last.connections && q.locks >= 0)) {
        throw new Error(`inconsistent q during mass disconnect: ${JSON.stringify(last)} then ${JSON.stringify(q)}`);
      }
      last = q;
      if (q.locks === 0 && q.connections === 1) break;
      if (performance.now() - closedAt > 30_000) throw new Error('locks not released within 30 s');
    }
    result.release_ms = performance.now() - closedAt;
    result.q_polls_during_release = polls;
    result.orphans = last.orphans - q0.orphans;
    stats.close();
  } else {
    gen.stdin.write('go\n');
  }
  await exited;
  return result;
}

/**
 * Wall time of lockd-run --lock x -- true against that of node -e 0
 * (NODE_EXTRA_CA_CERTS unset). As for the lock cycles, the ratio is the
 * median of the iterations' own ratios, the two starts of an iteration back
 * to back (which goes first alternating): node -e 0 alone moves by half from
 * one second to the next on these machines. One iteration first, not
 * counted: the first starts read from a cold cache (and fill Node's compile
 * cache, where this Node has one).
 */
async function startup(server) {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const time = (file, argv) => new Promise((resolve) => {
    const t = performance.now();
    spawn(file, argv, { env, stdio: 'ignore' }).on('exit', (code) => {
      if (code !== 0) throw new Error(`${file} ${argv.join(' ')} exited ${code}`);
      resolve(performance.now() - t);
    });
  });
  const starts = {
    node: [process.execPath, ['-e', '0']],
    run: [process.execPath, [path.join(ROOT, 'bin', 'lockd-run'), '-S', `127.0.0.1:${server.port}`, '--lock', 'x', '--', 'true']],
  };
  const raw = { run: [], node: [] };
  for (let i = -1; i < STARTS; i++) {
    const order = i % 2 ? ['node', 'run'] : ['run', 'node'];
    for (const what of order) {
      const ms = await time(...starts[what]);
      if (i >= 0) raw[what].push(ms);
    }
  }
  const ratio = (what) => median(raw[what].map((ms, i) => ms / raw.node[i]));
  return {
    run_ratio: ratio('run'), lockd_run_ms: median(raw.run), node_ms: median(raw.node), raw,
  };
}

/** Hand-off: release by the holder to grant at the queued waiter; reference: a plain round trip to redis (PING). */
async function handoff(lockdPort, redisPort) {
  const open = async (port) => {
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.setNoDelay(true);
    return s;
  };
  const nextLine = (s) => new Promise((resolve) => s.once('data', (d) => resolve(d.toString())));
  const [a, b] = [await open(lockdPort), await open(lockdPort)];
  a.write('hello\n'); await nextLine(a);
  b.write('hello\n'); await nextLine(b);
  a.write('g h\n'); await nextLine(a);
  let holder = a, waiter = b;
  const lat = [];
  for (let i = 0; i < HANDOFFS; i++) {
    waiter.write('wg -1 h\n');
    // Make sure the waiter is queued: a round trip on the holder after it.
    await new Promise((r) => setImmediate(r));
    holder.write('ping\n'); await nextLine(holder);
    const granted = nextLine(waiter);
    const released = nextLine(holder);
    const t = performance.now();
    holder.write('r h\n');
    await granted;
    lat.push(performance.now() - t);
    await released;
    [holder, waiter] = [waiter, holder];
  }
  a.destroy(); b.destroy();
  const r = await open(redisPort);
  const rtt = [];
  for (let i = 0; i < HANDOFFS; i++) {
    const t = performance.now();
    r.write('PING\r\n');
    await nextLine(r);
    rtt.push(performance.now() - t);
  }
  r.destroy();
  return { handoff_ms: median(lat), redis_ping_rtt_ms: median(rtt) };
}

/**
 * The price of surviving a host: a three-member etcd cluster on loopback (as
 * the tests start it) against lockd-server, for the acquire+release cycle
 * through the client library, one at a time, and for lockd-run's start-up.
 * The sides alternate in blocks, and each ratio is the median of the
 * blocks' own ratios.
 */
async function etcdPrice(server) {
  const { startEtcdCluster } = await import('../test/helpers/etcd-cluster.js');
  const { connect, connectEtcd } = await import('../dist/index.js');
  const cluster = await startEtcdCluster();
  try {
    const onEtcd = await connectEtcd(cluster.endpoints, { name: 'bench', prefix: 'bench/' });
    const onServer = connect(`127.0.0.1:${server.port}`);
    const sides = {
      server: { take: () => onServer.acquire('cycle'), give: () => onServer.release('cycle') },
      etcd: { take: () => onEtcd.acquire('cycle'), give: () => onEtcd.release('cycle') },
    };
    const block = async ({ take, give }, n) => {
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        await take();
        await give();
      }
      return (performance.now() - t) / n;
    };
    const BLOCKS = SMOKE ? 2 : 10;
    const per = Math.max(1, Math.round(ETCD_CYCLES / BLOCKS));
    await block(sides.server, per);
    await block(sides.etcd, per); // warm-up, not counted
    const cycle = { server: [], etcd: [] };
    for (let i = 0; i < BLOCKS; i++) {
      for (const side of i % 2 ? ['etcd', 'server'] : ['server', 'etcd']) cycle[side].push(await block(sides[side], per));
    }
    await Promise.all([onEtcd.disconnect(), onServer.disconnect()]);

    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const run = (target) => new Promise((resolve, reject) => {
      const t = performance.now();
      spawn(process.execPath, [path.join(ROOT, 'bin', 'lockd-run'), '-S', target, '--lock', 'x', '--', 'true'], { env, stdio: 'ignore' })
        .on('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`lockd-run -S ${target} exited ${code}`))));
    });
    const targets = { server: `127.0.0.1:${server.port}`, etcd: cluster.endpoints };
    const start = { server: [], etcd: [] };
    const STARTS_ETCD = Math.max(2, Math.round(STARTS / 2));
    for (let i = -1; i < STARTS_ETCD; i++) {
      for (const side of i % 2 ? ['etcd', 'server'] : ['server', 'etcd']) {
        const ms = await run(targets[side]);
        if (i >= 0) start[side].push(ms);
      }
    }
    const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
    return {
      cycle_ms: { server: median(cycle.server), etcd: median(cycle.etcd) }, cycle_ratio: ratio(cycle.etcd, cycle.server),
      startup_ms: { server: median(start.server), etcd: median(start.etcd) }, startup_ratio: ratio(start.etcd, start.server),
      raw: { cycle, start },
    };
  } finally {
    await cluster.close();
  }
}

/**
 * A planned restart under load: RESTART_HOLDERS library connections holding
 * a lock each, the server stopped with SIGTERM and started again on the same
 * port with the same --state-dir. The gap, from the signal to the last lock
 * taken back, against a restart that keeps nothing (from the signal to the
 * new server listening), alternating, in the same run.
 */
async function restartGap() {
  const { connect } = await import('../dist/index.js');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-bench-state-'));
  const start = (keep) => new Promise((resolve, reject) => {
    const args = [path.join(ROOT, 'bin', 'lockd-server'), '--tcp', `127.0.0.1:${port}`, ...(keep ? ['--state-dir', dir] : [])];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (/listening on/.test(out)) resolve(proc);
    });
    proc.on('exit', (code) => reject(new Error(`lockd-server exited ${code} before listening: ${out}`)));
  });
  const restartOnce = async (keep) => {
    const first = await start(keep);
    const clients = Array.from({ length: RESTART_HOLDERS }, () => connect(`127.0.0.1:${port}`, { reclaim: keep }));
    for (const c of clients) c.on('error', () => {});
    await Promise.all(clients.map((c, i) => c.acquire(`job-${i}`)));
    const back = keep ? Promise.all(clients.map((c) => new Promise((resolve) => c.once('reclaimed', resolve)))) : null;
    const t = performance.now();
    const exited = new Promise((resolve) => first.once('exit', resolve));
    first.kill('SIGTERM');
    await exited;
    const second = await start(keep);
    const listening = performance.now() - t;
    await back;
    const gap = performance.now() - t;
    await Promise.all(clients.map((c) => c.disconnect()));
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    return { listening, gap };
  };
  const kept = [];
  const plain = [];
  const rounds = SMOKE ? 1 : 6;
  for (let i = 0; i < rounds; i++) {
    for (const keep of i % 2 ? [true, false] : [false, true]) (keep ? kept : plain).push(await restartOnce(keep));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    holders: RESTART_HOLDERS,
    kept_gap_ms: median(kept.map((r) => r.gap)), kept_listening_ms: median(kept.map((r) => r.listening)),
    plain_listening_ms: median(plain.map((r) => r.listening)),
    ratio: median(kept.map((r, i) => r.gap / plain[i].listening)),
    raw: { kept, plain },
  };
}

const fmt = (x, d = 2) => x.toFixed(d);

async function main() {
  // The targets are set for Node 24 (docs/performance.md): say so on another.
  if (!process.version.startsWith('v24.')) process.stderr.write(`bench: the targets are for Node 24; this is Node ${process.version}\n`);
  const bin = buildLoadgen();
  const servers = await startServers();
  const results = {
    date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model,
    redis: execFileSync('redis-server', ['--version']).toString().trim(), smoke: SMOKE, rounds: ROUNDS, seconds: SECONDS,
  };
  const step = (what) => process.stderr.write(`bench: ${what}\n`);
  try {
    if (wanted('c50')) {
      step('lock cycles, 50 connections');
      results.c50 = throughput(bin, servers.lockd, servers.redis, 50, 1);
    }
    if (wanted('c50p16')) {
      step('lock cycles, 50 connections, 16 in flight');
      results.c50p16 = throughput(bin, servers.lockd, servers.redis, 50, 16);
    }
    if (wanted('c1')) {
      step('lock cycles, 1 connection');
      results.c1 = throughput(bin, servers.lockd, servers.redis, 1, 1);
    }
    if (wanted('reads')) {
      step('lock cycles, 50 connections: direct reads against data events');
      results.reads = throughput(bin, servers.lockd, servers.lockdData, 50, 1);
    }
    if (wanted('hold')) {
      step(`${HOLD} connections holding a lock, then closing at once`);
      results.hold = { lockd: await holdAndRelease(bin, servers.lockd), redis: await holdAndRelease(bin, servers.redis) };
    }
    if (wanted('startup')) {
      step('lockd-run start-up');
      results.startup = await startup(servers.lockd);
    }
    if (wanted('handoff')) {
      step('hand-off');
      results.handoff = await handoff(servers.lockd.port, servers.redis.port);
    }
    if (wanted('etcd')) {
      step('etcd cluster against lockd-server');
      results.etcd = await etcdPrice(servers.lockd);
    }
    if (wanted('restart')) {
      step(`a planned restart under ${RESTART_HOLDERS} holders`);
      results.restart = await restartGap();
    }
  } finally {
    for (const s of Object.values(servers)) s.proc.kill();
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(results, null, 2));

  const rows = [];
  const tp = (label, r, target) => rows.push([label, `${fmt(r.lockd_cycles_per_s, 0)} vs ${fmt(r.reference_cycles_per_s, 0)} cycles/s`, fmt(r.ratio), target,
    `${fmt(r.loadgen_cpu.lockd * 100, 0)}% / ${fmt(r.loadgen_cpu.reference * 100, 0)}%`]);
  if (results.c50) tp('get+release, 50 conns, 1 in flight', results.c50, '>= 0.75');
  if (results.c50p16) tp('same, 16 in flight (pipelined)', results.c50p16, '>= 1.0');
  if (results.c1) tp('same, 1 connection', results.c1, '>= 0.85');
  if (results.reads) tp('50 conns: direct reads vs data events', results.reads, '>= 1.1');
  const h = results.hold;
  if (h) {
    rows.push([`${HOLD} conns holding a lock: KB/conn`, `${fmt(h.lockd.kb_per_connection, 1)} vs ${fmt(h.redis.kb_per_connection, 1)} KB`,
      fmt(h.lockd.kb_per_connection / h.redis.kb_per_connection), '<= 5 KB', '']);
    rows.push([`all ${HOLD} close at once: locks freed`, `${fmt(h.lockd.release_ms, 1)} ms after the last close (${h.lockd.q_polls_during_release} q polls)`, '', '<= 100 ms', '']);
  }
  if (results.startup) {
    rows.push(['lockd-run --lock x -- true', `${fmt(results.startup.lockd_run_ms, 1)} vs node -e 0 ${fmt(results.startup.node_ms, 1)} ms`,
      fmt(results.startup.run_ratio), '<= 2.5', '']);
  }
  if (results.handoff) {
    rows.push(['hand-off to a queued waiter', `${fmt(results.handoff.handoff_ms, 3)} ms vs redis PING rtt ${fmt(results.handoff.redis_ping_rtt_ms, 3)} ms`,
      fmt(results.handoff.handoff_ms / results.handoff.redis_ping_rtt_ms), '<= 2 ms', '']);
  }
  const e = results.etcd;
  if (e) {
    rows.push(['etcd: acquire+release, 1 at a time', `${fmt(e.cycle_ms.etcd, 3)} vs lockd-server ${fmt(e.cycle_ms.server, 3)} ms`, fmt(e.cycle_ratio, 1), '(the price)', '']);
    rows.push(['etcd: lockd-run --lock x -- true', `${fmt(e.startup_ms.etcd, 1)} vs lockd-server ${fmt(e.startup_ms.server, 1)} ms`, fmt(e.startup_ratio), '(the price)', '']);
  }
  const r = results.restart;
  if (r) {
    rows.push([`planned restart, ${r.holders} holders: all back`, `${fmt(r.kept_gap_ms, 0)} ms after SIGTERM vs ${fmt(r.plain_listening_ms, 0)} ms to listen again, keeping nothing`,
      fmt(r.ratio), '(the price)', '']);
  }
  const head = ['scenario', 'lockd vs reference', 'ratio', 'target', 'loadgen CPU (lockd / reference runs)'];
  const widths = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\n${results.cpu_model}, ${results.cpus} cores, Node ${process.version}, ${results.redis.split(' ').slice(0, 3).join(' ')}, ${results.date.slice(0, 10)}` +
    `${SMOKE ? ' (smoke run: figures are not meaningful)' : ''}; NODE_EXTRA_CA_CERTS unset for the start-up timing`);
  console.log(line(head));
  console.log('| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |');
  for (const r of rows) console.log(line(r));
  console.log(`\nraw figures: ${path.relative(process.cwd(), OUT)}`);
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
