import * as R from '../protocol/replies.js';
import { parseMax, parseToken, parseWaitMs, splitWord } from '../protocol/request.js';
import type { ServerState } from './state.js';
import type { Session } from './session.js';
import { VERSION } from '../version.js';
import { alreadyAuthenticated, digestMatches } from './auth.js';
import { entryBytes } from '../locks/lock-table.js';
import { brief } from '../util/brief.js';
import { formatOmitted, formatRecord, type ClientRecord, type HolderRecord, type LockRecord, type WaiterRecord } from '../protocol/ctl-records.js';
import type { Held, Waiter } from '../locks/lock-table.js';

/** A reply, or null when the command waits and answers later through Session.answerWait. */
export type Reply = string | null;

interface Command {
  readonly name: string;
  /**
   * How `q` shows its counter: always (the original counters), once used
   * (iam, me, who, as glockd does), or never (our extensions, so that old
   * clients see exactly the keys they know).
   */
  readonly stat: 'always' | 'used' | 'never';
  /** Multi-line reply: ends with a terminator for connections that said `hello`. */
  readonly multiline?: boolean;
  /** Only for connections that said `hello`: to the others an unknown command, as on the old servers. */
  readonly afterHello?: boolean;
  readonly run: (srv: ServerState, s: Session, arg: string) => Reply;
}

export const CAPABILITIES = ['end', 'wait', 'max', 'token', 'ping', 'auth', 'ctl', 'reclaim'] as const;

// ---- exclusive locks ----

/**
 * Why a new table entry or registration for name is refused, or null when
 * it is not: the name is over --max-name, the connection holds the most
 * locks it may, or the entry would not fit in --max-memory. Refusals are
 * reported in one line a second at most.
 */
function refusal(srv: ServerState, s: Session, name: string, lock: boolean): string | null {
  const policy = srv.policy;
  let why: string | null = null;
  if (name.length > policy.maxName) why = 'name too long';
  else if (lock && srv.table.heldBy(s) >= policy.maxLocksPerConnection) why = 'too many locks';
  else if (!srv.memoryFits(entryBytes(name))) why = 'memory full';
  if (why !== null) {
    srv.counters.refusals[why === 'memory full' ? 'full' : 'limit']++;
    srv.refusals.report(() => {
      const detail = why === 'name too long' ? `${name.length} bytes, the most is ${policy.maxName}`
        : why === 'too many locks' ? `holds ${srv.table.heldBy(s)}, the most one connection may`
        : `${srv.memoryUsed} of ${policy.maxMemory} bytes (--max-memory) in use`;
      return `${brief(s.label)}: refused ${brief(name)}: ${why} (${detail})`;
    });
  }
  return why;
}

/** The command's failure reply, with the reason for a connection that said `hello`. */
function refused(s: Session, failure: string, why: string): string {
  return s.ext ? R.refusedFor(why, failure) : failure;
}

/** A lock that this connection does not hold yet: why it may not have it, or null. */
function newLockRefusal(srv: ServerState, s: Session, name: string, shared: boolean): string | null {
  return srv.table.holds(s, name, shared) ? null : refusal(srv, s, name, true);
}

function get(srv: ServerState, s: Session, name: string): Reply {
  const why = newLockRefusal(srv, s, name, false);
  if (why !== null) return refused(s, R.lockGet(false, name), why);
  const ok = srv.table.get(s, name) !== 0;
  if (ok) srv.log?.(`${brief(s.label)} obtained lock ${brief(name)}`);
  else srv.counters.refusals.busy++;
  return R.lockGet(ok, name);
}

function release(srv: ServerState, s: Session, name: string): Reply {
  const ok = srv.table.release(s, name);
  if (ok) srv.log?.(`${brief(s.label)} released lock ${brief(name)}`);
  return R.lockRelease(ok, name);
}

function inspect(srv: ServerState, _s: Session, name: string): Reply {
  return R.lockInspect(srv.table.exclusive.has(name), name);
}

function dumpExclusive(srv: ServerState, _s: Session, name: string): Reply {
  if (!srv.features.dump) return R.DISABLED;
  const table = srv.table.exclusive;
  if (name !== '') {
    const held = table.get(name);
    return held ? R.pair(name, (held.owner as Session).label) : '';
  }
  let out = '';
  for (const [lock, held] of table) out += R.pair(lock, (held.owner as Session).label);
  return out;
}

// ---- shared locks ----

