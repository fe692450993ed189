import fs from 'node:fs';

/** Descriptors the server keeps for itself: standard streams, listeners, the event loop's own, a pid file, a refusal's socket. */
export const OWN_FILES = 32;

/** The soft limit on open files (`ulimit -n`), from /proc/self/limits; null where that cannot be read. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/**
 * The connection limit the open-file limit leaves room for: each connection
 * is a descriptor, and one over the limit needs one too, briefly, to be told
 * "too many connections" rather than reset.
 */
export function connectionsAllowed(wanted: number, fileLimit: number | null): number {
  if (fileLimit === null) return wanted;
  return Math.max(1, Math.min(wanted, fileLimit - OWN_FILES));
}
