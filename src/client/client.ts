import { EventEmitter } from 'node:events';
import { LockdError } from './errors.js';
import { Fifo } from './fifo.js';
import { parseEndpoint, type Endpoint } from '../util/address.js';
import { MAX_REPLY_LINE, parseGoingAway, parseGrant, parseHello, parseMe, parseRefusal, splitPair, splitStatus } from '../protocol/reply-parse.js';
import { Backoff, sleep } from './backoff.js';
import { formatDuration } from '../util/duration.js';
import { GLOCKD_READ_SIZE, isProbeReply, MAX_AUTH_TOKEN, padLine, probe } from '../protocol/old-servers.js';
import { pollAcquire } from './poll-acquire.js';
import { TOO_MANY_CONNECTIONS } from '../protocol/replies.js';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { openSocket } from './open-socket.js';
import { brief } from '../util/brief.js';
import { parseOmitted, parseRecord, type ClientRecord, type LockRecord } from '../protocol/ctl-records.js';

/** Records of locks or clients, and how many a reply cut for its size left out. */
export interface Records<T> {
  records: T[];
  omitted: number;
}

export type { ClientRecord, HolderRecord, LockRecord, WaiterRecord } from '../protocol/ctl-records.js';

export type Target = { tcp: string } | { unix: string } | string;

