// Reading replies, for clients. Pure functions over reply lines (without '\n').

/** "N text" → [N, text]; N is NaN when the line does not start with a number. */
export function splitStatus(line: string): [number, string] {
  const i = line.indexOf(' ');
  const head = i < 0 ? line : line.slice(0, i);
  return [/^\d+$/.test(head) ? Number(head) : NaN, i < 0 ? '' : line.slice(i + 1)];
}

/** "KEY: VALUE" → [KEY, VALUE], split at the first ": " as the original client does. */
export function splitPair(line: string): [string, string] {
  const i = line.indexOf(": ");
  return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 2)];
}

/** The reply to `hello`: its capability words, or null when the line is not one. */
export function parseHello(line: string): string[] | null {
  const m = /^1 hello lockd (\S+)(.*)$/.exec(line);
  return m ? m[2].trim().split(/\s+/).filter(Boolean) : null;
}

/** The reply to `me`: "1 ADDRESS NAME" (addresses hold no spaces; names may). */
export function parseMe(line: string): { address: string; name: string } | null {
  const m = /^1 (\S+) (.*)$/.exec(line);
  return m ? { address: m[1], name: m[2] } : null;
}

/** The reason in a refusal for a limit, "(REASON) Lock Get Failure: NAME" after the `0`, or null. */
export function parseRefusal(text: string): string | null {
  const m = /^\(([^)]*)\) /.exec(text);
  return m ? m[1] : null;
}

/** A grant of `wg`/`wsg`: "N TOKEN text" with N > 0; or null for a refusal "0 text". */
export function parseGrant(line: string): { count: number; token: number } | null {
  const m = /^(\d+) (\d+) /.exec(line);
  if (!m || m[1] === '0') return null;
  return { count: Number(m[1]), token: Number(m[2]) };
}

/** The going-away line (see replies.goingAway): the grace in ms and the reclaim key, or null when the line is not one. */
export function parseGoingAway(line: string): { grace: number; key: string } | null {
  const m = /^! going-away (\d{1,10}) ([0-9a-f]{1,64})$/.exec(line);
  return m ? { grace: Number(m[1]), key: m[2] } : null;
}

/**
 * The longest reply line a client takes, in characters: far above any line
 * a server sends (the longest, a dump's `NAME: HOLDER`, is about twice the
 * server's --max-line, which is at most 1 MiB), and a bound on what a wrong
 * or broken peer can make a client hold.
 */
export const MAX_REPLY_LINE = 4 * 1024 * 1024;
