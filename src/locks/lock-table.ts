import { LinkedList, type Linked } from './linked-list.js';

// The lock table: who holds what, since when, who waits for what. Pure data,
// no I/O and no timers: the server passes a clock for the times it records,
// and decides when a waiter gives up and calls cancel(). Every operation is
// O(1) except drop(), which is O(what that owner held).

/** One connection, as the table sees it. The server keeps its own state beside it. */
export class Owner {
  /** The locks held, exclusive and shared, oldest first, linked through the table's own entries (see Held). */
  readonly held = new LinkedList<Held>();
  /** A connection waits for at most one lock at a time (its replies are in order). */
  waiter: Waiter | null = null;
  /**
   * Stands in for a holder expected back after a planned restart: its shared
   * locks admit nobody new until it is reclaimed or dropped (see restore()).
   */
  reserved = false;
}

export class Waiter implements Linked<Waiter> {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  /** The wait queue it is in, until granted or given up. */
  list: LinkedList<Waiter> | null = null;
  /** Set when granted: holders at grant and the fencing token. */
  count = 0;
  token = 0;
  constructor(
    readonly owner: Owner,
    readonly name: string,
    readonly shared: boolean,
    /** Shared only: admit while fewer than this many hold it (Infinity: no maximum). */
    readonly max: number,
    /** When it was queued (the table's clock). */
    readonly since: number,
  ) {}
}

/**
 * One grant: an exclusive lock's entry in the table, or one holder's among a
 * shared lock's holders, which is also a link in its owner's list of what it
 * holds. Taking and freeing a lock then touch the table alone, not a
 * per-owner Set too: such Sets were much of the lock table's time when
 * pipelined, mostly rebuilding themselves as they filled and emptied (see
 * docs/performance.md), and a hundred bytes or so of every connection
 * holding a lock.
 */
export class Held implements Linked<Held> {
  prev: Held | null = null;
  next: Held | null = null;
  list: LinkedList<Held> | null = null;
  constructor(
    readonly owner: Owner,
    readonly name: string,
    readonly shared: boolean,
    /** The fencing token of the grant. */
    readonly token: number,
    /** When it was granted (the table's clock). */
    readonly since: number,
    /** Shared only: the maximum it was asked with (Infinity: none, or the old `sg`). */
    readonly max: number,
  ) {}
}

/** Told of every grant and every end of a hold, for metrics; times in the table's clock units. */
export interface TableObserver {
  granted(held: Held, waited: number): void;
  freed(held: Held, orphaned: boolean): void;
}

/**
 * What one entry of the table (a grant, a shared holder, a waiter) is taken to
 * cost in memory beyond its name: the entry object, its links, its share of
 * the maps it is in. A deliberate overestimate, so that a budget in bytes holds.
 */
export const ENTRY_BYTES = 256;

/**
 * The bytes an entry for name is counted as: twice what it holds, because a
 * garbage-collected heap runs at up to about twice its live size before it
 * collects, and the budget is for the process's memory.
 */
export function entryBytes(name: string): number {
  return 2 * (ENTRY_BYTES + name.length);
}

/**
 * A copy of a name that owes nothing to the string it was cut from. V8 may
 * represent a slice of 13 characters or more as a view into its parent, here
 * a whole chunk of a connection's input, which would then live as long as the
 * lock and outweigh its name many times over.
 */
export function ownCopy(name: string): string {
  return name.length < 13 ? name : Buffer.from(name, 'latin1').toString('latin1');
}

export interface Dropped {
  orphans: number;
  sharedOrphans: number;
}

/** The table's counts since it was made. */
export interface TableCounts {
  /** Grants made at the request. */
  grantsAtOnce: number;
  /** Grants to a queued waiter. */
  grantsAfterWait: number;
  /** Locks given back by their holder (not by a disconnect). */
  releases: number;
}

