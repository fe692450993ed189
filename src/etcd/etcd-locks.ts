import { EventEmitter } from 'node:events';
import type { Etcd3, Lease, IKeyValue } from 'etcd3';
import { LockdError } from '../client/errors.js';
import type { AcquireOptions, Grant } from '../client/client.js';
import { brief } from '../util/brief.js';
import { etcdError } from './errors.js';
import type { EtcdTarget } from './target.js';

/**
 * Locks on an etcd cluster, with etcd's own mutex recipe (docs/etcd.md):
 * each contender puts PREFIX/x/NAME/LEASE (or PREFIX/s/NAME/LEASE) on its
 * lease; for an exclusive lock the key with the lowest create revision
 * holds it, for a shared one with max N the keys with fewer than N keys
 * ahead of them. A waiter watches, with no polling, the key just ahead of
 * its own (exclusive), or for any deletion under the name (shared: any
 * holder's release may free a slot).
 * The create revision is the fencing token. Every lock of one EtcdLocks
 * shares one lease, kept alive while the object lives: as a connection is
 * to lockd-server. Emits 'lost' (with the reason) when the lease is lost.
 */
export class EtcdLocks extends EventEmitter {
  private lease: Lease | null = null;
  private leaseGrant: Promise<string> | null = null;
  /** Our keys by lock: `x/NAME` or `s/NAME` to the full key. */
  private readonly keys = new Map<string, string>();
  private closed = false;
  private lost = false;
  private expiry?: NodeJS.Timeout;

  constructor(
    private readonly etcd: Etcd3,
    private readonly target: EtcdTarget,
    /** The value of our keys: who holds, as dumps show it. */
    private holderName: string,
  ) {
    super();
  }

  /** The lease, granted on first use (a reader such as lockd-ctl needs none). */
  private leaseId(): Promise<string> {
    if (this.leaseGrant) return this.leaseGrant;
    const lease = (this.lease = this.etcd.lease(this.target.ttl));
    lease.on('lost', (err) => this.lose(`the etcd lease was lost: ${brief(err.message)}`, err));
    // The lease may be gone once a TTL has passed since the cluster last
    // renewed it: from then on nothing proves that our keys still hold.
    lease.on('keepaliveSucceeded', () => this.renewed());
    this.leaseGrant = lease.grant();
    this.leaseGrant.then(() => this.renewed(), () => {}); // a failure is reported through the calls that need it
    return this.leaseGrant;
  }