export interface ClientOptions {
  /** Give up connecting (and the hello handshake) after this many ms. Default 10000. */
  connect?: number;
  /**
   * Fail a request whose reply takes longer than this many ms (0: never, the
   * default). The connection is closed then, since later replies would be out
   * of step. Against an old server, `me`, `d` and `sd`, which glockd with its
   * registry off never answers, are bounded anyway (3000 ms unless this is set).
   */
  request?: number;
  /** Shared secret for a server started with --auth-token-file (sent with `auth` first). */
  authToken?: string;
  /** Speak TLS (also implied by a `lockds://` target): `true`, or CA / client certificate to use. */
  tls?: boolean | { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /**
   * When the server says it is restarting (a planned restart of a server
   * with --state-dir), reconnect and take back the locks held (default
   * true). Each one taken back is a 'reclaimed' event, each one not a 'lost'.
   * False: the connection closes then, and its locks are gone, as on a crash.
   */
  reclaim?: boolean;
}

/** A lock as the 'reclaimed' and 'lost' events name it. */
export interface HeldLockInfo {
  name: string;
  shared: boolean;
  /** The fencing token, the same as before the restart ('reclaimed' only). */
  token?: number;
}

/** @deprecated the name of ClientOptions in the original API, where it held only timeouts. */
export type Timeouts = ClientOptions;

export interface AcquireOptions {
  /** A shared (counted) lock rather than an exclusive one. */
  shared?: boolean;
  /** Shared only: never more than this many holders. */
  max?: number;
  /** How long to wait for the lock in ms: 0 tries once (default), Infinity waits for ever. */
  wait?: number;
}

export interface Grant {
  /** Holders right after the grant (1 for exclusive locks). */
  count: number;
  /** Fencing token: grows with every grant, across server restarts. null from an old server. */
  token: number | null;
}

/** What the server said to the handshake. */
export interface ServerInfo {
  /** The server speaks our extensions (see docs/protocol.md); false for glockd and the original lockd. */
  extended: boolean;
  capabilities: string[];
}

/** How a request's reply is read. */
interface ReplyShape {
  /** Whether the reply is complete once the last line is added (default: after one line). */
  until?: (lines: string[]) => boolean;
  /** Multi-line reply: ends at a terminator line, which is not kept. */
  multi?: boolean;
  /** ms the server may take on purpose (a queued wait), added to the request timeout. */
  serverWait?: number;
  /** Not subject to the request timeout (the handshake: the connect timeout covers it). */
  untimed?: boolean;
  /** An old server may never answer it (glockd with its registry off: `me`, `d`, `sd`). */
  mayHang?: boolean;
  /** The request to send again after a planned restart, when it differs (a wait, with the time left). */
  again?: () => string;
  /** Not sent again after a planned restart (a reclaim: the next one is made afresh), but failed with RESTARTED. */
  notAgain?: boolean;
}

/**
 * A lock this client holds, as it knows it. `on` is the connection (see
 * Client.generation) it is known to be held on, 0 while the request for it
 * is unanswered: after a planned restart it is reclaimed with the key of
 * that connection's going-away line, since one whose reclaim was cut short
 * by a second restart is still reserved under the key of the first.
 */
interface HeldEntry {
  token: number | null;
  on: number;
}

/** How a reclaim cut short by another planned restart fails: the lock is reclaimed again, not lost. */
const RESTARTED = new Error('restarted again');

/** A request waiting for its reply lines. */
interface Pending extends ReplyShape {
  /** What is written for it: at once to lockd-server, once first in line to an old server. */
  text: string;
  lines: string[];
  /** ms to wait for the reply once first in line (0: no limit). */
  timeout: number;
  resolve: (lines: string[]) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Reconnecting after a planned restart: the first retry's delay, and the longest (see Backoff). */
const RECONNECT_FIRST = 50;
const RECONNECT_MAX = 1_000;
/** How much sooner than the server's grace the client gives up reclaiming (at most a tenth of it). */
const RECLAIM_MARGIN = 500;
/** The bound on a `mayHang` request to an old server when no request timeout is set. */
const OLD_SERVER_REPLY_TIMEOUT = 3_000;
const RESOLVED = Promise.resolve();

/**
 * A connection to a lock server. Locks live as long as it does.
 * Calls may be made at once: they are sent once the handshake has shown the
 * server's kind, and replies are matched to calls in order. To lockd-server
 * they are pipelined; to an old server they go one at a time, each in its
 * own write after the previous reply, since glockd drops the lines after the
 * first of each read. Across a planned restart of lockd-server it is one
 * connection still: it reconnects and takes its locks back (see goingAway()).
 *
 * Events: 'connect'; 'restarting' (grace ms); 'reclaimed' (HeldLockInfo);
 * 'lost' (LockdError, HeldLockInfo), for each lock held when the connection
 * closes unasked or a restart does not give it back; 'close', once, at the end.
 */
export class Client extends EventEmitter {
  private socket!: Socket;
  private readonly pending = new Fifo<Pending>();
  /** Calls made before the handshake finished. */
  private queued: (() => void)[] | null = [];
  private out = '';
  private partial = '';
  private closed = false;
  /** Why the connection failed, for every call it fails. */
  private failure: LockdError | null = null;
  private info: ServerInfo | null = null;
  /** Exclusive locks held, with their tokens (null: taken with get(), which has none). */
  private readonly heldExclusive = new Map<string, HeldEntry>();
  /** Shared locks asked for (getShared(), so also by the old-server fallback, or acquire()) and not released since. */
  private readonly heldShared = new Map<string, HeldEntry>();
  /** Shared locks whose release is not answered yet: still held should the server go away first. */
  private readonly releasingShared = new Map<string, HeldEntry>();
  /** Counts the connections made (the first, and each after a planned restart). */
  private generation = 0;
  /** The going-away key each connection was sent, by generation. */
  private readonly keys = new Map<number, string>();
  /** Ends the wait between two reconnecting attempts early (disconnect(), destroy()). */
  private stopWaiting: AbortController | null = null;
  /** The name given to setName(), sent again after a restart. */
  private registered: string | null = null;
  /** Set by the going-away line: the grace announced, and until when to try. */
  private restart: { grace: number; deadline: number } | null = null;
  /** Between the going-away line and being back (or giving up). */
  private reconnecting = false;
  /** Requests the server went away without answering, to send again once back. */
  private resend: Pending[] = [];
  /** disconnect(), destroy() or releaseAndClose() was called: no reconnecting. */
  private ending = false;
  private readonly endpoint: Endpoint;
  private readonly tlsOptions: ConnectionOptions | null;
  private readonly connectTimeout: number;
  private readonly authToken: string | undefined;
  private readonly reclaimLocks: boolean;
  /**
   * The lock name our probe inspects: random, so that no line of a dump can
   * pass for the probe's reply, which ends a multi-line reply from an old server.
   */
  private readonly probeName = `lockd-probe-${Math.floor(Math.random() * 36 ** 10).toString(36)}`;
  private readonly ready: Promise<ServerInfo>;
  private readonly requestTimeout: number;
  /** Writes wait for this: for TLS, the TLS handshake must succeed before we speak. */
  private connecting = true;