export class LockTable {
  readonly exclusive = new Map<string, Held>();
  /** Holders in arrival order, each with its grant. */
  readonly shared = new Map<string, Map<Owner, Held>>();
  private readonly exWaits = new Map<string, LinkedList<Waiter>>();
  private readonly shWaits = new Map<string, LinkedList<Waiter>>();
  /** Shared lock name to how many of its holders are reserved owners: while any is, nobody new joins. */
  private readonly reservedShared = new Map<string, number>();
  /**
   * Waiters granted by the last operation; the caller answers them and
   * empties the array. Kept here rather than returned so that the common
   * case (nobody waiting) allocates nothing.
   */
  readonly granted: Waiter[] = [];
  /** The memory the entries are counted as (see entryBytes), for the server's budget. */
  bytes = 0;
  readonly counts: TableCounts = { grantsAtOnce: 0, grantsAfterWait: 0, releases: 0 };
  /** Waiters queued now, exclusive and shared. */
  waiters = 0;
  /** Holders of shared locks now (each holder of each lock once). */
  sharedHolders = 0;
  observer: TableObserver | null = null;
  private nextToken: number;

  /**
   * @param tokenBase first fencing token. The server passes the start time in
   * microseconds, so tokens keep increasing across restarts as long as a run
   * averages fewer than a million grants a second.
   * @param now the clock for `since` times (the server's: ms since the epoch).
   */
  constructor(tokenBase = 1, private readonly now: () => number = () => 0) {
    this.nextToken = tokenBase;
  }

  // ---- exclusive ----

  /** Takes the lock if free or already ours: the grant's token, or 0 when another owner holds it. */
  get(owner: Owner, name: string): number {
    const held = this.exclusive.get(name);
    if (held) return held.owner === owner ? held.token : 0;
    return this.grantExclusive(owner, name);
  }

  release(owner: Owner, name: string): boolean {
    const held = this.exclusive.get(name);
    if (held === undefined || held.owner !== owner) return false;
    this.counts.releases++;
    this.handOver(held, false);
    return true;
  }

  holder(name: string): Owner | undefined {
    return this.exclusive.get(name)?.owner;
  }

  /** Whether owner holds name, exclusive or shared. */
  holds(owner: Owner, name: string, shared: boolean): boolean {
    return shared ? this.shared.get(name)?.has(owner) === true : this.exclusive.get(name)?.owner === owner;
  }

  /** How many locks owner holds, exclusive and shared. */
  heldBy(owner: Owner): number {
    return owner.held.size;
  }

  // ---- shared ----

  /** Joins, with no maximum (the old `sg`): the number of holders now, or 0 while the name is reserved (see restore()). */
  sharedGet(owner: Owner, name: string, max = Infinity): number {
    let holders = this.shared.get(name);
    if (holders?.has(owner)) return holders.size;
    if (this.reservedShared.size > 0 && this.reservedShared.has(name)) return 0;
    name = ownCopy(name);
    if (!holders) this.shared.set(name, (holders = new Map()));
    this.counts.grantsAtOnce++;
    this.join(owner, name, holders, max, 0);
    return holders.size;
  }

  /**
   * Joins if fewer than max hold it and nobody is queued ahead: the holders
   * now, or 0 when it would have to wait. Already holding counts as success.
   */
  sharedTryGet(owner: Owner, name: string, max: number): number {
    const holders = this.shared.get(name);
    if (holders?.has(owner)) return holders.size;
    if (this.shWaits.has(name)) return 0;
    if ((holders?.size ?? 0) >= max) return 0;
    return this.sharedGet(owner, name, max);
  }

  /** The token of owner's grant of shared lock name (0 if it holds none). */
  sharedToken(owner: Owner, name: string): number {
    return this.shared.get(name)?.get(owner)?.token ?? 0;
  }

  sharedRelease(owner: Owner, name: string): boolean {
    const held = this.shared.get(name)?.get(owner);
    if (held === undefined) return false;
    this.counts.releases++;
    this.leave(held, false);
    return true;
  }

