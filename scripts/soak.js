// Soak test (not in CI): minutes of mixed load against one server, reporting
// its heap and RSS over time and its open file descriptors before and after.
// Flat is the target.  node scripts/soak.js [--seconds 600] [--clients 40]
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const SECONDS = opt('--seconds', 600);
const CLIENTS = opt('--clients', 40);

const child = fork(fileURLToPath(new URL('./soak-server.js', import.meta.url)), { stdio: 'inherit' });
const samples = [];
const port = await new Promise((resolve) => {
  child.on('message', (m) => (m.port ? resolve(m.port) : samples.push({ t: Date.now(), ...m })));
});
const fds = () => fs.readdirSync(`/proc/${child.pid}/fd`).length;
const fdsBefore = fds();
const deadline = Date.now() + SECONDS * 1000;
let ops = 0, reconnects = 0;
const names = Array.from({ length: 50 }, (_, i) => `soak${i}`);
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

async function worker() {
  while (Date.now() < deadline) {
    const c = connect(`127.0.0.1:${port}`);
    c.on('error', () => {});
    const life = 50 + Math.floor(Math.random() * 500);
    try {
      for (let i = 0; i < life && Date.now() < deadline; i++) {
        const name = pick(names);
        const r = Math.random();
        if (r < 0.3) await c.get(name).catch(() => {});
        else if (r < 0.5) await c.release(name).catch(() => {});
        else if (r < 0.6) await c.acquire(name, { shared: true, max: 3, wait: 20 }).catch(() => {});
        else if (r < 0.7) await c.releaseShared(name).catch(() => {});
        else if (r < 0.8) await c.acquire(name, { wait: 10 }).catch(() => {});
        else if (r < 0.9) await c.inspect(name);
        else if (r < 0.95) await c.setName(`w${Math.floor(Math.random() * 1000)}`);
        else if (r < 0.98) await c.getStats();
        else await c.dump();
        ops++;
      }
    } finally {
      // Half of them leave cleanly, half drop the connection with locks held.
      if (Math.random() < 0.5) await c.disconnect();
      else c.destroy();
      reconnects++;
    }
  }
}

const started = Date.now();
const report = setInterval(() => {
  const s = samples.at(-1);
  if (s) console.log(`${Math.round((Date.now() - started) / 1000)}s  rss ${(s.rss / 1048576).toFixed(1)} MB  heap ${(s.heapUsed / 1048576).toFixed(1)} MB  connections ${s.connections}  ops ${ops}`);
}, 30_000);
await Promise.all(Array.from({ length: CLIENTS }, worker));
clearInterval(report);
// Let the server see the last disconnects.
await new Promise((r) => setTimeout(r, 1500));
const fdsAfter = fds();
const mb = (x) => (x / 1048576).toFixed(1);
const first = samples.slice(5, 15), last = samples.slice(-10);
const avg = (xs, k) => xs.reduce((a, s) => a + s[k], 0) / xs.length;
console.log(`\nsoak: ${SECONDS}s, ${CLIENTS} clients, ${ops} operations, ${reconnects} connections`);
console.log(`rss:  ${mb(avg(first, 'rss'))} MB early -> ${mb(avg(last, 'rss'))} MB at the end (max ${mb(Math.max(...samples.map((s) => s.rss)))} MB)`);
console.log(`heap: ${mb(avg(first, 'heapUsed'))} MB early -> ${mb(avg(last, 'heapUsed'))} MB at the end (max ${mb(Math.max(...samples.map((s) => s.heapUsed)))} MB)`);
console.log(`open file descriptors: ${fdsBefore} before, ${fdsAfter} after`);
child.disconnect();