  constructor(endpoint: Endpoint, options: ClientOptions = {}) {
    super();
    this.requestTimeout = options.request ?? 0;
    const secure = !('path' in endpoint) && (endpoint.tls || !!options.tls);
    this.endpoint = endpoint;
    this.tlsOptions = secure ? (typeof options.tls === 'object' ? options.tls : {}) : null;
    this.connectTimeout = options.connect ?? DEFAULT_CONNECT_TIMEOUT;
    this.authToken = options.authToken;
    this.reclaimLocks = options.reclaim ?? true;
    this.open();
    this.ready = this.handshake(this.connectTimeout).then((info) => {
      this.sendQueued();
      this.emit('connect');
      return info;
    });
    // The handshake's failure reaches callers through their own calls and 'error'.
    this.ready.catch((err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** Opens a connection (the first, or again after a planned restart); its events count while it is the current one. */
  private open(): void {
    this.generation++;
    this.closed = false;
    this.connecting = true;
    this.failure = null;
    this.info = null;
    this.partial = '';
    this.out = '';
    const socket = openSocket(this.endpoint, this.tlsOptions, () => {
      if (socket !== this.socket) return;
      this.connecting = false;
      this.flush();
    });
    this.socket = socket;
    socket.on('data', (text: string) => {
      if (socket === this.socket) this.onData(text);
    });
    socket.on('error', (err: Error) => {
      if (socket !== this.socket) return;
      this.failure ??=
        err instanceof LockdError
          ? err
          : new LockdError(`lock server connection failed: ${err.message}`, 'ECONNECT', { cause: err });
    });
    socket.on('close', () => {
      if (socket === this.socket) this.onClose();
    });
  }

  /** Resolves when connected and the server's abilities are known. */
  connected(): Promise<ServerInfo> {
    return this.ready;
  }

  get serverInfo(): ServerInfo | null {
    return this.info;
  }

  /**
   * Finds out the server's kind in one round trip, without a timeout: `hello`
   * (which an old server ignores) and behind it the probe, which every server
   * answers. The lines ahead of the probe are padded to glockd's read size,
   * so that glockd reads each alone instead of dropping the probe.
   */
  private async handshake(timeout: number): Promise<ServerInfo> {
    const authToken = this.authToken;
    // Holds nothing open (unref): the socket does, until it answers or closes.
    const timer = setTimeout(() => {
      this.socket.destroy(new LockdError(`no answer from the lock server within ${timeout} ms`, 'ETIMEDOUT'));
    }, timeout).unref();
    try {
      if (authToken !== undefined) checkToken(authToken);
      // An old server ignores `hello` (and `auth`): no reply. The probe's
      // reply is the last line of the handshake, whichever lines came before.
      const auth = authToken === undefined ? '' : padLine(`auth ${authToken}`);
      await this.request(`${auth}${padLine('hello')}${probe(this.probeName)}`, {
        until: (lines) => this.heardHandshake(lines),
        untimed: true,
      });
      if (!this.info) throw this.closedError();
    } catch (err) {
      // Queued calls fail with the handshake's reason, not a bare "closed".
      if (err instanceof LockdError) this.failure ??= err;
      this.socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return this.info;
  }

  /** Sends the calls made while the server's kind was not known yet, in call order. */
  private sendQueued(): void {
    const queued = this.queued ?? [];
    this.queued = null;
    for (const send of queued) send();
  }

  /** Whether the handshake's reply is complete; if so, learns the server's kind. */
  private heardHandshake(lines: string[]): boolean {
    const last = lines[lines.length - 1];
    if (isProbeReply(last, this.probeName)) {
      const caps = lines.length > 1 ? parseHello(lines[lines.length - 2]) : null;
      this.info = { extended: caps !== null, capabilities: caps ?? [] };
      return true;
    }
    if (last === '1 ok' || parseHello(last) !== null) return false;
    if (last.startsWith('0 Authentication')) {
      this.failure ??= new LockdError(`the lock server refused us: ${last.slice(2)}`, 'EAUTH');
    } else if (`${last}\n` === TOO_MANY_CONNECTIONS) {
      this.failure ??= new LockdError('the lock server is at its connection limit', 'ECONNECT');
    } else {
      this.failure ??= new LockdError(`unexpected handshake reply from the lock server: ${brief(last)}`, 'EPROTOCOL');
    }
    // Whatever comes after a refusal is not for us: close now.
    this.socket.destroy();
    return true;
  }

  // ---- exclusive locks ----

  /** Takes an exclusive lock: resolves 1, or rejects ELOCKBUSY when another connection holds it. */
  async get(name: string): Promise<number> {
    const n = await this.simple('g', name, 'ELOCKBUSY');
    if (!this.heldExclusive.has(name)) this.heldExclusive.set(name, this.entry(null));
    return n;
  }

  /** Releases an exclusive lock: resolves 1, or rejects ENOTHELD. */
  release(name: string): Promise<number> {
    const released = this.simple('r', name, 'ENOTHELD');
    // Replies come in order: not held once it is answered, whatever the answer.
    const forget = () => void this.heldExclusive.delete(name);
    released.then(forget, forget);
    return released;
  }

  /** 1 when anyone holds the lock, else 0. */
  inspect(name: string): Promise<number> {
    return this.simple('i', name, null);
  }

  /** All exclusive locks as { name: holder }, or with a name, its holder (null when free). */
  dump(): Promise<Record<string, string>>;
  dump(name: string): Promise<string | null>;
  async dump(name?: string): Promise<Record<string, string> | string | null> {
    // Object.fromEntries defines own properties, so "__proto__" is a lock name like any other.
    const locks = new Map(await this.pairs(name === undefined ? 'd' : `d ${name}`, 'dump', name));
    return name === undefined ? Object.fromEntries(locks) : (locks.get(name) ?? null);
  }

  // ---- shared locks ----

  /** Joins a shared lock: resolves to the number of holders now, this one included. */
  getShared(name: string): Promise<number> {
    const count = this.simple('sg', name, null);
    // Noted as sent, since the server takes requests in order: an old one's
    // `sg` always joins. Known held on this connection once answered, and
    // forgotten if lockd-server refused it (a reserved lock, memory full).
    if (!this.heldShared.has(name)) {
      const entry: HeldEntry = { token: null, on: 0 };
      this.heldShared.set(name, entry);
      count.then((n) => {
        if (n > 0) entry.on = this.generation;
        else if (this.heldShared.get(name) === entry) this.heldShared.delete(name);
      }, () => {});
    }
    return count;
  }

  releaseShared(name: string): Promise<number> {
    const released = this.simple('sr', name, 'ENOTHELD');
    const entry = this.heldShared.get(name);
    this.heldShared.delete(name);
    if (entry) {
      this.releasingShared.set(name, entry);
      const forget = () => void (this.releasingShared.get(name) === entry && this.releasingShared.delete(name));
      released.then(forget, forget);
    }
    return released;
  }

  /** The number of holders of a shared lock. */
  inspectShared(name: string): Promise<number> {
    return this.simple('si', name, null);
  }

  /** All shared locks as { name: [holders] }, or with a name, its holders. */
  dumpShared(): Promise<Record<string, string[]>>;
  dumpShared(name: string): Promise<string[]>;
  async dumpShared(name?: string): Promise<Record<string, string[]> | string[]> {
    const locks = new Map<string, string[]>();
    for (const [lock, holder] of await this.pairs(name === undefined ? 'sd' : `sd ${name}`, 'dump', name)) {
      const holders = locks.get(lock);
      if (holders) holders.push(holder);
      else locks.set(lock, [holder]);
    }
    return name === undefined ? Object.fromEntries(locks) : (locks.get(name) ?? []);
  }

  // ---- registry and stats ----

  /** This connection's address and registered name (the address again when it has none). */
  async getName(): Promise<{ address: string; name: string }> {
    const [line] = await this.send('me\n', { mayHang: true });
    const me = parseMe(line);
    if (!me) throw new LockdError(`unexpected reply to me: ${brief(line)}`, 'EPROTOCOL');
    return me;
  }

  /** Registers a name for this connection ('' resets it to the address). */
  async setName(name: string): Promise<void> {
    checkName(name);
    this.registered = name;
    const line = await this.line(`iam ${name}`);
    if (line !== '1 ok') {
      const why = parseRefusal(line.slice(2));
      if (why !== null) throw refusedError(why);
      throw disabledOr(line, 'The registry feature of the lockd server is disabled.');
    }
  }

  /** Registered names as { name: address }, or with a name, the address registered under it last (null if none). */
  listClients(): Promise<Record<string, string>>;
  listClients(name: string): Promise<string | null>;
  async listClients(name?: string): Promise<Record<string, string> | string | null> {
    const msg = 'The dump and/or registry features of the lockd server are disabled.';
    const clients = new Map<string, string>();
    for (const [address, registered] of await this.pairs(name === undefined ? 'who' : `who ${name}`, msg)) {
      clients.set(registered, address);
    }
    return name === undefined ? Object.fromEntries(clients) : (clients.get(name) ?? null);
  }

  /** The server's counters (`q`) as numbers. */
  async getStats(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.multi('q')).map((line) => {
      const [key, value] = splitPair(line);
      return [key, Number(value)];
    }));
  }

  // ---- extensions, with fallbacks for old servers ----

  /**
   * Takes a lock, waiting in line on the server if asked to. Against an old
   * server it polls with backoff instead, and enforces `max` by joining,
   * comparing and leaving again. Rejects ELOCKBUSY when busy or timed out.
   */
  acquire(name: string, options: AcquireOptions = {}): Promise<Grant> {
    checkName(name);
    // Decided once the server's kind is known, in call order: the first
    // request of either path is queued before any call made after this one.
    return this.whenKnown(() =>
      this.info && !this.info.extended ? this.fallbackAcquire(name, options) : this.waitGet(name, options));
  }

  private async waitGet(name: string, options: AcquireOptions): Promise<Grant> {
    const wait = options.wait ?? 0;
    const deadline = performance.now() + wait;
    // Sent again after a planned restart with the time left: back in line, at its end.
    const request = (left: number) => {
      const ms = wait === Infinity ? -1 : Math.max(0, Math.ceil(left));
      return options.shared ? `wsg ${options.max ?? 0} ${ms} ${name}\n` : `wg ${ms} ${name}\n`;
    };
    const [line] = await this.request(request(wait), { serverWait: wait, again: () => request(deadline - performance.now()) });
    const grant = parseGrant(line);
    if (!grant) {
      const [n, text] = splitStatus(line);
      if (n !== 0) throw new LockdError(`unexpected reply: ${brief(line)}`, 'EPROTOCOL');
      throw failureOf(text, 'ELOCKBUSY');
    }
    (options.shared ? this.heldShared : this.heldExclusive).set(name, this.entry(grant.token));
    return grant;
  }

  /**
   * acquire() against an old server. A share this connection holds already is
   * a grant, as on lockd-server: polling would join (a no-op), find the lock
   * over its maximum, and leave, giving up the share held before.
   */
  private async fallbackAcquire(name: string, options: AcquireOptions): Promise<Grant> {
    if (options.shared && this.heldShared.has(name)) return { count: await this.inspectShared(name), token: null };
    return pollAcquire(this, name, options);
  }

  // ---- the operator's view (lockd-server only: old servers reject EUNSUPPORTED) ----

  /**
   * Every lock whose name starts with prefix, each with its holders and its
   * waiters in queue order (the first 50 of each). `omitted`: locks left out
   * of a reply that reached the server's size bound (4 MiB).
   */
  async locks(prefix = ''): Promise<Records<LockRecord>> {
    checkName(prefix);
    return this.records<LockRecord>(prefix === '' ? 'locks' : `locks ${prefix}`);
  }

  /** Every live connection: name, address, since, locks held, the lock it waits for. */
  async clients(): Promise<Records<ClientRecord>> {
    return this.records<ClientRecord>('clients');
  }

  /** q's counters and those old clients are not shown (see docs/protocol.md, `stats`). */
  async stats(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.operatorCommand('stats')).map((line) => {
      const [key, value] = splitPair(line);
      return [key, Number(value)];
    }));
  }

