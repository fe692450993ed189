import type { Etcd3 } from 'etcd3';
import { EtcdLocks } from './etcd-locks.js';
import type { EtcdTarget } from './target.js';

export interface EtcdOptions {
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
 * Connects to an etcd cluster. etcd3 (and gRPC under it) is loaded here, on
 * first use, so that lockd-run against lockd-server never loads it.
 */
export async function connectEtcd(target: EtcdTarget, options: EtcdOptions = {}): Promise<EtcdLocks> {
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