  sharedCount(name: string): number {
    return this.shared.get(name)?.size ?? 0;
  }

  // ---- across a planned restart ----

  /**
   * Puts back a grant from before a restart, with its own token and time:
   * false if it conflicts with one already there (a corrupt state file).
   * Tokens granted from now on are larger. Held by a reserved owner, an
   * exclusive lock is busy to everyone and a shared one admits nobody new,
   * until transfer() hands it to its reclaimer or drop() frees it.
   */
  restore(owner: Owner, name: string, shared: boolean, token: number, since: number, max: number): boolean {
    name = ownCopy(name);
    let holders = this.shared.get(name);
    if (shared ? holders?.has(owner) : this.exclusive.has(name)) return false;
    const held = new Held(owner, name, shared, token, since, shared ? max : Infinity);
    this.bytes += entryBytes(name);
    owner.held.push(held);
    if (shared) {
      if (!holders) this.shared.set(name, (holders = new Map()));
      holders.set(owner, held);
      this.sharedHolders++;
      if (owner.reserved) this.reservedShared.set(name, (this.reservedShared.get(name) ?? 0) + 1);
    } else this.exclusive.set(name, held);
    if (token >= this.nextToken) this.nextToken = token + 1;
    return true;
  }

  /** Hands a grant to another owner, token and time unchanged (a reclaim): the new grant, or null if to already holds it. */
  transfer(held: Held, to: Owner): Held | null {
    const { name, shared } = held;
    if (this.holds(to, name, shared)) return null;
    const moved = new Held(to, name, shared, held.token, held.since, held.max);
    held.owner.held.remove(held);
    to.held.push(moved);
    if (!shared) {
      this.exclusive.set(name, moved);
      return moved;
    }
    const holders = this.shared.get(name)!;
    holders.delete(held.owner);
    holders.set(to, moved);
    if (held.owner.reserved && !to.reserved) this.unreserve(name);
    return moved;
  }

  private unreserve(name: string): void {
    const left = this.reservedShared.get(name)! - 1;
    if (left > 0) return void this.reservedShared.set(name, left);
    this.reservedShared.delete(name);
    this.admit(name);
  }

  // ---- waiting ----

  /** Queues owner for name; call only after get/sharedTryGet said no. */
  enqueue(owner: Owner, name: string, shared: boolean, max = Infinity): Waiter {
    const waits = shared ? this.shWaits : this.exWaits;
    name = ownCopy(name);
    let queue = waits.get(name);
    if (!queue) waits.set(name, (queue = new LinkedList()));
    const waiter = new Waiter(owner, name, shared, max, this.now());
    this.bytes += entryBytes(name);
    this.waiters++;
    queue.push(waiter);
    owner.waiter = waiter;
    return waiter;
  }

  /** Gives up a wait (timeout or disconnect). Those behind may now be admitted. */
  cancel(waiter: Waiter): void {
    const queue = waiter.list;
    if (!queue) return;
    queue.remove(waiter);
    this.bytes -= entryBytes(waiter.name);
    this.waiters--;
    if (waiter.owner.waiter === waiter) waiter.owner.waiter = null;
    const waits = waiter.shared ? this.shWaits : this.exWaits;
    if (queue.empty) waits.delete(waiter.name);
    else if (waiter.shared) this.admit(waiter.name);
  }

  waiting(name: string, shared: boolean): Iterable<Waiter> {
    return (shared ? this.shWaits : this.exWaits).get(name) ?? [];
  }

  waitingCount(name: string, shared: boolean): number {
    return (shared ? this.shWaits : this.exWaits).get(name)?.size ?? 0;
  }

  // ---- disconnect ----

