import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { Connection, type ConnectionLimits } from './connection.js';
import { ServerState, type Log } from './state.js';
import { COMMAND_LIST } from './commands.js';
import { formatAddress } from '../util/address.js';
import { adoptSocket, ownData } from './adopt-socket.js';
import { Admission } from './admission.js';
import { digest } from './auth.js';
import { TOO_MANY_CONNECTIONS } from '../protocol/replies.js';
import { handOverTo, takeState, type Shutdown } from './planned-restart.js';
import { DEFAULT_MAX_NAME } from '../protocol/limits.js';
import { GLOCKD_READ_SIZE, MAX_AUTH_TOKEN } from '../protocol/old-servers.js';
import { RateLimitedWarning } from './rate-limited.js';
import type { MetricsServer } from './metrics.js';

export interface ListenOptions {
  /** TCP port (0 for any free one) and optional host; both unset and no unix means port 9999. */
  port?: number;
  host?: string;
  /** Unix socket path; an existing socket file there is replaced. */
  unix?: string;
  /** Switch off `d`, `sd`, `dump` and `who` (they answer `0 disabled`). */
  disableDump?: boolean;
  /** Switch off `iam` and `who`. */
  disableRegistry?: boolean;
  /** Receives a line for every connect, grant, release and orphan. */
  log?: Log;
  /** Receives a line whenever a client is cut off (overlong line, not reading); default: stderr. */
  warn?: Log;
  limits?: Partial<Limits>;
  /** Clients must send `auth TOKEN` first (see docs/protocol.md). */
  authToken?: string;
  /** Read every connection through its 'data' events, not the faster direct reads (see adopt-socket.ts); for tests and measurements. */
  dataEvents?: boolean;
  /** The TCP listener speaks TLS. With `ca`, clients must present a certificate it signed. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** Serve Prometheus metrics at http://HOST:PORT/metrics, and /healthz (port 0 picks a free one). */
  metrics?: { host: string; port: number };
  /**
   * Where shutdown() leaves the held locks, and where a start finds them to
   * reserve for their holders (docs/protocol.md, "Planned restarts"). Made if missing.
   */
  stateDir?: string;
  /** How long, from shutdown(), the locks kept wait for their holders, in ms (default 15000); the holders are told. */
  reclaimGrace?: number;
}

export const DEFAULT_RECLAIM_GRACE = 15_000;
export const MAX_RECLAIM_GRACE = 3_600_000;

export type { Shutdown } from './planned-restart.js';
export { StateDirError } from './state-file.js';

export interface Limits extends ConnectionLimits {
  /** Connections at once; the next one gets an error line and is closed. */
  maxConnections: number;
  /** Connections at once from one client address (IP, or all Unix-socket clients together). */
  maxConnectionsPerAddress: number;
  /** Locks one connection may hold at once. */
  maxLocksPerConnection: number;
  /** Longest lock or registry name taken, in bytes; a longer one gets the failure reply. */
  maxName: number;
  /** Bytes kept on clients' behalf (see docs/protocol.md, --max-memory) beyond which new locks, waits and names are refused. */
  maxMemory: number;
  /** Delay before a refused `auth` is answered (ms). */
  authFailureDelay: number;
}

export const DEFAULT_PORT = 9999;
export const DEFAULT_LIMITS: Limits = {
  maxLine: 64 * 1024,
  maxPendingOutput: 256 * 1024,
  writeTimeout: 60_000,
  lineTimeout: 30_000,
  keepAlive: 15_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  maxLocksPerConnection: 10_000,
  maxName: DEFAULT_MAX_NAME,
  maxMemory: 128 * 1024 * 1024,
  authFailureDelay: 1_000,
};

