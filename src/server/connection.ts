import type { OwnedSocket } from './adopt-socket.js';
import { execute } from './dispatch.js';
import { Session } from './session.js';
import { closeSoon } from './close-queue.js';
import type { ServerState } from './state.js';
import { brief } from '../util/brief.js';

export interface ConnectionLimits {
  /** Longest request line in bytes; a longer one closes the connection. */
  maxLine: number;
  /** Unsent reply bytes above which we stop reading from the client until it drains. */
  maxPendingOutput: number;
  /** How long output may stay above maxPendingOutput without draining before we cut the client off (ms). */
  writeTimeout: number;
  /** How long a partial request line may take to complete (ms); slower ones are dropped (slowloris). */
  lineTimeout: number;
  /** TCP keepalive idle time before the first probe (ms). */
  keepAlive: number;
}

/**
 * Framing and backpressure for one socket: splits input into lines, runs
 * them in order, and sends the replies to one read in one write.
 */
export class Connection {
  readonly session: Session;
  /** Received bytes not yet run: a partial line, or lines held back while blocked. */
  private input = '';
  /** A command is waiting for a lock: later lines wait their turn. */
  private blocked = false;
  /** Stopped reading because the client is not reading our replies. */
  private throttled = false;
  private waitTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private lineTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Replies not yet handed to the socket (see send()). */
  private pendingOut = '';
  private authTimer: NodeJS.Timeout | null = null;
  /** This connection's share of ServerState.bufferBytes. */
  private accounted = 0;
  /** A 'drain' listener will account for what the socket buffers. */
  private awaitingDrain = false;

  constructor(
    private readonly srv: ServerState,
    private readonly socket: OwnedSocket,
    /** The client's IP address ('unix' for a Unix socket), as admission counts it. */
    readonly ip: string,
    address: string,
    private readonly limits: ConnectionLimits,
    /** Called once the socket has closed. */
    private readonly gone: (conn: Connection) => void,
  ) {
    this.session = new Session(address, this);
    srv.sessions.add(this.session);
    srv.log?.(`${address} connected`);
    if (socket.remoteFamily) socket.setKeepAlive(true, limits.keepAlive);
    socket.setNoDelay(true);
    socket.owner = this;
    socket.on('error', ignore); // 'close' follows and does the cleanup
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
  }