  private renewed(): void {
    if (this.closed) return;
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      this.lose(`the etcd cluster has not renewed the lease for its TTL (${this.target.ttl}s)`);
    }, this.target.ttl * 1000).unref();
  }

  private lose(why: string, cause?: Error): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    clearTimeout(this.expiry);
    this.emit('lost', new LockdError(why, 'ECONNCLOSED', { cause }));
  }

  /** Resolves once the lease is granted: the cluster answers. */
  async connected(): Promise<void> {
    await this.grantedLease();
  }

  /** The lease id, with etcd's refusals as EAUTH. */
  private grantedLease(): Promise<string> {
    return this.leaseId().catch(async (err) => Promise.reject(await etcdError(err)));
  }

  setName(name: string): void {
    this.holderName = name;
  }

  /** Takes a lock, waiting in arrival order up to `wait` ms. Rejects ELOCKBUSY when busy or timed out. */
  async acquire(name: string, options: AcquireOptions = {}): Promise<Grant> {
    const shared = !!options.shared;
    const id = `${shared ? 's' : 'x'}/${name}`;
    if (this.keys.has(id)) throw new LockdError(`this client holds or waits for ${id} already`, 'EINVAL');
    const dir = `${this.target.prefix}${id}/`;
    const key = `${dir}${await this.grantedLease()}`;
    this.keys.set(id, key);
    try {
      const put = await this.lease!.put(key).value(this.holderName).exec();
      const mine = BigInt(put.header.revision);
      const limit = shared ? (options.max ?? Infinity) : 1;
      const deadline = performance.now() + (options.wait ?? 0);
      for (;;) {
        const range = await this.etcd.getAll().prefix(dir).sort('Create', 'Ascend').exec();
        const ahead = range.kvs.filter((kv) => BigInt(kv.create_revision) < mine);
        if (ahead.length < limit) return { count: Math.min(range.kvs.length, limit), token: Number(mine) };
        const left = deadline - performance.now();
        if (left <= 0) throw busy(name, shared, ahead.slice(0, limit));
        // From the revision read on, so that no deletion falls between.
        const watched = shared ? { prefix: dir } : { key: ahead[ahead.length - 1].key.toString() };
        if (!(await this.deletion(watched, BigInt(range.header.revision) + 1n, left))) {
          throw busy(name, shared, ahead.slice(0, limit));
        }
      }
    } catch (err) {
      this.keys.delete(id);
      await this.etcd.delete().key(key).exec().catch(() => {});
      throw await etcdError(err);
    }
  }

  /** Gives an exclusive lock back: resolves 1, or rejects ENOTHELD, as Client's release(). */
  release(name: string): Promise<number> {
    return this.releaseKey(name, false);
  }

  /** Gives a share back: resolves 1, or rejects ENOTHELD, as Client's releaseShared(). */
  releaseShared(name: string): Promise<number> {
    return this.releaseKey(name, true);
  }

  private async releaseKey(name: string, shared: boolean): Promise<number> {
    const id = `${shared ? 's' : 'x'}/${name}`;
    const key = this.keys.get(id);
    if (key === undefined) throw new LockdError(`${shared ? 'Shared Lock' : 'Lock'} Release Failure: ${brief(name)}`, 'ENOTHELD');
    this.keys.delete(id);
    await this.etcd.delete().key(key).exec();
    return 1;
  }

  /** lockd-server's connections have no counterpart on etcd: rejects EUNSUPPORTED. */
  clients(): Promise<never> {
    return Promise.reject(new LockdError('an etcd cluster has no lockd connections to list: clients() is for lockd-server', 'EUNSUPPORTED'));
  }

  /** lockd-server's counters have no counterpart on etcd: rejects EUNSUPPORTED. */
  stats(): Promise<never> {
    return Promise.reject(new LockdError('an etcd cluster keeps no lockd counters: stats() is for lockd-server', 'EUNSUPPORTED'));
  }

  /**
   * Every contender's key under the prefix, oldest first: the lock (exclusive
   * or shared), the holder's name, its lease and its create revision.
   */
  async contenders(): Promise<Contender[]> {
    const range = await this.etcd.getAll().prefix(this.target.prefix).sort('Create', 'Ascend').exec()
      .catch(async (err) => Promise.reject(await etcdError(err)));
    const out: Contender[] = [];
    for (const kv of range.kvs) {
      const rest = kv.key.toString().slice(this.target.prefix.length);
      const m = /^([xs])\/(.*)\/([0-9a-f]+)$/.exec(rest);
      if (m) out.push({ shared: m[1] === 's', lock: m[2], holder: kv.value.toString(), lease: m[3], revision: Number(kv.create_revision) });
    }
    return out;
  }

  /**
   * Revokes the lease, freeing every lock of this client at once, and closes.
   * A lost lease is not revoked: it is gone, or on a cluster that cannot be
   * reached, and waiting for an answer would only delay the exit.
   */
  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiry);
    if (!this.lost) await this.lease?.revoke().catch(() => {});
    this.etcd.close();
  }

  /** Resolves true on a deletion of the key (or under the prefix) from revision `from` on, false after ms. */
  private async deletion(watched: { key: string } | { prefix: string }, from: bigint, ms: number): Promise<boolean> {
    const builder = 'key' in watched ? this.etcd.watch().key(watched.key) : this.etcd.watch().prefix(watched.prefix);
    const watcher = await builder.startRevision(String(from)).create();
    try {
      return await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => resolve(false), ms);
        // The caller looks again: the line may have moved on, or not far enough.
        watcher.on('delete', () => {
          clearTimeout(timer);
          resolve(true);
        });
        watcher.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    } finally {
      await watcher.cancel().catch(() => {});
    }
  }
}

export interface Contender {
  shared: boolean;
  lock: string;
  holder: string;
  lease: string;
  /** The key's create revision: its place in line, and the fencing token of its grant. */
  revision: number;
}

/** ELOCKBUSY from etcd, which names the holders (their keys' values). */
export class LockBusyError extends LockdError {
  constructor(message: string, readonly holders: string[]) {
    super(message, 'ELOCKBUSY');
  }
}

function busy(name: string, shared: boolean, holders: IKeyValue[]): LockBusyError {
  const message = `${shared ? 'Shared Lock' : 'Lock'} Get Failure: ${brief(name)}`;
  return new LockBusyError(message, holders.map((kv) => kv.value.toString()));
}
