import { createHash, timingSafeEqual } from 'node:crypto';
import { AUTH_FAILED, AUTH_REQUIRED, OK } from '../protocol/replies.js';
import type { Reply } from './commands.js';
import type { ServerState } from './state.js';
import type { Session } from './session.js';
import { brief } from '../util/brief.js';

export function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'latin1').digest();
}

/** Whether secret's digest is expected: digests of equal length compared in constant time, so timing tells nothing about it. */
export function digestMatches(secret: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(secret), expected);
}

/**
 * The first request of a connection to a server that requires a token: only
 * `auth TOKEN` gets in. Anything else, or a wrong token, is answered after a
 * fixed delay and the connection closed, no lock taken.
 */
export function authenticate(srv: ServerState, s: Session, cmd: string, token: string): Reply {
  const expected = srv.policy.authDigest!;
  if (cmd === 'auth' && digestMatches(token, expected)) {
    s.authed = true;
    return OK;
  }
  srv.counters.refusals.auth++;
  srv.warn(`${s.address}: ${cmd === 'auth' ? 'wrong auth token' : `"${brief(cmd)}" before auth`}, connection closed`);
  s.refusal = cmd === 'auth' ? AUTH_FAILED : AUTH_REQUIRED;
  s.refusalDelay = srv.policy.authFailureDelay;
  return null;
}

/** `auth` once in (or on a server without a token): nothing more to prove. */
export function alreadyAuthenticated(): Reply {
  return OK;
}