  private async records<T extends LockRecord | ClientRecord>(command: string): Promise<Records<T>> {
    const lines = await this.operatorCommand(command);
    if (lines.length === 1 && lines[0] === '0 disabled') {
      throw new LockdError('The dump feature of the lockd server is disabled.', 'EDISABLED');
    }
    const omitted = lines.length > 0 ? parseOmitted(lines[lines.length - 1]) : null;
    if (omitted !== null) lines.pop();
    const records = lines.map((line) => {
      const record = parseRecord<T>(line);
      if (!record) throw new LockdError(`unexpected reply to ${command.split(' ')[0]}: ${brief(line)}`, 'EPROTOCOL');
      return record;
    });
    return { records, omitted: omitted ?? 0 };
  }

  private operatorCommand(command: string): Promise<string[]> {
    return this.whenKnown(() => {
      if (this.info && !this.info.extended) {
        return Promise.reject(new LockdError(`an old server (glockd, the original lockd) has no "${command.split(' ')[0]}"`, 'EUNSUPPORTED'));
      }
      return this.request(`${command}\n`, { multi: true });
    });
  }

  /** Round trip to the server: proves the connection and the server are alive. Resolves to ms taken. */
  async ping(): Promise<number> {
    const info = await this.ready;
    const start = performance.now();
    // An old server has no ping; the probe is a command it always answers.
    await this.send(info.extended ? 'ping\n' : probe(this.probeName));
    return performance.now() - start;
  }