function sharedGet(srv: ServerState, s: Session, name: string): Reply {
  // The old `sg` has no failure reply; `0 ... Shared Lock Get Failure` is one
  // by any client's reading of the count.
  const why = newLockRefusal(srv, s, name, true);
  if (why !== null) return refused(s, R.sharedRefused(name), why);
  const count = srv.table.sharedGet(s, name);
  if (count === 0) {
    // Reserved for its holders' reclaim after a planned restart.
    srv.counters.refusals.busy++;
    return R.sharedRefused(name);
  }
  srv.log?.(`${brief(s.label)} obtained shared lock ${brief(name)} (${count} holders)`);
  return R.sharedGet(count, name);
}

function sharedRelease(srv: ServerState, s: Session, name: string): Reply {
  const ok = srv.table.sharedRelease(s, name);
  if (ok) srv.log?.(`${brief(s.label)} released shared lock ${brief(name)}`);
  return R.sharedRelease(ok, name);
}

function sharedInspect(srv: ServerState, _s: Session, name: string): Reply {
  return R.sharedInspect(srv.table.sharedCount(name), name);
}

function dumpShared(srv: ServerState, _s: Session, name: string): Reply {
  if (!srv.features.dump) return R.DISABLED;
  let out = '';
  const lines = (lock: string, holders: Map<unknown, unknown>) => {
    for (const holder of holders.keys()) out += R.pair(lock, (holder as Session).label);
  };
  if (name !== '') {
    const holders = srv.table.shared.get(name);
    if (holders) lines(name, holders);
  } else {
    for (const [lock, holders] of srv.table.shared) lines(lock, holders);
  }
  return out;
}

/** `dump` and `dump shared`: the whole table on one line, as JSON. */
function dumpTable(srv: ServerState, _s: Session, what: string): Reply {
  if (!srv.features.dump) return R.DISABLED;
  const out: Record<string, unknown> = Object.create(null);
  if (what === 'shared') {
    for (const [lock, holders] of srv.table.shared) {
      out[lock] = Array.from(holders.keys(), (h) => (h as Session).label);
    }
  } else {
    for (const [lock, held] of srv.table.exclusive) out[lock] = (held.owner as Session).label;
  }
  return JSON.stringify(out) + '\n';
}

// ---- registry ----

function me(_srv: ServerState, s: Session): Reply {
  return R.me(s.address, s.label);
}

function iam(srv: ServerState, s: Session, name: string): Reply {
  if (!srv.features.registry) return R.DISABLED;
  // `0 disabled` is the one failure reply `iam` has.
  const why = name === '' ? null : refusal(srv, s, name, false);
  if (why !== null) return refused(s, R.DISABLED, why);
  srv.registry.register(s, name);
  srv.log?.(`${s.address} is now called ${brief(s.label)}`);
  return R.OK;
}

function who(srv: ServerState, _s: Session, name: string): Reply {
  if (!srv.features.dump || !srv.features.registry) return R.DISABLED;
  let out = '';
  for (const [session, registered] of srv.registry.entries()) {
    if (name === '' || name === registered) out += R.pair(session.address, registered);
  }
  return out;
}

// ---- stats ----

function stats(srv: ServerState): Reply {
  return statRows(qRows(srv, 1));
}

/** `q`'s rows: its original keys, and the counts of the commands it shows (less the `q`s being answered). */
function qRows(srv: ServerState, answering: number): [string, number][] {
  const rows: [string, number][] = [
    ['connections', srv.sessions.size],
    ['invalid_commands', srv.counters.invalidCommands],
    ['locks', srv.table.exclusive.size],
    ['orphans', srv.counters.orphans],
    ['shared_locks', srv.table.shared.size],
    ['shared_orphans', srv.counters.sharedOrphans],
  ];
  COMMAND_LIST.forEach((cmd, i) => {
    // As both old servers do, `q` shows the count before the one being answered.
    const n = srv.commandCounts[i] - (cmd.name === 'q' ? answering : 0);
    if (cmd.stat === 'always' || (cmd.stat === 'used' && n > 0)) rows.push([`command_${cmd.name}`, n]);
  });
  return rows;
}

function statRows(rows: [string, number][]): string {
  rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let out = '';
  for (const [key, value] of rows) out += R.stat(key, value);
  return out;
}

// ---- operator commands (docs/protocol.md, "Operator commands") ----

/** `stats`: q's counters and the ones q cannot show old clients. */
function fullStats(srv: ServerState): Reply {
  const { table, counters } = srv;
  return statRows([
    ...qRows(srv, 0),
    ['waiters', table.waiters],
    ['shared_holders', table.sharedHolders],
    ['grants_at_once', table.counts.grantsAtOnce],
    ['grants_after_wait', table.counts.grantsAfterWait],
    ['releases', table.counts.releases],
    ['connections_refused', counters.connectionsRefused],
    ['refusals_busy', counters.refusals.busy],
    ['refusals_full', counters.refusals.full],
    ['refusals_limit', counters.refusals.limit],
    ['refusals_auth', counters.refusals.auth],
    ['reserved', srv.reservations.size],
    ['memory_used', srv.memoryUsed],
    ['memory_limit', srv.policy.maxMemory],
    ['uptime_seconds', Math.floor((Date.now() - srv.started) / 1000)],
  ]);
}

