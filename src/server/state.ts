import { LockTable, type Held, type Waiter } from '../locks/lock-table.js';
import { Registry } from './registry.js';
import { Counters } from './stats.js';
import type { Session } from './session.js';
import { RateLimitedWarning } from './rate-limited.js';
import { grant, lockGet, sharedGrant, sharedRefused } from '../protocol/replies.js';
import { brief } from '../util/brief.js';

export interface Features {
  /** `d`, `sd`, `dump`, `who` answer (else `0 disabled`). */
  dump: boolean;
  /** `iam` and `who` answer (else `0 disabled`). */
  registry: boolean;
}

export type Log = (message: string) => void;

export interface Policy {
  /** SHA-256 of the shared secret clients must send with `auth` first, or null for none. */
  authDigest: Buffer | null;
  /** How long a refused `auth` waits before its answer (slows down guessing). */
  authFailureDelay: number;
  /** Locks (exclusive and shared) one connection may hold at once. */
  maxLocksPerConnection: number;
  /** Longest lock or registry name taken, in bytes. */
  maxName: number;
  /** Bytes kept on clients' behalf (table entries, names, I/O buffers) beyond which new ones are refused. */
  maxMemory: number;
}

/** Everything one server shares between its connections. No I/O here either. */
export class ServerState {
  readonly table = new LockTable(Date.now() * 1000, Date.now);
  /** When the server started (ms since the epoch). */
  readonly started = Date.now();
  readonly registry = new Registry();
  readonly counters = new Counters();
  /** Every live connection's session, oldest first. */
  readonly sessions = new Set<Session>();
  /** Times each command ran, indexed like COMMAND_LIST. */
  readonly commandCounts: number[];
  /** Bytes in connections' input and output buffers (each connection keeps its share up to date). */
  bufferBytes = 0;
  /** Requests refused for a limit, reported in one line a second at most. */
  readonly refusals: RateLimitedWarning;
  /** Grants reserved after a planned restart, by token, until reclaimed or the grace ends (see handover.ts). */
  readonly reservations = new Map<number, Held>();
  /** Set by a planned shutdown once the table is written: closing connections leave it as it is. */
  handedOver = false;

  constructor(
    readonly features: Features,
    /** Verbose log, or null when quiet. */
    readonly log: Log | null,
    /** Always on: a client was cut off, and why. */
    readonly warn: Log,
    readonly policy: Policy,
    commandCount: number,
  ) {
    this.commandCounts = new Array<number>(commandCount).fill(0);
    this.refusals = new RateLimitedWarning(warn);
  }

  /** The bytes kept on clients' behalf, as --max-memory counts them. */
  get memoryUsed(): number {
    return this.table.bytes + this.registry.bytes + this.bufferBytes;
  }

  /** Whether bytes more fit in --max-memory. */
  memoryFits(bytes: number): boolean {
    return this.memoryUsed + bytes <= this.policy.maxMemory;
  }

  /** Answers every waiter the last table operation granted. */
  flushGrants(): void {
    const granted = this.table.granted;
    if (granted.length === 0) return;
    for (let i = 0; i < granted.length; i++) {
      const w = granted[i];
      const session = w.owner as Session;
      this.log?.(`${brief(session.label)} obtained ${w.shared ? 'shared lock' : 'lock'} ${brief(w.name)} after waiting`);
      session.answerWait(w.shared ? sharedGrant(w.count, w.token, w.name) : grant(1, w.token, w.name));
    }
    granted.length = 0;
  }

  /** A waiter's time is up: it leaves the queue, is refused as its command refuses a busy lock, and those behind it may get in. */
  giveUp(waiter: Waiter): void {
    this.table.cancel(waiter);
    this.counters.refusals.busy++;
    (waiter.owner as Session).answerWait(waiter.shared ? sharedRefused(waiter.name) : lockGet(false, waiter.name));
    this.flushGrants();
  }

  drop(session: Session): void {
    this.registry.forget(session);
    this.sessions.delete(session);
    // Its locks went to the state file: freeing them now would grant them to waiters that are being closed.
    if (this.handedOver) return;
    const { orphans, sharedOrphans } = this.table.drop(session);
    this.counters.orphans += orphans;
    this.counters.sharedOrphans += sharedOrphans;
    if (this.log && orphans + sharedOrphans > 0) {
      this.log(`${brief(session.label)} disconnected, orphaning ${orphans} lock(s) and ${sharedOrphans} shared lock(s)`);
    } else this.log?.(`${brief(session.label)} disconnected`);
    this.flushGrants();
  }
}
