// Exit statuses of both command-line tools (sysexits.h values), in one place.
// The man pages list them; keep them in step.

export const EXIT = {
  OK: 0,
  /** Bad command line. */
  USAGE: 64,
  /** lockd-run: the lock server cannot be reached. */
  UNAVAILABLE: 69,
  /** Internal error (a bug): the message includes a stack trace. */
  SOFTWARE: 70,
  /** lockd-server: cannot listen (address in use, permission denied) or write its pid file. */
  OSERR: 71,
  /** lockd-run: the server refused our auth token (or wanted one). */
  NOPERM: 77,
  /** Configuration error: an unreadable or empty auth token file. */
  CONFIG: 78,
  /** lockd-run: the lock was lost while the command ran. */
  LOST: 74,
  /** lockd-run: the lock is busy, or the wait timed out (changeable with -E). */
  BUSY: 75,
  /** lockd-run: the command exists but cannot be run. */
  CANNOT_EXECUTE: 126,
  /** lockd-run: the command was not found. */
  NOT_FOUND: 127,
  /** 128 + N: died of (or, for lockd-run while waiting, stopped by) signal N. */
  SIGNAL_BASE: 128,
} as const;