  /** Closes the connection; the server releases every lock it held. */
  disconnect(): Promise<void> {
    this.ending = true;
    if (this.reconnecting) {
      const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
      this.stopReconnecting();
      return closed;
    }
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  /**
   * Releases a lock and closes the connection, without waiting for the reply:
   * for a process that exits next. The server then counts a release, not an
   * orphan; should the request not arrive, the close releases the lock anyway.
   */
  releaseAndClose(name: string, shared = false): void {
    this.ending = true;
    if (this.closed || this.connecting) return;
    checkName(name);
    this.flush();
    // An old server takes one request at a time: with one in flight, the close alone.
    const busy = !this.info?.extended && this.pending.length > 0;
    if (busy) this.socket.end();
    else this.socket.end(`${shared ? 'sr' : 'r'} ${name}\n`);
  }

  /** Drops the connection at once (no FIN handshake wait). */
  destroy(): void {
    this.ending = true;
    if (this.reconnecting) this.stopReconnecting();
    else this.socket.destroy();
  }

  /** Closed for good: not while it reconnects after a planned restart. */
  get isClosed(): boolean {
    return this.closed && !this.reconnecting;
  }

  /** Between the going-away line of a planned restart and being back (or giving up). */
  get isRestarting(): boolean {
    return this.restart !== null || this.reconnecting;
  }

  // ---- planned restarts (docs/protocol.md, "Planned restarts") ----

  private entry(token: number | null): HeldEntry {
    return { token, on: this.generation };
  }

  /**
   * The server is going away and keeps our locks for grace ms. Nothing more
   * comes on this connection, and every request it has not answered had no
   * effect: they are sent again once back. 'restarting' is emitted first.
   */
  private goingAway(grace: number, key: string): void {
    this.emit('restarting', grace);
    // Replies that came in the same read are settled after this, but before
    // any new connection: a lock they grant is held on this one (see HeldEntry).
    this.keys.set(this.generation, key);
    // Giving up a little before the server frees the locks: never after it.
    const deadline = performance.now() + grace - Math.min(RECLAIM_MARGIN, grace / 10);
    if (this.reclaimLocks && !this.ending) this.restart = { grace, deadline };
    else this.failure ??= new LockdError('the lock server shut down', 'ECONNCLOSED');
    this.socket.destroy();
  }

  private startReconnecting(): void {
    this.reconnecting = true;
    this.queued ??= [];
    for (const p of this.pending.drain()) {
      if (p.timer) clearTimeout(p.timer);
      p.timer = undefined;
      p.lines = [];
      if (p.notAgain) p.reject(RESTARTED);
      else this.resend.push(p);
    }
    void this.reconnect();
  }

  /** disconnect() or destroy() while reconnecting: the attempt under way, or the wait for the next, ends now. */
  private stopReconnecting(): void {
    this.stopWaiting?.abort();
    this.socket.destroy();
  }

  /** Connects again, with backoff and jitter, until the grace is over; then takes back each lock held and sends again what was not answered. */
  private async reconnect(): Promise<void> {
    const { grace, deadline } = this.restart!;
    this.restart = null;
    const backoff = new Backoff(RECONNECT_FIRST, RECONNECT_MAX);
    const stop = (this.stopWaiting = new AbortController());
    let info: ServerInfo | null = null;
    // The grace told less what the server took to write its state: 14998 ms is said as 15s.
    let why = `the lock server did not come back within ${formatDuration(Math.round(grace / 100) * 100)}`;
    while (info === null && !this.ending) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      this.open();
      try {
        info = await this.handshake(Math.min(this.connectTimeout, left));
      } catch (err) {
        if ((err as LockdError).code === 'EAUTH') {
          why = `the lock server came back but refused us: ${(err as LockdError).message}`;
          break;
        }
        if (this.ending) break;
        await sleep(Math.min(backoff.next(), deadline - performance.now()), stop.signal);
      }
    }
    this.reconnecting = false;
    if (info !== null && !info.extended) why = 'an old server came back, which cannot give locks back';
    if (info === null || !info.extended || this.ending) {
      const err = new LockdError(why, 'ELOST');
      this.loseAll(err, !this.ending);
      this.failure = err;
      if (this.closed) this.closeForGood();
      else this.socket.destroy();
      return;
    }
    if (this.registered !== null) this.request(`iam ${this.registered}\n`, {}).catch(() => {});
    for (const [held, shared] of [[this.heldExclusive, false], [this.heldShared, true], [this.releasingShared, true]] as const) {
      // Not one still asked for: its request is sent again, or made after the restart.
      for (const [name, entry] of held) if (entry.on !== 0) this.reclaimLock(held, name, shared, entry);
    }
    for (const p of this.resend.splice(0)) {
      if (p.again) p.text = p.again();
      this.enqueue(p);
    }
    this.sendQueued();
  }

