// Prometheus metrics: /metrics and /healthz over real HTTP, and scraped by a real Prometheus.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../dist/index.js';
import { start, until } from './helpers/server.js';
import { Raw } from './helpers/raw.js';
import { freePorts } from './helpers/ports.js';

/** The value of one sample in the text format, or undefined. */
function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const test = suite('metrics endpoint');
let server, base, clients;
test.before.each(async () => {
  server = await start({ metrics: { host: '127.0.0.1', port: 0 }, warn: () => {} });
  base = `http://127.0.0.1:${server.metrics.port}`;
  clients = [];
});
test.after.each(async () => {
  await Promise.all(clients.map((c) => c.disconnect()));
  await server.destroy();
});

const addr = () => `127.0.0.1:${server.tcp.port}`;
const scrape = async () => (await fetch(`${base}/metrics`)).text();

test('gauges: locks held, shared holders, waiters, connections', async () => {
  const [a, b, c] = [connect(addr()), connect(addr()), connect(addr())];
  clients.push(a, b, c);
  await a.acquire('job');
  await a.acquire('pool', { shared: true });
  await b.acquire('pool', { shared: true });
  const waiter = b.acquire('job', { wait: 60_000 });
  await until(() => server.waiting('job') === 1, 'the wait to queue');
  await c.connected();
  const text = await scrape();
  assert.is(sample(text, 'lockd_locks_held{mode="exclusive"}'), 1);
  assert.is(sample(text, 'lockd_locks_held{mode="shared"}'), 1);
  assert.is(sample(text, 'lockd_shared_holders'), 2);
  assert.is(sample(text, 'lockd_waiters'), 1);
  assert.is(sample(text, 'lockd_connections'), 3);
  await a.release('job');
  await waiter;
  assert.is(sample(await scrape(), 'lockd_waiters'), 0);
});

test('counters: grants at once and after a wait, releases, orphans, refusals by reason, connections refused', async () => {
  await server.destroy();
  server = await start({ metrics: { host: '127.0.0.1', port: 0 }, limits: { maxConnections: 3, maxName: 10 }, warn: () => {} });
  base = `http://127.0.0.1:${server.metrics.port}`;
  const [a, b] = [connect(addr()), connect(addr())];
  clients.push(a, b);
  await a.acquire('job');
  const waited = b.acquire('job', { wait: 60_000 });
  await until(() => server.waiting('job') === 1, 'the wait to queue');
  await a.release('job'); // a release, and a grant after a wait
  await waited;
  await a.get('held').then(() => {});
  try {
    await a.get('job'); // busy
  } catch {}
  try {
    await a.acquire('a-name-over-ten'); // over --max-name
  } catch {}
  const doomed = connect(addr());
  await doomed.get('orphan-1');
  await doomed.getShared('orphan-2');
  doomed.destroy();
  await until(() => server.connections === 2, 'the orphaning connection to go');
  // The fourth connection is over --max-connections 3.
  const [c, d] = [connect(addr()), connect(addr())];
  d.on('error', () => {});
  await c.connected();
  await d.connected().catch(() => {});
  clients.push(c);
  const text = await scrape();
  assert.is(sample(text, 'lockd_grants_total{when="at_once"}'), 4);
  assert.is(sample(text, 'lockd_grants_total{when="after_wait"}'), 1);
  assert.is(sample(text, 'lockd_releases_total'), 1);
  assert.is(sample(text, 'lockd_orphaned_locks_total'), 2);
  assert.is(sample(text, 'lockd_refusals_total{reason="busy"}'), 1);
  assert.is(sample(text, 'lockd_refusals_total{reason="limit"}'), 1);
  assert.is(sample(text, 'lockd_refusals_total{reason="full"}'), 0);
  assert.is(sample(text, 'lockd_connections_refused_total'), 1);
  assert.is(sample(text, 'lockd_grant_wait_seconds_count'), 5);
  assert.is(sample(text, 'lockd_hold_seconds_count'), 3, 'one release, two orphans');
  assert.match(text, /^lockd_hold_seconds_bucket\{le="\+Inf"\} 3$/m);
  assert.match(text, /^lockd_grant_wait_seconds_bucket\{le="0\.001"\} \d+$/m);
});

test('/healthz answers 200 while accepting; the endpoint closes with the server; nothing else is served', async () => {
  const ok = await fetch(`${base}/healthz`);
  assert.equal([ok.status, await ok.text()], [200, 'ok\n']);
  assert.is((await fetch(`${base}/other`)).status, 404);
  assert.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  const holder = connect(addr());
  await holder.get('x');
  const closing = server.close(); // stops accepting, waits for the holder to leave
  const down = await fetch(`${base}/healthz`);
  assert.equal([down.status, await down.text()], [503, 'shutting down\n']);
  await holder.disconnect();
  await closing;
  await fetch(`${base}/healthz`).then(() => assert.unreachable('still served'), () => {});
  server = await start(); // for after.each
});

test.run();

const prom = suite('scraped by a real Prometheus');

prom('Prometheus scrapes lockd-server; its query API shows the held locks and waiters the test made', async () => {
  const server = await start({ metrics: { host: '127.0.0.1', port: 0 } });
  const addr = `127.0.0.1:${server.tcp.port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-prom-'));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: lockd',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${server.metrics.port}']`,
    '',
  ].join('\n'));
  const [port] = await freePorts(1);
  const proc = spawn('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: 'ignore' });
  const exited = once(proc, 'exit');
  const clients = Array.from({ length: 4 }, () => connect(addr));
  try {
    await clients[0].acquire('a');
    await clients[0].acquire('b');
    await clients[1].acquire('pool', { shared: true });
    const waits = [clients[2].acquire('a', { wait: 120_000 }), clients[3].acquire('b', { wait: 120_000 })];
    waits.forEach((w) => w.catch(() => {}));
    await until(() => server.waiting('a') + server.waiting('b') === 2, 'both waits to queue');
    const query = async (q) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = await r.json();
      return body.data?.result?.[0]?.value?.[1];
    };
    // Prometheus takes a few seconds to start and scrape: asked every 200 ms until it answers, within 60 s.
    await until(async () => {
      await new Promise((r) => setTimeout(r, 200));
      const [held, waiters] = await Promise.all([
        query('lockd_locks_held{job="lockd",mode="exclusive"}').catch(() => undefined),
        query('lockd_waiters{job="lockd"}').catch(() => undefined),
      ]);
      return held === '2' && waiters === '2';
    }, 'Prometheus to report 2 held locks and 2 waiters', 60_000);
    assert.is(await query('lockd_shared_holders{job="lockd"}'), '1');
  } finally {
    proc.kill('SIGTERM');
    await exited;
    await Promise.all(clients.map((c) => c.disconnect()));
    await server.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

prom.run();