  /** Releases everything owner held or waited for. */
  drop(owner: Owner): Dropped {
    if (owner.waiter) this.cancel(owner.waiter);
    let orphans = 0;
    let sharedOrphans = 0;
    // Exclusive locks first, then shared ones, each oldest first: the order
    // in which waiters are granted them, and so where they show in dumps.
    for (let held = owner.held.head, next; held !== null; held = next) {
      next = held.next;
      if (held.shared) continue;
      this.handOver(held, true);
      orphans++;
    }
    for (let held = owner.held.head, next; held !== null; held = next) {
      next = held.next;
      this.leave(held, true);
      sharedOrphans++;
    }
    return { orphans, sharedOrphans };
  }

  // ---- internals ----

  /** waitedSince: when the waiter granted now was queued, or null for a grant at the request. */
  private grantExclusive(owner: Owner, name: string, waitedSince: number | null = null): number {
    name = ownCopy(name);
    const held = new Held(owner, name, false, this.nextToken++, this.now(), Infinity);
    this.bytes += entryBytes(name);
    owner.held.push(held);
    this.exclusive.set(name, held);
    if (waitedSince === null) this.counts.grantsAtOnce++;
    this.observer?.granted(held, waitedSince === null ? 0 : held.since - waitedSince);
    return held.token;
  }

  private join(owner: Owner, name: string, holders: Map<Owner, Held>, max: number, waited: number): void {
    const held = new Held(owner, name, true, this.nextToken++, this.now(), max);
    this.bytes += entryBytes(name);
    this.sharedHolders++;
    owner.held.push(held);
    holders.set(owner, held);
    this.observer?.granted(held, waited);
  }

  /** A shared holder leaves: those queued may now be admitted. */
  private leave(held: Held, orphaned: boolean): void {
    held.owner.held.remove(held);
    this.bytes -= entryBytes(held.name);
    this.sharedHolders--;
    this.observer?.freed(held, orphaned);
    const holders = this.shared.get(held.name)!;
    holders.delete(held.owner);
    if (holders.size === 0) this.shared.delete(held.name);
    if (held.owner.reserved) this.unreserve(held.name);
    else this.admit(held.name);
  }

  /** Frees an exclusive lock: the first waiter, if any, gets it. */
  private handOver(held: Held, orphaned: boolean): void {
    held.owner.held.remove(held);
    this.bytes -= entryBytes(held.name);
    this.observer?.freed(held, orphaned);
    const name = held.name;
    const queue = this.exWaits.size === 0 ? undefined : this.exWaits.get(name);
    if (!queue) {
      this.exclusive.delete(name);
      return;
    }
    const waiter = queue.head!;
    queue.remove(waiter);
    this.bytes -= entryBytes(name);
    this.waiters--;
    this.counts.grantsAfterWait++;
    if (queue.empty) this.exWaits.delete(name);
    waiter.owner.waiter = null;
    // Deleted first, so that the new holder's entry comes last in a dump, as a fresh grant's does.
    this.exclusive.delete(name);
    waiter.token = this.grantExclusive(waiter.owner, name, waiter.since);
    waiter.count = 1;
    this.granted.push(waiter);
  }

  /** Admits queued shared waiters in order while the first one fits. */
  private admit(name: string): void {
    const queue = this.shWaits.get(name);
    if (!queue || this.reservedShared.has(name)) return;
    let holders = this.shared.get(name);
    for (let waiter = queue.head; waiter; waiter = queue.head) {
      if ((holders?.size ?? 0) >= waiter.max) break;
      queue.remove(waiter);
      this.bytes -= entryBytes(name);
      this.waiters--;
      this.counts.grantsAfterWait++;
      waiter.owner.waiter = null;
      if (!holders) this.shared.set(name, (holders = new Map()));
      this.join(waiter.owner, name, holders, waiter.max, this.now() - waiter.since);
      waiter.count = holders.size;
      waiter.token = holders.get(waiter.owner)!.token;
      this.granted.push(waiter);
    }
    if (queue.empty) this.shWaits.delete(name);
  }
}
