import { goingAway } from '../protocol/replies.js';
import { SHUTDOWN_BOUND } from './connection.js';
import { expireReservations, handOver, reserve } from './handover.js';
import type { Session } from './session.js';
import { checkStateDir, readStateFile, writeStateFile } from './state-file.js';
import type { ServerState } from './state.js';

// The two I/O steps of a planned restart (docs/protocol.md, "Planned
// restarts"), for listen(): at start, take the state file and reserve its
// locks until the grace is over; at shutdown, write it and say what each
// connection is told.

/** What a planned shutdown did. */
export interface Shutdown {
  /** Locks written to the state file for reclaim (0 without a stateDir, or when the write failed). */
  locks: number;
  /** Connections told to reclaim them. */
  told: number;
  /** Why the state file could not be written, or null. */
  failed: string | null;
}

/** The key told to a connection that holds nothing: it has nothing to reclaim. */
const NO_KEY = '0';

/**
 * Writes the table to the state file in dir: what was done, and the
 * going-away line for each connection that said `hello`, holding locks or
 * not (a waiter then queues again). None when the write failed: the clients
 * then find their connection closed, as at a crash.
 */
export function handOverTo(dir: string, srv: ServerState, grace: number): Shutdown & { lines?: Map<Session, string> } {
  const handed = handOver(srv, grace);
  try {
    writeStateFile(dir, handed.state);
  } catch (err) {
    return { locks: 0, told: 0, failed: (err as Error).message };
  }
  // Clients count the grace from when they hear of it: what the write took is already gone.
  const announced = Math.max(0, grace - (Date.now() - handed.state.written));
  const lines = new Map<Session, string>();
  for (const s of srv.sessions) if (s.ext) lines.set(s, goingAway(announced, handed.keys.get(s) ?? NO_KEY));
  const locks = handed.state.holders.reduce((n, h) => n + h.locks.length, 0);
  return { locks, told: handed.keys.size, failed: null, lines };
}

/** Reserves the locks of the state file in dir, if any, until the grace is over; consume() once listening. */
export function takeState(dir: string, srv: ServerState): { consume(): void; until: number } | null {
  checkStateDir(dir);
  const taken = readStateFile(dir);
  if (taken === null) return null;
  const { consume } = taken;
  const now = Date.now();
  // For the grace its holders were told, from when it was written, plus the
  // longest the line took to reach them (they give up a little sooner still):
  // freed earlier, a lock could go to another while its holder still runs.
  // Counted from now at the latest, should the clock have gone back.
  const until = Math.min(taken.state.written, now) + taken.state.grace + SHUTDOWN_BOUND;
  if (until <= now) {
    srv.log?.('the state file of the planned shutdown is older than its grace: no locks reserved');
    return { consume, until: 0 };
  }
  if (reserve(srv, taken.state) === 0) return { consume, until: 0 };
  setTimeout(() => expireReservations(srv), until - now).unref();
  return { consume, until };
}
