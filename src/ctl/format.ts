import { formatDuration } from '../util/duration.js';
import { brief } from '../util/brief.js';
import type { ClientView, HolderView, LockView } from './view.js';

// lockd-ctl's tables for a terminal. What the server cannot know is "-".

const UNKNOWN = '-';

/**
 * A name as one cell: control and format characters (C0, C1, bidi
 * overrides, line separators) escaped, since a name may hold any byte and
 * must not drive the terminal; long ones cut.
 */
export function cell(text: string): string {
  return brief(text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`));
}

/** A holder kept from before a planned restart says so: it is not back yet. */
const holderName = (h: HolderView) => `${cell(h.name)}${h.reserved ? ' (reserved)' : ''}`;
const age = (ms: number | null) => (ms === null ? UNKNOWN : formatDuration(ms));
const known = (value: number | string | null) => (value === null ? UNKNOWN : String(value));

/** Rows aligned in columns two spaces apart; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)));
  const line = (r: string[]) => r.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join('  ').trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** The lowest maximum any listed holder asked for (each newcomer is held to its own). */
function maxOf(lock: LockView): number | null {
  const maxes = lock.holders.map((h) => h.max).filter((m): m is number => m !== null);
  return maxes.length === 0 ? null : Math.min(...maxes);
}

/** The holder held longest (the first for an old server, which shows no times). */
function oldest(lock: LockView): HolderView {
  return lock.holders.reduce((a, b) => ((b.age ?? -1) > (a.age ?? -1) ? b : a));
}

export function locksTable(locks: LockView[]): string {
  if (locks.length === 0) return '';
  return table(
    ['NAME', 'MODE', 'HOLDERS', 'AGE', 'TOKEN', 'WAITERS', 'HELD BY'],
    locks.map((lock) => {
      const max = maxOf(lock);
      const first = oldest(lock);
      return [
        cell(lock.name),
        lock.shared ? 'shared' : 'exclusive',
        `${lock.holderCount}${max === null ? '' : `/${max}`}`,
        age(first.age),
        known(first.token),
        known(lock.waiterCount),
        lock.holders.map(holderName).join(', '),
      ];
    }),
  );
}

export function lockDetail(lock: LockView): string {
  const what = `${lock.shared ? 'shared lock' : 'lock'} "${cell(lock.name)}"`;
  const max = maxOf(lock);
  let out = `${what}: ${lock.holderCount} holder(s)${max === null ? '' : `, at most ${max}`}\n`;
  out += table(['HOLDER', 'ADDRESS', 'AGE', 'TOKEN'], lock.holders.map((h) => [holderName(h), known(h.address), age(h.age), known(h.token)]));
  out += more(lock.holderCount, lock.holders.length);
  if (lock.waiters === null || lock.waiterCount === null) return `${out}waiters: - (an old server does not show them)\n`;
  if (lock.waiterCount === 0) return `${out}waiters: none\n`;
  out += `waiters, in queue order: ${lock.waiterCount}\n`;
  out += table(['WAITER', 'ADDRESS', 'WAITING'], lock.waiters.map((w) => [cell(w.name), w.address, age(w.age)]));
  return out + more(lock.waiterCount, lock.waiters.length);
}

function more(total: number, listed: number): string {
  return total > listed ? `(and ${total - listed} more)\n` : '';
}

export function clientsTable(clients: ClientView[]): string {
  if (clients.length === 0) return '';
  return table(
    ['NAME', 'ADDRESS', 'LOCKS', 'CONNECTED', 'WAITING FOR'],
    clients.map((c) => [cell(c.name), c.address, String(c.locks), age(c.age), c.waiting === null ? '' : cell(c.waiting)]),
  );
}

export function statsTable(stats: Record<string, number>): string {
  return table(['COUNTER', 'VALUE'], Object.entries(stats).map(([key, value]) => [key, String(value)]));
}