function holderRecord(held: Held, now: number): HolderRecord {
  const s = held.owner as Session;
  const max = held.shared ? held.max : null;
  const record: HolderRecord = { name: s.label, address: s.address, since: held.since, age: now - held.since, token: held.token, max };
  if (s.reserved) record.reserved = true;
  return record;
}

function waiterRecords(srv: ServerState, name: string, shared: boolean, now: number): WaiterRecord[] {
  const records: WaiterRecord[] = [];
  for (const w of srv.table.waiting(name, shared) as Iterable<Waiter>) {
    if (records.length === MAX_LISTED) break;
    const s = w.owner as Session;
    records.push({ name: s.label, address: s.address, since: w.since, age: now - w.since, max: shared ? w.max : null });
  }
  return records;
}

/** The first MAX_LISTED of a lock's holders or waiters are listed: one record must stay one readable line. */
const MAX_LISTED = 50;
/** Past this many characters, a reply lists no more records: it says how many it left out. */
const MAX_RECORDS_REPLY = 4 * 1024 * 1024;

/** `locks [PREFIX]`: every lock whose name starts with PREFIX, with its holders and waiters. */
function locks(srv: ServerState, _s: Session, prefix: string): Reply {
  if (!srv.features.dump) return R.DISABLED;
  const now = Date.now();
  const out = new RecordReply();
  const waiting = (name: string, shared: boolean) => srv.table.waitingCount(name, shared);
  for (const [name, held] of srv.table.exclusive) {
    if (!name.startsWith(prefix)) continue;
    out.add(() => ({
      name, shared: false, holderCount: 1, waiterCount: waiting(name, false),
      holders: [holderRecord(held, now)], waiters: waiterRecords(srv, name, false, now),
    }));
  }
  for (const [name, holders] of srv.table.shared) {
    if (!name.startsWith(prefix)) continue;
    out.add(() => {
      const listed: HolderRecord[] = [];
      for (const held of holders.values()) {
        if (listed.length === MAX_LISTED) break;
        listed.push(holderRecord(held, now));
      }
      return { name, shared: true, holderCount: holders.size, waiterCount: waiting(name, true), holders: listed, waiters: waiterRecords(srv, name, true, now) };
    });
  }
  return out.text();
}

/** `clients`: every connection, with what it holds and waits for. */
function clients(srv: ServerState): Reply {
  if (!srv.features.dump) return R.DISABLED;
  const now = Date.now();
  const out = new RecordReply();
  for (const s of srv.sessions) {
    const waiting = s.waiter?.name ?? null;
    out.add(() => ({ name: s.label, address: s.address, since: s.since, age: now - s.since, locks: s.held.size, waiting }));
  }
  return out.text();
}

/** A reply of records, cut at MAX_RECORDS_REPLY characters with a last line that says how many were left out. */
class RecordReply {
  private out = '';
  private omitted = 0;

  add(record: () => LockRecord | ClientRecord): void {
    if (this.out.length >= MAX_RECORDS_REPLY) this.omitted++;
    else this.out += formatRecord(record());
  }

  text(): string {
    return this.omitted === 0 ? this.out : this.out + formatOmitted(this.omitted);
  }
}

// ---- extensions (docs/protocol.md) ----

function hello(_srv: ServerState, s: Session): Reply {
  s.ext = true;
  return R.hello(VERSION, CAPABILITIES);
}

function ping(): Reply {
  return R.PONG;
}

/** `wg MS NAME`: exclusive get, waiting in line up to MS milliseconds (-1: forever). */
function waitGet(srv: ServerState, s: Session, arg: string): Reply {
  const [msWord, name] = splitWord(arg);
  const ms = parseWaitMs(msWord);
  if (ms === null) return R.badArgument('wg', 'expected "wg MS NAME" with MS a whole number or -1');
  const why = newLockRefusal(srv, s, name, false);
  if (why !== null) return refused(s, R.lockGet(false, name), why);
  const token = srv.table.get(s, name);
  if (token !== 0) {
    srv.log?.(`${brief(s.label)} obtained lock ${brief(name)}`);
    return R.grant(1, token, name);
  }
  if (ms === 0) {
    srv.counters.refusals.busy++;
    return R.lockGet(false, name);
  }
  srv.table.enqueue(s, name, false);
  srv.log?.(`${brief(s.label)} waits for lock ${brief(name)}`);
  s.waitLimit = ms;
  return null;
}