  /**
   * Takes one lock back with its token and key: 'reclaimed', or 'lost' (not
   * for a shared lock whose release was under way: it goes anyway). Cut
   * short by another restart, it is tried again after that one.
   */
  private reclaimLock(held: Map<string, HeldEntry>, name: string, shared: boolean, entry: HeldEntry): void {
    const lost = (why: string) => {
      if (held.get(name) !== entry) return;
      held.delete(name);
      if (held !== this.releasingShared) this.emit('lost', new LockdError(why, 'ELOST'), { name, shared } satisfies HeldLockInfo);
    };
    const lock = `${shared ? 'shared lock' : 'lock'} "${brief(name)}"`;
    // get() and getShared() answer no token: nothing to reclaim with.
    if (entry.token === null) return lost(`the lock server restarted; ${lock} was taken without a fencing token and cannot be reclaimed`);
    const key = this.keys.get(entry.on);
    if (key === undefined) return lost(`the lock server restarted; ${lock} was not held where it said so`);
    const token = entry.token;
    this.request(`${shared ? 'rsg' : 'rg'} ${token} ${key} ${name}\n`, { notAgain: true }).then(
      ([line]) => {
        if (!parseGrant(line)) return lost(`the lock server restarted and did not give ${lock} back (its grace may have run out)`);
        entry.on = this.generation;
        if (held !== this.releasingShared) this.emit('reclaimed', { name, shared, token } satisfies HeldLockInfo);
      },
      (err: Error) => {
        if (err !== RESTARTED) lost(`the lock server restarted; reclaiming ${lock} failed: ${err.message}`);
      },
    );
  }

  /** Every lock held is lost ('lost' for each, if tell), and every request the server went away from fails. */
  private loseAll(err: LockdError, tell = true): void {
    for (const [held, shared] of [[this.heldExclusive, false], [this.heldShared, true]] as const) {
      if (tell) for (const name of held.keys()) this.emit('lost', err, { name, shared } satisfies HeldLockInfo);
      held.clear();
    }
    this.releasingShared.clear();
    for (const p of this.resend.splice(0)) p.reject(err);
  }

  // ---- plumbing ----

