// etcd targets as people write them: etcd://HOST:PORT[,HOST:PORT...], etcds:// for TLS.

export interface EtcdTarget {
  /** As etcd3 takes them: http://HOST:PORT or https://HOST:PORT. */
  hosts: string[];
  tls: boolean;
  /** Key prefix of every lock (default lockd/). */
  prefix: string;
  /** The lease's time to live, in seconds (default 10, as etcdctl lock). */
  ttl: number;
}

export const DEFAULT_ETCD_PREFIX = 'lockd/';
export const DEFAULT_ETCD_TTL = 10;

/** Whether a -S / LOCKD_SERVER value names an etcd cluster. */
export function isEtcdTarget(text: string): boolean {
  return /^etcds?:\/\//.test(text);
}

/** Parses an etcd target; throws a one-line Error on nonsense. */
export function parseEtcdTarget(text: string, prefix = DEFAULT_ETCD_PREFIX, ttl = DEFAULT_ETCD_TTL): EtcdTarget {
  const m = /^(etcds?):\/\/(.+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not etcd://HOST:PORT[,HOST:PORT...]`);
  const tls = m[1] === 'etcds';
  const hosts = m[2].split(',').map((member) => {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):\d{1,5}$/.test(member)) throw new Error(`"${member}" in ${text} is not HOST:PORT`);
    return `${tls ? 'https' : 'http'}://${member}`;
  });
  return { hosts, tls, prefix, ttl };
}
