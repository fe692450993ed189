import { randomBytes } from 'node:crypto';
import { digest } from './auth.js';
import { Session } from './session.js';
import type { ServerState } from './state.js';
import type { Held } from '../locks/lock-table.js';
import { brief } from '../util/brief.js';

// A planned restart (docs/protocol.md, "Planned restarts"): the held locks go
// to a state file at shutdown, and the next start reserves them for their
// holders to reclaim. No file I/O here: state-file.ts reads and writes it.

export interface HandedLock {
  name: string;
  shared: boolean;
  token: number;
  /** When it was granted (ms since the epoch). */
  since: number;
  /** Shared only: the maximum it was joined under, null for none. */
  max: number | null;
}

export interface HandedHolder {
  /** What dumps showed for it (its registered name, or its address). */
  label: string;
  address: string;
  /** SHA-256 (hex) of the key it was sent in the going-away line: only that key reclaims its locks. */
  keyDigest: string;
  locks: HandedLock[];
}

export interface HandOver {
  lockd: 'state';
  version: 1;
  /** When it was written (ms since the epoch): holders retry for `grace` ms from then. */
  written: number;
  /** The grace announced to the holders (ms). */
  grace: number;
  holders: HandedHolder[];
}

/**
 * The table's grants, for the state file, and the going-away key of each
 * connection whose locks are in it. Only connections that said `hello` are
 * written: the others cannot be told, so nobody could reclaim their locks,
 * and reserving them would only keep their waiters waiting. Holders still
 * reserved from the restart before are carried over with their own keys.
 */
export function handOver(srv: ServerState, grace: number): { state: HandOver; keys: Map<Session, string> } {
  const keys = new Map<Session, string>();
  const holders: HandedHolder[] = [];
  const add = (s: Session, keyDigest: string) => {
    const locks: HandedLock[] = [];
    for (let held = s.held.head; held !== null; held = held.next) locks.push(lockOf(held));
    holders.push({ label: s.label, address: s.address, keyDigest, locks });
  };
  for (const s of srv.sessions) {
    if (!s.ext || s.held.size === 0) continue;
    const key = randomBytes(16).toString('hex');
    keys.set(s, key);
    add(s, digest(key).toString('hex'));
  }
  for (const s of reservedOwners(srv)) add(s, s.reclaimDigest!);
  return { state: { lockd: 'state', version: 1, written: Date.now(), grace, holders }, keys };
}

function lockOf(held: Held): HandedLock {
  return { name: held.name, shared: held.shared, token: held.token, since: held.since, max: held.shared && held.max !== Infinity ? held.max : null };
}

/**
 * Reserves the locks of a state file in the table, each for the holder that
 * held it, until expireReservations(). Returns how many it reserved.
 */
export function reserve(srv: ServerState, state: HandOver): number {
  let reserved = 0;
  for (const h of state.holders) {
    const owner = new Session(h.address, NOBODY_WAITS);
    owner.name = h.label;
    owner.reserved = true;
    owner.reclaimDigest = h.keyDigest;
    for (const lock of h.locks) {
      if (!srv.table.restore(owner, lock.name, lock.shared, lock.token, lock.since, lock.max ?? Infinity)) {
        srv.warn(`state file: ${lock.shared ? 'shared lock' : 'lock'} ${brief(lock.name)} listed twice; reserved once`);
        continue;
      }
      srv.reservations.set(lock.token, owner.held.tail!);
      reserved++;
    }
  }
  return reserved;
}

/** The grace is over: every lock not reclaimed is freed, and its waiters served in order. */
export function expireReservations(srv: ServerState): void {
  let freed = 0;
  for (const owner of reservedOwners(srv)) {
    const { orphans, sharedOrphans } = srv.table.drop(owner);
    srv.counters.orphans += orphans;
    srv.counters.sharedOrphans += sharedOrphans;
    freed += orphans + sharedOrphans;
  }
  srv.reservations.clear();
  if (freed > 0) srv.log?.(`reclaim grace over: freed ${freed} lock(s) not reclaimed`);
  srv.flushGrants();
}

function reservedOwners(srv: ServerState): Set<Session> {
  const owners = new Set<Session>();
  for (const held of srv.reservations.values()) owners.add(held.owner as Session);
  return owners;
}

/** A reserved holder never waits: it has no connection to answer. */
const NOBODY_WAITS = { answerWait() {} };