  private closedError(): LockdError {
    return this.failure ?? new LockdError('the connection to the lock server is closed', 'ECONNCLOSED');
  }

  private async simple(cmd: string, name: string, failure: 'ELOCKBUSY' | 'ENOTHELD' | null): Promise<number> {
    checkName(name);
    const line = await this.line(`${cmd} ${name}`);
    const [n, text] = splitStatus(line);
    if (Number.isNaN(n)) throw new LockdError(`unexpected reply to ${cmd}: ${brief(line)}`, 'EPROTOCOL');
    if (n === 0 && failure) throw failureOf(text, failure);
    return n;
  }

  /**
   * `NAME: VALUE` lines as pairs. With the lock name known, its lines are
   * found by that prefix: a name may hold ": " itself, and `d ` for the lock
   * named "" is, on the wire, `d` (every lock).
   */
  private async pairs(command: string, disabledMessage: string, lock?: string): Promise<[string, string][]> {
    // glockd with its registry off never answers `d` or `sd`; `who` it refuses.
    const lines = await this.multi(command, disabledMessage === 'dump');
    if (lines.length === 1 && lines[0] === '0 disabled') {
      throw new LockdError(disabledMessage === 'dump' ? 'The dump feature of the lockd server is disabled.' : disabledMessage, 'EDISABLED');
    }
    if (lock === undefined) return lines.map(splitPair);
    const prefix = `${lock}: `;
    return lines.filter((line) => line.startsWith(prefix)).map((line) => [lock, line.slice(prefix.length)]);
  }

  /** Sends one request line and resolves to its one reply line. */
  private async line(request: string): Promise<string> {
    return (await this.send(`${request}\n`))[0];
  }

  /** Sends a request with a multi-line reply and resolves to its lines. */
  private multi(request: string, mayHang = false): Promise<string[]> {
    return this.send(`${request}\n`, { multi: true, mayHang });
  }

  /**
   * Sends once the handshake has shown the server's kind: it decides how
   * requests are written and how a multi-line reply ends.
   */
  private send(text: string, shape: ReplyShape = {}): Promise<string[]> {
    return this.whenKnown(() => this.request(text, shape));
  }

  /** Runs `start` at once if the server's kind is known (or never will be), else when it is, in call order. */
  private whenKnown<T>(start: () => Promise<T>): Promise<T> {
    if (this.queued === null || (this.closed && !this.reconnecting)) return start();
    return new Promise((resolve, reject) => {
      this.queued!.push(() => start().then(resolve, reject));
    });
  }

  /**
   * Queues for a reply and writes the request: to lockd-server at once
   * (batched with others made in the same tick), to an old server (or before
   * the handshake's answer) once the replies before it have come.
   */
  private request(text: string, shape: ReplyShape): Promise<string[]> {
    if (this.closed) return Promise.reject(this.closedError());
    const old = this.info !== null && !this.info.extended;
    // glockd cuts a longer line at its read size and takes the rest for another request.
    if (old && Buffer.byteLength(text, 'utf8') > GLOCKD_READ_SIZE) {
      return Promise.reject(new LockdError(`a request of more than ${GLOCKD_READ_SIZE} bytes, which an old server (glockd) would cut`, 'EINVAL'));
    }
    // From an old server a multi-line reply has no end: the probe's reply
    // behind it marks the end. Padded, the request fills glockd's reads, so
    // the probe in the same write is read, not dropped.
    if (shape.multi && old) text = padLine(text.slice(0, -1)) + probe(this.probeName);
    return new Promise((resolve, reject) => {
      this.enqueue({ ...shape, text, lines: [], resolve, reject, timeout: this.timeoutOf(shape, old) });
    });
  }

  private enqueue(p: Pending): void {
    this.pending.push(p);
    if (this.pending.length === 1) {
      this.armTimer(p);
      this.write(p.text);
    } else if (this.info?.extended) {
      this.write(p.text);
    }
  }

  private timeoutOf(shape: ReplyShape, old: boolean): number {
    if (shape.untimed) return 0;
    if (this.requestTimeout > 0) return this.requestTimeout + (shape.serverWait ?? 0);
    return shape.mayHang && old ? OLD_SERVER_REPLY_TIMEOUT : 0;
  }

  private write(text: string): void {
    // A resolved promise, not queueMicrotask(), which builds an
    // AsyncResource each call (a cost in lockd-run's start-up).
    if (this.out === '') void RESOLVED.then(() => this.flush());
    this.out += text;
  }

  private flush(): void {
    if (this.out === '' || this.closed || this.connecting) return;
    this.socket.write(this.out);
    this.out = '';
  }

  private onData(text: string): void {
    let start = 0;
    const data = this.partial === '' ? text : this.partial + text;
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl < 0) break;
      if (nl - start > MAX_REPLY_LINE) return this.refuseLine();
      let line = data.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.onLine(line);
    }
    this.partial = data.slice(start);
    // Refused before it is whole: its memory is the bound's point.
    if (this.partial.length > MAX_REPLY_LINE) this.refuseLine();
  }

