import { WaitQueue, type Linked } from './wait-queue.js';

// The lock table: who holds what, who waits for what. Pure data, no I/O and
// no clock: the server decides when a waiter gives up and calls cancel().
// Every operation is O(1) except drop(), which is O(what that owner held).

/** One connection, as the table sees it. The server keeps its own state beside it. */
export class Owner {
  /** Exclusive lock names held, created on first use (most connections hold few locks). */
  ex: Set<string> | null = null;
  sh: Set<string> | null = null;
  /** A connection waits for at most one lock at a time (its replies are in order). */
  waiter: Waiter | null = null;
}

export class Waiter implements Linked<Waiter> {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  queue: WaitQueue<Waiter> | null = null;
  /** Set when granted: holders at grant and the fencing token. */
  count = 0;
  token = 0;
  constructor(
    readonly owner: Owner,
    readonly name: string,
    readonly shared: boolean,
    /** Shared only: admit while fewer than this many hold it (Infinity: no maximum). */
    readonly max: number,
  ) {}
}

interface Exclusive {
  owner: Owner;
  token: number;
}

export interface Dropped {
  orphans: number;
  sharedOrphans: number;
}

export class LockTable {
  readonly exclusive = new Map<string, Exclusive>();
  /** Holders in arrival order, each with the token of its grant. */
  readonly shared = new Map<string, Map<Owner, number>>();
  private readonly exWaits = new Map<string, WaitQueue<Waiter>>();
  private readonly shWaits = new Map<string, WaitQueue<Waiter>>();
  /**
   * Waiters granted by the last operation; the caller answers them and
   * empties the array. Kept here rather than returned so that the common
   * case (nobody waiting) allocates nothing.
   */
  readonly granted: Waiter[] = [];
  private nextToken: number;

  /**
   * @param tokenBase first fencing token. The server passes the start time in
   * microseconds, so tokens keep increasing across restarts as long as a run
   * averages fewer than a million grants a second.
   */
  constructor(tokenBase = 1) {
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
    // A name is in owner.ex exactly while owner holds it: no need to look it up in exclusive too.
    if (owner.ex === null || !owner.ex.delete(name)) return false;
    this.handOver(name);
    return true;
  }

  holder(name: string): Owner | undefined {
    return this.exclusive.get(name)?.owner;
  }

  // ---- shared ----

  /** Joins unconditionally (the old `sg`): the number of holders now. */
  sharedGet(owner: Owner, name: string): number {
    let holders = this.shared.get(name);
    if (!holders) this.shared.set(name, (holders = new Map()));
    if (!holders.has(owner)) this.join(owner, name, holders);
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
    return this.sharedGet(owner, name);
  }

  /** The token of owner's grant of shared lock name (0 if it holds none). */
  sharedToken(owner: Owner, name: string): number {
    return this.shared.get(name)?.get(owner) ?? 0;
  }

  sharedRelease(owner: Owner, name: string): boolean {
    const holders = this.shared.get(name);
    if (!holders || !holders.delete(owner)) return false;
    owner.sh!.delete(name);
    if (holders.size === 0) this.shared.delete(name);
    this.admit(name);
    return true;
  }

  sharedCount(name: string): number {
    return this.shared.get(name)?.size ?? 0;
  }

  // ---- waiting ----

  /** Queues owner for name; call only after get/sharedTryGet said no. */
  enqueue(owner: Owner, name: string, shared: boolean, max = Infinity): Waiter {
    const waits = shared ? this.shWaits : this.exWaits;
    let queue = waits.get(name);
    if (!queue) waits.set(name, (queue = new WaitQueue()));
    const waiter = new Waiter(owner, name, shared, max);
    queue.push(waiter);
    owner.waiter = waiter;
    return waiter;
  }

  /** Gives up a wait (timeout or disconnect). Those behind may now be admitted. */
  cancel(waiter: Waiter): void {
    const queue = waiter.queue;
    if (!queue) return;
    queue.remove(waiter);
    if (waiter.owner.waiter === waiter) waiter.owner.waiter = null;
    const waits = waiter.shared ? this.shWaits : this.exWaits;
    if (queue.empty) waits.delete(waiter.name);
    else if (waiter.shared) this.admit(waiter.name);
  }

  waiting(name: string, shared: boolean): Iterable<Waiter> {
    return (shared ? this.shWaits : this.exWaits).get(name) ?? [];
  }

  // ---- disconnect ----

  /** Releases everything owner held or waited for. */
  drop(owner: Owner): Dropped {
    if (owner.waiter) this.cancel(owner.waiter);
    let orphans = 0;
    let sharedOrphans = 0;
    if (owner.ex) {
      for (const name of owner.ex) {
        this.handOver(name);
        orphans++;
      }
      owner.ex = null;
    }
    if (owner.sh) {
      for (const name of owner.sh) {
        const holders = this.shared.get(name)!;
        holders.delete(owner);
        if (holders.size === 0) this.shared.delete(name);
        this.admit(name);
        sharedOrphans++;
      }
      owner.sh = null;
    }
    return { orphans, sharedOrphans };
  }

  // ---- internals ----

  private grantExclusive(owner: Owner, name: string): number {
    const token = this.nextToken++;
    this.exclusive.set(name, { owner, token });
    (owner.ex ??= new Set()).add(name);
    return token;
  }

  private join(owner: Owner, name: string, holders: Map<Owner, number>): void {
    holders.set(owner, this.nextToken++);
    (owner.sh ??= new Set()).add(name);
  }

  /** The exclusive lock name has just been freed: the first waiter gets it. */
  private handOver(name: string): void {
    const queue = this.exWaits.size === 0 ? undefined : this.exWaits.get(name);
    if (!queue) {
      this.exclusive.delete(name);
      return;
    }
    const waiter = queue.head!;
    queue.remove(waiter);
    if (queue.empty) this.exWaits.delete(name);
    waiter.owner.waiter = null;
    this.exclusive.delete(name);
    waiter.token = this.grantExclusive(waiter.owner, name);
    waiter.count = 1;
    this.granted.push(waiter);
  }

  /** Admits queued shared waiters in order while the first one fits. */
  private admit(name: string): void {
    const queue = this.shWaits.get(name);
    if (!queue) return;
    let holders = this.shared.get(name);
    for (let waiter = queue.head; waiter; waiter = queue.head) {
      if ((holders?.size ?? 0) >= waiter.max) break;
      queue.remove(waiter);
      waiter.owner.waiter = null;
      if (!holders) this.shared.set(name, (holders = new Map()));
      this.join(waiter.owner, name, holders);
      waiter.count = holders.size;
      waiter.token = holders.get(waiter.owner)!;
      this.granted.push(waiter);
    }
    if (queue.empty) this.shWaits.delete(name);
  }
}
