import http from 'node:http';
import type net from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerState } from './state.js';
import type { RefusalReason } from './stats.js';

// Prometheus metrics over HTTP (--metrics HOST:PORT), with prom-client.
// Gauges and counters read the server's own counts when scraped, so the lock
// path does no more than it does without metrics. The two histograms are fed
// per grant and per release, through the lock table's observer, into plain
// bucket counts (see BucketHistogram) that prom-client's registry reads.
// No default process metrics: their GC observer slowed the lock path, and
// node_exporter or the service manager report the process better.

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const REASONS: RefusalReason[] = ['busy', 'full', 'limit', 'auth'];
/** Seconds: from a millisecond (a hand-over on loopback) to an hour (a long queue or a long job). */
const WAIT_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const HOLD_BUCKETS = [0.01, 0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

/**
 * A histogram as plain bucket counts. prom-client's Histogram.observe()
 * allocates on every call, which under pipelined load cost a third of the
 * lock path's throughput (docs/performance.md); this costs a few compares.
 */
class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, private readonly bounds: number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** What prom-client's registry writes out: cumulative buckets, +Inf, sum and count. */
  async get() {
    let below = 0;
    const bucket = `${this.name}_bucket`;
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] =
      this.bounds.map((le, i) => ({ value: (below += this.counts[i]), labels: { le }, metricName: bucket }));
    values.push({ value: this.count, labels: { le: '+Inf' }, metricName: bucket });
    values.push({ value: this.sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.count, labels: {}, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** Builds the registry of srv's metrics. */
export function lockMetrics(srv: ServerState): Registry {
  const register = new Registry();
  const registers = [register];
  const { table, counters } = srv;
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(value()); } });
  // A counter whose total the server keeps: set at each scrape.
  const total = (name: string, help: string, value: () => number) =>
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(value()); } });

  new Gauge({
    name: 'lockd_locks_held',
    help: 'Locks held now, by mode (shared: locks with at least one holder)',
    labelNames: ['mode'],
    registers,
    collect() {
      this.set({ mode: 'exclusive' }, table.exclusive.size);
      this.set({ mode: 'shared' }, table.shared.size);
    },
  });
  gauge('lockd_shared_holders', 'Holders of shared locks now, one per holder per lock', () => table.sharedHolders);
  gauge('lockd_waiters', 'Connections queued for a lock now', () => table.waiters);
  gauge('lockd_connections', 'Live client connections', () => srv.sessions.size);
  gauge('lockd_reserved_locks', 'Locks kept from a planned restart for their holders, not reclaimed yet', () => srv.reservations.size);
  new Counter({
    name: 'lockd_grants_total',
    help: 'Locks granted, at the request (at_once) or to a queued waiter (after_wait)',
    labelNames: ['when'],
    registers,
    collect() {
      this.reset();
      this.inc({ when: 'at_once' }, table.counts.grantsAtOnce);
      this.inc({ when: 'after_wait' }, table.counts.grantsAfterWait);
    },
  });
  total('lockd_releases_total', 'Locks given back by their holder', () => table.counts.releases);
  total('lockd_orphaned_locks_total', 'Locks freed because their connection ended holding them', () => counters.orphans + counters.sharedOrphans);
  new Counter({
    name: 'lockd_refusals_total',
    help: 'Requests refused: busy (held, full, or the wait ran out), full (--max-memory), limit (--max-name, --max-locks-per-connection), auth',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const reason of REASONS) this.inc({ reason }, counters.refusals[reason]);
    },
  });
  total('lockd_connections_refused_total', 'Connections turned away at a connection limit', () => counters.connectionsRefused);

  const wait = new BucketHistogram('lockd_grant_wait_seconds', 'Time from request to grant', WAIT_BUCKETS);
  const hold = new BucketHistogram('lockd_hold_seconds', 'How long locks were held, released or orphaned', HOLD_BUCKETS);
  // Registered as prom-client's Registry takes any metric: by name, read through get().
  register.registerMetric(wait as unknown as Histogram);
  register.registerMetric(hold as unknown as Histogram);
  table.observer = {
    granted: (_held, waited) => wait.observe(waited / 1000),
    freed: (held) => hold.observe((Date.now() - held.since) / 1000),
  };
  return register;
}

/**
 * Serves GET /metrics (the text format) and GET /healthz (200 while the
 * server accepts connections, else 503) on host:port. Resolves once listening.
 */
export async function serveMetrics(srv: ServerState, where: { host: string; port: number }, accepting: () => boolean): Promise<MetricsServer> {
  const register = lockMetrics(srv);
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      const body = await register.metrics();
      res.writeHead(200, { 'content-type': register.contentType }).end(body);
    } else if (path === '/healthz') {
      const up = accepting();
      res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' }).end(up ? 'ok\n' : 'shutting down\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  // A scraper needs few connections and small requests: no client can tie it up.
  server.maxConnections = 64;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: where.host, port: where.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as net.AddressInfo;
  return {
    host: a.address,
    port: a.port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