  /** A reply line over MAX_REPLY_LINE: whatever answers is not a lock server, or is broken. */
  private refuseLine(): void {
    this.partial = '';
    this.socket.destroy(new LockdError(`a reply line longer than ${MAX_REPLY_LINE} characters`, 'EPROTOCOL'));
  }

  private onLine(line: string): void {
    // The handshake failed: what the server said after it is not for us.
    if (this.socket.destroyed) return;
    // Only lockd-server sends it, and only after hello; no reply line starts with "!".
    if (line.charCodeAt(0) === 0x21 && this.info?.extended) {
      const away = parseGoingAway(line);
      if (away) return this.goingAway(away.grace, away.key);
    }
    const p = this.pending.peek();
    if (!p) return; // nothing asked: an old server's stray line
    if (p.multi) {
      if (this.endsMulti(line)) return this.complete(p);
      // Not an entry: every line of these replies holds ": ".
      if (line !== '') p.lines.push(line);
      return;
    }
    if (line === '' && !this.info?.extended) return; // old servers sometimes send blank lines
    p.lines.push(line);
    if (!p.until || p.until(p.lines)) this.complete(p);
  }

  private endsMulti(line: string): boolean {
    return this.info!.extended ? line === '.' : isProbeReply(line, this.probeName);
  }

  private complete(p: Pending): void {
    this.pending.shift();
    if (p.timer) clearTimeout(p.timer);
    const next = this.pending.peek();
    if (next) {
      this.armTimer(next);
      if (!this.info?.extended) this.write(next.text);
    }
    p.resolve(p.lines);
  }

  /**
   * A request's timeout runs from when it is first in line: replies come in
   * order, so the time spent behind a queued wait is not its own.
   */
  private armTimer(p: Pending): void {
    if (p.timeout === 0 || p.timeout === Infinity || p.timer) return;
    p.timer = setTimeout(() => {
      const cmd = p.text.slice(0, p.text.search(/[ \n]/));
      const why = p.mayHang && !this.info?.extended
        ? ` (glockd started with -registry=false never answers me, d or sd)`
        : '';
      this.socket.destroy(new LockdError(`no reply to "${cmd}" from the lock server within ${p.timeout} ms${why}`, 'ETIMEDOUT'));
    }, p.timeout);
  }

  private onClose(): void {
    this.closed = true;
    // Closed before the handshake's answer (a TLS port spoken to in plain text, say): we never got in.
    if (this.info === null) this.failure ??= new LockdError('the lock server closed the connection before answering', 'ECONNECT');
    if (this.reconnecting) {
      // An attempt that failed: only its handshake was in flight.
      for (const p of this.pending.drain()) p.reject(this.closedError());
      return;
    }
    if (this.restart && !this.ending) return this.startReconnecting();
    this.closeForGood();
  }

  private closeForGood(): void {
    const err = this.closedError();
    // Not news to a caller that closed it.
    this.loseAll(new LockdError('the connection to the lock server closed', 'ECONNCLOSED'), !this.ending);
    for (const p of this.pending.drain()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    if (this.queued) {
      const queued = this.queued;
      this.queued = [];
      for (const send of queued) send();
    }
    this.emit('close');
  }
}


/** A failure reply: a refusal for a limit (EREFUSED) or the command's own failure. */
function failureOf(text: string, code: 'ELOCKBUSY' | 'ENOTHELD'): LockdError {
  const why = parseRefusal(text);
  return why === null ? new LockdError(brief(text), code) : refusedError(why);
}

function refusedError(why: string): LockdError {
  return new LockdError(why, 'EREFUSED');
}

function disabledOr(line: string, message: string): LockdError {
  return line === '0 disabled'
    ? new LockdError(message, 'EDISABLED')
    : new LockdError(`unexpected reply: ${brief(line)}`, 'EPROTOCOL');
}

function checkName(name: string): void {
  if (/[\r\n]/.test(name)) throw new LockdError('a lock or client name cannot contain a line break', 'EINVAL');
}

function checkToken(token: string): void {
  checkName(token);
  if (Buffer.byteLength(token, 'utf8') > MAX_AUTH_TOKEN) {
    throw new LockdError(`an auth token longer than ${MAX_AUTH_TOKEN} bytes`, 'EINVAL');
  }
}

/** Connects to a lock server at { tcp: 'host:port' }, { unix: path }, or 'host:port' / 'unix:path'. */
export function connect(target: Target, options?: ClientOptions): Client {
  return new Client(targetEndpoint(target), options);
}

/** Where a Target points. Throws a one-line Error on nonsense. */
export function targetEndpoint(target: Target): Endpoint {
  if (typeof target === 'string') return parseEndpoint(target);
  if ('unix' in target) return { path: target.unix };
  return parseEndpoint(target.tcp);
}