export interface LockServer {
  /** Where TCP listens, if it does. */
  readonly tcp: { host: string; port: number } | null;
  readonly unix: string | null;
  /** Where the metrics are served, if they are. */
  readonly metrics: { host: string; port: number } | null;
  /** Live connections. */
  readonly connections: number;
  /** How many connections wait in line for a lock (exclusive, or shared with `shared`). */
  waiting(name: string, shared?: boolean): number;
  /** Stops accepting and resolves once every client has gone (it does not disconnect them: see destroy()). */
  close(): Promise<void>;
  /** Stops accepting and drops every client at once. */
  destroy(): Promise<void>;
  /**
   * A planned shutdown: with a stateDir, the held locks go to its state file
   * and the clients that said `hello` are told to reclaim them from the next
   * start; then every client is dropped, as by destroy().
   */
  shutdown(): Promise<Shutdown>;
  /** Locks reserved for reclaim from the last planned shutdown, not yet reclaimed nor expired. */
  readonly reserved: number;
  /** When the reservations end (ms since the epoch), or 0 when none were made. */
  readonly reservedUntil: number;
}

/** Starts a lock server; resolves once every listener is ready, rejects if one cannot listen. */
export async function listen(options: ListenOptions = {}): Promise<LockServer> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  // Our clients' handshake is padded to glockd's read size (docs/protocol.md).
  if (!(limits.maxLine >= GLOCKD_READ_SIZE)) throw new RangeError(`limits.maxLine must be at least ${GLOCKD_READ_SIZE}`);
  if (options.authToken !== undefined && Buffer.byteLength(options.authToken, 'utf8') > MAX_AUTH_TOKEN) {
    throw new RangeError(`authToken must be at most ${MAX_AUTH_TOKEN} bytes`);
  }
  const srv = new ServerState(
    { dump: !options.disableDump, registry: !options.disableRegistry },
    options.log ?? null,
    options.warn ?? ((msg) => process.stderr.write(`lockd-server: ${msg}\n`)),
    {
      authDigest: options.authToken === undefined ? null : digest(options.authToken),
      authFailureDelay: limits.authFailureDelay,
      maxLocksPerConnection: limits.maxLocksPerConnection,
      maxName: limits.maxName,
      maxMemory: limits.maxMemory,
    },
    COMMAND_LIST.length,
  );
  const grace = options.reclaimGrace ?? DEFAULT_RECLAIM_GRACE;
  if (!(Number.isInteger(grace) && grace >= 0 && grace <= MAX_RECLAIM_GRACE)) {
    throw new RangeError(`reclaimGrace must be a whole number of ms, at most ${MAX_RECLAIM_GRACE}`);
  }
  const stateDir = options.stateDir ?? null;
  // Read before listening, so that no client can take a reserved name first;
  // consumed once we listen, so that a start that fails leaves it for the next.
  const taken = stateDir === null ? null : takeState(stateDir, srv);
  const live = new Set<Connection>();
  const whenEmpty: (() => void)[] = [];
  let unixCount = 0;

  const admission = new Admission(limits.maxConnections, limits.maxConnectionsPerAddress, srv.warn, srv.counters);
  const accept = (accepted: net.Socket, kind: 'tcp' | 'tls' | 'unix') => {
    // A TCP peer that reset before we got here has no address any more: nothing to serve.
    if (kind !== 'unix' && accepted.remoteAddress === undefined) {
      accepted.destroy();
      return;
    }
    const ip = accepted.remoteAddress ?? 'unix';
    // TLS connections were counted in at their TCP connection (admitTls).
    if (kind !== 'tls' && !admission.admit(ip)) {
      accepted.on('error', () => {}); // it may be gone already: nothing to tell it then
      accepted.end(TOO_MANY_CONNECTIONS);
      accepted.destroySoon();
      return;
    }
    const address = accepted.remoteAddress
      ? formatAddress(accepted.remoteAddress, accepted.remotePort!)
      : `unix:${++unixCount}`;
    const socket = kind === 'tls' ? ownData(accepted) : adoptSocket(accepted, !options.dataEvents);
    const conn = new Connection(srv, socket, ip, address, limits, kind === 'tls' ? unlist : gone); // TLS: see admitTls
    conn.session.authed = srv.policy.authDigest === null;
    if (!conn.session.authed) conn.requireAuthWithin(limits.lineTimeout);
    live.add(conn);
  };
  const unlist = (conn: Connection) => {
    live.delete(conn);
    if (live.size === 0) for (const resolve of whenEmpty.splice(0)) resolve();
  };
  const gone = (conn: Connection) => {
    admission.leave(conn.ip);
    unlist(conn);
  };
  /**
   * A TLS client counts against the limits from its TCP connection on, not
   * from the end of its handshake: otherwise connections that never finish
   * one could pile up uncounted for the handshake timeout. Over a limit it is
   * closed before the handshake (a plain-text refusal would be noise to it).
   */
  const admitTls = (raw: net.Socket) => {
    const ip = raw.remoteAddress;
    if (ip === undefined || !admission.admit(ip)) {
      raw.destroy();
      return;
    }
    raw.once('close', () => admission.leave(ip));
  };

  const servers: net.Server[] = [];
  const wantTcp = options.port !== undefined || options.host !== undefined || options.unix === undefined;
  let tcp: LockServer['tcp'] = null;
  try {
    if (wantTcp) {
      const server = options.tls
        ? tls.createServer(
            { ...options.tls, requestCert: !!options.tls.ca, rejectUnauthorized: !!options.tls.ca, allowHalfOpen: true, handshakeTimeout: 10_000 },
            (socket) => accept(socket, 'tls'),
          )
        : net.createServer({ pauseOnConnect: true }, (socket) => accept(socket, 'tcp'));
      if (options.tls) server.on('connection', admitTls);
      servers.push(server);
      await bind(server, { port: options.port ?? DEFAULT_PORT, host: options.host });
      const a = server.address() as net.AddressInfo;
      tcp = { host: a.address, port: a.port };
    }
    if (options.unix !== undefined) {
      await removeStaleSocket(options.unix);
      const server = net.createServer({ pauseOnConnect: true }, (socket) => accept(socket, 'unix'));
      servers.push(server);
      await bind(server, { path: options.unix });
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }

  // Accepting fails when the process is out of descriptors (EMFILE, ENFILE):
  // libuv resets that connection. Say so, a line a second at most, and go on.
  const acceptFailures = new RateLimitedWarning(srv.warn, 'failed');
  for (const s of servers) {
    s.on('error', (err: NodeJS.ErrnoException) => acceptFailures.report(() => `cannot accept a connection: ${err.code ?? err.message}`));
  }

  // Not waiting for net.Server's 'close': it counts the wrappers adoptSocket()
  // retired, which never close. `live` counts the connections.
  let accepting = true;
  let metrics: MetricsServer | null = null;
  if (options.metrics) {
    try {
      // prom-client is loaded only when metrics are asked for.
      const { serveMetrics } = await import('./metrics.js');
      metrics = await serveMetrics(srv, options.metrics, () => accepting);
    } catch (err) {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      throw err;
    }
  }
  // Every listener is up: this start serves, and no later one may use the file again.
  taken?.consume();
  const stopAccepting = () => {
    accepting = false;
    for (const s of servers) s.close();
  };
  const stopMetrics = async () => {
    await metrics?.close();
  };
  const allGone = () =>
    new Promise<void>((resolve) => {
      if (live.size === 0) resolve();
      else whenEmpty.push(resolve);
    });

  return {
    tcp,
    unix: options.unix ?? null,
    metrics: metrics && { host: metrics.host, port: metrics.port },
    get connections() {
      return live.size;
    },
    waiting(name: string, shared = false) {
      return srv.table.waitingCount(name, shared);
    },
    async close() {
      stopAccepting();
      await allGone();
      await stopMetrics();
    },
    async destroy() {
      stopAccepting();
      for (const conn of live) conn.destroy();
      await allGone();
      await stopMetrics();
    },
    async shutdown() {
      stopAccepting();
      const result = stateDir === null ? { locks: 0, told: 0, failed: null } : handOverTo(stateDir, srv, grace);
      // One synchronous step from the table's snapshot to the last going-away line: nothing is granted in between.
      srv.handedOver = true;
      for (const conn of live) conn.goAway(result.lines?.get(conn.session) ?? null);
      await allGone();
      await stopMetrics();
      return { locks: result.locks, told: result.told, failed: result.failed };
    },
    get reserved() {
      return srv.reservations.size;
    },
    reservedUntil: taken?.until ?? 0,
  };
}

function bind(server: net.Server, where: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A socket file left by a server that died is replaced; a live one or any other file is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch {
    return;
  }
  // Not a socket, or one somebody still answers on: listen() fails with EADDRINUSE, which is right.
  if (!stat.isSocket()) return;
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
  if (!live) fs.unlinkSync(path);
}