  destroy(): void {
    this.socket.destroy();
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Received bytes as latin1 (one char per byte, so names round-trip byte for byte). */
  onData(text: string): void {
    this.input = this.input === '' ? text : this.input + text;
    this.run();
  }

  /** Runs every complete line we may run now; their replies go out in one write (see send()). */
  private run(): void {
    if (this.closed) return;
    const srv = this.srv;
    const socket = this.socket;
    const maxLine = this.limits.maxLine;
    const input = this.input;
    // Nothing is written while the lines run: what is unsent now stays unsent.
    const room = this.limits.maxPendingOutput - socket.writableLength - this.pendingOut.length;
    let out = '';
    let start = 0;
    while (!this.blocked) {
      const nl = input.indexOf('\n', start);
      if (nl < 0) break;
      if (nl - start > maxLine) return this.lineTooLong(out);
      const reply = execute(srv, this.session, input, start, nl);
      start = nl + 1;
      if (reply === null) {
        if (this.session.refusal !== null) return this.refuse(out);
        this.startWait();
      } else if (reply !== '') {
        out += reply;
        if (out.length > room) {
          this.throttle();
          break;
        }
      }
    }
    this.input = start === 0 ? input : input.slice(start);
    if (out !== '') this.send(out);
    srv.flushGrants();
    this.account();
    this.watchPartialLine(start > 0);
    if (this.input.length > maxLine) {
      // Lines held back while blocked are fine, up to a point; one overlong partial line is not.
      const nl = this.input.indexOf('\n');
      if (nl < 0 || nl > maxLine) return this.lineTooLong('');
    }
    this.pauseOrResume();
  }

  /**
   * The one place that decides whether we read from the client: not while
   * its unread replies are over the limit, nor while lines held back behind
   * a waiting command pile up; otherwise always.
   */
  private pauseOrResume(): void {
    // Over --max-memory, no more than one line's worth is held back.
    const heldBack = (this.srv.memoryFits(0) ? 16 : 1) * this.limits.maxLine;
    const hold = this.throttled || this.input.length > heldBack;
    if (hold && !this.socket.isPaused()) this.socket.pause();
    else if (!hold && this.socket.isPaused()) this.socket.resume();
  }

  /**
   * Replies wait until every readable socket of this event-loop turn has been
   * read, then go out together (as Redis does): one write per connection per
   * turn, and the peers are woken once the server is done. When the last
   * turn's replies all went to one connection, that connection's replies go
   * out at once instead, until another connection has replies too: a lone
   * client is not kept waiting for a batch of one (see soloWriter).
   */
  private send(out: string): void {
    if (out === '') return;
    if (this.pendingOut === '') {
      if (this === soloWriter) {
        this.pendingOut = out;
        return this.flush();
      }
      soloWriter = null;
      pendingFlush.push(this);
      if (pendingFlush.length === 1) setImmediate(flushAll);
    }
    this.pendingOut += out;
  }

  flush(): void {
    const out = this.pendingOut;
    if (out === '') return;
    this.pendingOut = '';
    if (this.closed) return;
    let flowing;
    if (!this.throttled) flowing = this.socket.write(out, 'latin1');
    // Go on reading once this has reached the kernel ('drain' would not come
    // if the write fitted under the socket's high-water mark).
    else flowing = this.socket.write(out, 'latin1', () => this.unthrottle());
    this.account();
    // What the socket buffers is counted until it has gone (a remainder under
    // the socket's high-water mark is counted until the next account()).
    if (!flowing && !this.awaitingDrain) {
      this.awaitingDrain = true;
      this.socket.once('drain', () => {
        this.awaitingDrain = false;
        this.account();
      });
    }
  }

  /** Keeps this connection's share of the bytes in I/O buffers (for --max-memory) up to date. */
  private account(): void {
    const now = this.closed ? 0 : this.input.length + this.pendingOut.length + this.socket.writableLength;
    this.srv.bufferBytes += now - this.accounted;
    this.accounted = now;
  }

  /**
   * A partial line must complete within lineTimeout: a client trickling bytes
   * (slowloris) is dropped. Idle connections with nothing pending are never
   * timed out, however long they hold their locks.
   */
  private watchPartialLine(progress = false): void {
    // Complete lines held back (behind a wait, or while throttled) are not a slow line.
    const partial = !this.blocked && !this.throttled && this.input !== '';
    // Each completed line restarts the clock: only a line that itself takes too long counts.
    if (progress && this.lineTimer !== null) {
      clearTimeout(this.lineTimer);
      this.lineTimer = null;
    }
    if (partial && this.lineTimer === null) {
      this.lineTimer = setTimeout(() => {
        this.srv.warn(`${brief(this.session.label)}: request line not completed within ${this.limits.lineTimeout} ms, connection closed`);
        this.hangUp();
        this.socket.destroy();
      }, this.limits.lineTimeout);
    } else if (!partial && this.lineTimer !== null) {
      clearTimeout(this.lineTimer);
      this.lineTimer = null;
    }
  }

  /**
   * With an auth token required, a connection that has not proved it within
   * the line timeout is closed: silent unauthenticated connections must not
   * fill the connection limit.
   */
  requireAuthWithin(ms: number): void {
    this.authTimer = setTimeout(() => {
      this.authTimer = null;
      if (this.session.authed || this.closed) return;
      this.srv.warn(`${this.session.address}: no auth within ${ms} ms, connection closed`);
      this.hangUp();
      this.socket.destroy();
    }, ms);
  }

  /** A refused connection (auth): the refusal after a fixed delay, then close. */
  private refuse(out: string): void {
    this.send(out);
    this.blocked = true;
    this.input = '';
    this.waitTimer = setTimeout(() => {
      this.waitTimer = null;
      this.send(this.session.refusal!);
      this.flush();
      this.hangUp();
      this.socket.destroySoon();
    }, this.session.refusalDelay);
  }

  /**
   * A planned shutdown: the replies already made go out, then line (the
   * going-away line, or null for none), then the connection closes. Nothing
   * more is run: every request without a reply had no effect.
   */
  goAway(line: string | null): void {
    if (this.closed) return;
    this.flush();
    this.hangUp();
    if (line === null) this.socket.end();
    else this.socket.end(line, 'latin1');
    // A client that does not read cannot hold up the shutdown.
    setTimeout(() => this.socket.destroy(), SHUTDOWN_BOUND).unref();
  }

  /** Sends the replies so far, releases its locks, and closes. */
  private lineTooLong(out: string): void {
    this.srv.warn(`${brief(this.session.label)}: request line longer than ${this.limits.maxLine} bytes, connection closed`);
    this.input = '';
    this.send(out);
    this.flush();
    this.hangUp();
    this.socket.destroySoon();
  }

  private startWait(): void {
    this.blocked = true;
    const ms = this.session.waitLimit;
    if (ms !== Infinity) {
      this.waitTimer = setTimeout(() => {
        this.waitTimer = null;
        this.srv.giveUp(this.session.waiter!);
      }, ms);
    }
  }

  /** The deferred reply of a waiting command: send it now, then go on with held-back lines. */
  answerWait(reply: string): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    this.blocked = false;
    if (this.closed) return;
    this.send(reply);
    if (this.input.indexOf('\n') >= 0) setImmediate(() => this.run());
    else {
      this.pauseOrResume();
      this.watchPartialLine();
    }
  }

