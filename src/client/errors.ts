/** Every error the client library rejects with. `code` says which case it is. */
export class LockdError extends Error {
  constructor(
    message: string,
    readonly code: LockdErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LockdError';
  }
}

export type LockdErrorCode =
  /** Another connection holds the lock (`get`), or a wait timed out (`acquire`). */
  | 'ELOCKBUSY'
  /** Release of a lock this connection does not hold. */
  | 'ENOTHELD'
  /** The server has the dump or registry feature switched off. */
  | 'EDISABLED'
  /** The connection closed (or was never made) before the reply came. */
  | 'ECONNCLOSED'
  /** Connecting, or a reply, took longer than the timeout given to connect(). */
  | 'ETIMEDOUT'
  /** A name that cannot travel in the line protocol (it contains a line break). */
  | 'EINVAL'
  /** The server said something this client does not understand. */
  | 'EPROTOCOL'
  /** The server requires an auth token, and ours was missing or wrong. */
  | 'EAUTH'
  /** Could not connect: the socket error's code is in `cause`. */
  | 'ECONNECT'
  /** The server refused a new lock, wait or name for a limit (memory, name length, locks per connection); the message is the reason, such as `memory full`. */
  | 'EREFUSED'
  /** A lock held was lost across a restart of the server: it did not come back in time, or did not give the lock back (event 'lost'). */
  | 'ELOST'
  /** An old server (glockd, the original lockd) has no such command: locks(), clients(), stats(). */
  | 'EUNSUPPORTED';
