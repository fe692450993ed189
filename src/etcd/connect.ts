import type { Etcd3 } from 'etcd3';
import { EtcdLocks } from './etcd-locks.js';
import { LockdError } from '../client/errors.js';
import { parseEtcdTarget, type EtcdTarget } from './target.js';

export interface EtcdOptions {
  /** With a string target: the key prefix of every lock (default lockd/). */
  prefix?: string;
  /** With a string target: the lease's time to live in seconds (default 10). */
  ttl?: number;
  /** The holder's name, the value of its keys (default: the lease id). */
  name?: string;
  user?: string;
  password?: string;
  /** PEM: the CA to verify the members against, and a client certificate. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** ms to wait for the cluster to answer a call (default 10000). */
  connect?: number;
}

/**
 * Connects to an etcd cluster at 'etcd://HOST:PORT[,HOST:PORT...]' (etcds://
 * for TLS). etcd3 (and gRPC under it) is loaded here, on first use, so that
 * lockd-run against lockd-server never loads it.
 */
export async function connectEtcd(where: string | EtcdTarget, options: EtcdOptions = {}): Promise<EtcdLocks> {
  let target = where as EtcdTarget;
  if (typeof where === 'string') {
    try {
      target = parseEtcdTarget(where, options.prefix, options.ttl);
    } catch (err) {
      throw new LockdError((err as Error).message, 'EINVAL');
    }
  }
  // etcd counts a lease in whole seconds, and renews it at a third of its TTL.
  if (!Number.isInteger(target.ttl) || target.ttl < 2) {
    throw new LockdError(`an etcd lease TTL of ${target.ttl}s: a whole number of seconds, at least 2`, 'EINVAL');
  }
  const { Etcd3: Client } = (await import('etcd3')) as { Etcd3: typeof Etcd3 };
  const etcd = new Client({
    hosts: target.hosts,
    dialTimeout: options.connect ?? 10_000,
    auth: options.user === undefined ? undefined : { username: options.user, password: options.password ?? '' },
    credentials: target.tls
      ? { rootCertificate: options.tls?.ca ?? null, certChain: options.tls?.cert, privateKey: options.tls?.key } as never
      : undefined,
  });
  return new EtcdLocks(etcd, target, options.name ?? `${process.pid}`);
}