  private throttle(): void {
    this.throttled = true;
    this.pauseOrResume();
    this.stallTimer ??= setTimeout(() => {
      this.srv.warn(`${brief(this.session.label)}: replies unread for ${this.limits.writeTimeout} ms, connection closed`);
      this.socket.destroy();
    }, this.limits.writeTimeout);
  }

  private unthrottle(): void {
    if (!this.throttled || this.closed) return;
    this.throttled = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.run();
  }

  /**
   * The client closed its side. Its locks go now, not after the socket's
   * teardown: when thousands of clients leave at once that is the difference
   * between their locks being free in milliseconds and in hundreds (see
   * close-queue.ts). Replies to its last requests are still sent before our
   * side closes.
   */
  onEnd(): void {
    this.flush();
    this.hangUp();
    // Everything written already reached the kernel: close (close(2) sends
    // it and then the FIN) instead of a shutdown first.
    if (this.socket.writableLength === 0) closeSoon(this.socket);
    else {
      this.socket.end();
      // A client that half-closed and never reads: its replies cannot wait for ever.
      setTimeout(() => this.socket.destroy(), this.limits.writeTimeout).unref();
    }
  }

  onClose(): void {
    this.hangUp();
    this.gone(this);
  }

  private hangUp(): void {
    if (this.closed) return;
    this.closed = true;
    if (soloWriter === this) soloWriter = null;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.lineTimer) clearTimeout(this.lineTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.account();
    this.srv.drop(this.session);
  }
}

// Shared by every connection (the socket is `this`): see OwnedSocket.
function ignore(): void {}
function onSocketEnd(this: OwnedSocket): void {
  this.owner.onEnd();
}
function onSocketClose(this: OwnedSocket): void {
  this.owner.onClose();
}

/** How long a planned shutdown waits for a connection's last lines to go out: after it, nothing more reaches the client. */
export const SHUTDOWN_BOUND = 2_000;

/** Connections with replies waiting for the end of this turn. */
const pendingFlush: Connection[] = [];
/**
 * The connection whose replies are written as soon as they are made: the only
 * one that had replies in the last batch. With one busy client, batching only
 * costs a trip through the event loop's check phase per reply; with many, it saves waking each peer
 * mid-batch. The first reply for any other connection turns batching back on.
 */
let soloWriter: Connection | null = null;
function flushAll(): void {
  // Not one that has closed meanwhile (its last replies before a half-close, say): it would only be kept in memory.
  soloWriter = pendingFlush.length === 1 && pendingFlush[0].open ? pendingFlush[0] : null;
  for (let i = 0; i < pendingFlush.length; i++) pendingFlush[i].flush();
  pendingFlush.length = 0;
}