/** `wsg MAX MS NAME`: shared get admitted only while fewer than MAX hold it (0: no maximum), waiting in line up to MS. */
function waitSharedGet(srv: ServerState, s: Session, arg: string): Reply {
  const [maxWord, rest] = splitWord(arg);
  const [msWord, name] = splitWord(rest);
  const max = parseMax(maxWord);
  const ms = parseWaitMs(msWord);
  if (max === null || ms === null) {
    return R.badArgument('wsg', 'expected "wsg MAX MS NAME" with MAX a whole number and MS a whole number or -1');
  }
  const why = newLockRefusal(srv, s, name, true);
  if (why !== null) return refused(s, R.sharedRefused(name), why);
  const count = srv.table.sharedTryGet(s, name, max);
  if (count !== 0) {
    srv.log?.(`${brief(s.label)} obtained shared lock ${brief(name)} (${count} holders)`);
    return R.sharedGrant(count, srv.table.sharedToken(s, name), name);
  }
  if (ms === 0) {
    srv.counters.refusals.busy++;
    return R.sharedRefused(name);
  }
  srv.table.enqueue(s, name, true, max);
  srv.log?.(`${brief(s.label)} waits for shared lock ${brief(name)} (max ${max})`);
  s.waitLimit = ms;
  return null;
}

// ---- planned restarts (docs/protocol.md, "Planned restarts") ----

/**
 * `rg TOKEN KEY NAME`, `rsg TOKEN KEY NAME`: takes back a lock held before a
 * planned restart, with its own token. Only the grant reserved under TOKEN,
 * for that NAME and mode, presented with the key its holder was sent.
 */
function reclaim(srv: ServerState, s: Session, arg: string, shared: boolean): Reply {
  const [tokenWord, rest] = splitWord(arg);
  const [key, name] = splitWord(rest);
  const token = parseToken(tokenWord);
  const held = token === null ? undefined : srv.reservations.get(token);
  const moved = held && held.name === name && held.shared === shared && keyFits(held, key) ? srv.table.transfer(held, s) : null;
  if (moved === null) {
    srv.log?.(`${brief(s.label)} could not reclaim ${shared ? 'shared lock' : 'lock'} ${brief(name)}: not reserved under that token and key`);
    return shared ? R.sharedRefused(name) : R.lockGet(false, name);
  }
  srv.reservations.delete(moved.token);
  srv.log?.(`${brief(s.label)} reclaimed ${shared ? 'shared lock' : 'lock'} ${brief(name)} (token ${moved.token})`);
  return shared ? R.sharedGrant(srv.table.sharedCount(name), moved.token, name) : R.grant(1, moved.token, name);
}

function keyFits(held: Held, key: string): boolean {
  const expected = (held.owner as Session).reclaimDigest;
  return expected !== null && digestMatches(key, Buffer.from(expected, 'hex'));
}

/** The one dispatch table. Order is irrelevant to the protocol; `q` sorts its keys. */
export const COMMAND_LIST: readonly Command[] = [
  { name: 'g', stat: 'always', run: get },
  { name: 'r', stat: 'always', run: release },
  { name: 'i', stat: 'always', run: inspect },
  { name: 'd', stat: 'always', multiline: true, run: dumpExclusive },
  { name: 'dump', stat: 'always', run: dumpTable },
  { name: 'sg', stat: 'always', run: sharedGet },
  { name: 'sr', stat: 'always', run: sharedRelease },
  { name: 'si', stat: 'always', run: sharedInspect },
  { name: 'sd', stat: 'always', multiline: true, run: dumpShared },
  { name: 'q', stat: 'always', multiline: true, run: stats },
  { name: 'me', stat: 'used', run: me },
  { name: 'iam', stat: 'used', run: iam },
  { name: 'who', stat: 'used', multiline: true, run: who },
  { name: 'hello', stat: 'never', run: hello },
  { name: 'ping', stat: 'never', run: ping },
  { name: 'wg', stat: 'never', run: waitGet },
  { name: 'wsg', stat: 'never', run: waitSharedGet },
  { name: 'auth', stat: 'never', run: alreadyAuthenticated },
  { name: 'rg', stat: 'never', afterHello: true, run: (srv, s, arg) => reclaim(srv, s, arg, false) },
  { name: 'rsg', stat: 'never', afterHello: true, run: (srv, s, arg) => reclaim(srv, s, arg, true) },
  { name: 'stats', stat: 'never', multiline: true, afterHello: true, run: fullStats },
  { name: 'locks', stat: 'never', multiline: true, afterHello: true, run: locks },
  { name: 'clients', stat: 'never', multiline: true, afterHello: true, run: clients },
];

/** Command word to index in COMMAND_LIST (a Map: command words are client data, `__proto__` included). */
export const COMMAND_INDEX = new Map(COMMAND_LIST.map((cmd, i) => [cmd.name, i]));
