import type { Contender, EtcdLocks } from '../etcd/etcd-locks.js';
import type { Listing, LockView } from './view.js';

// What lockd-ctl shows of an etcd cluster, read from the contenders' keys
// (see EtcdLocks). etcd keeps no times, so ages are unknown. A shared lock's
// keys are all shown as holders: which of them still wait depends on each
// one's --max, which the keys do not record.

export async function etcdLocks(locks: EtcdLocks, prefix = ''): Promise<Listing<LockView>> {
  const byLock = new Map<string, Contender[]>();
  for (const c of await locks.contenders()) {
    if (!c.lock.startsWith(prefix)) continue;
    const id = `${c.shared ? 's' : 'x'}/${c.lock}`;
    const list = byLock.get(id);
    if (list) list.push(c);
    else byLock.set(id, [c]);
  }
  const records: LockView[] = [];
  for (const contenders of byLock.values()) {
    const { lock: name, shared } = contenders[0];
    const holders = shared ? contenders : contenders.slice(0, 1);
    const waiters = shared ? null : contenders.slice(1);
    records.push({
      name,
      shared,
      holderCount: holders.length,
      waiterCount: waiters === null ? null : waiters.length,
      holders: holders.map((c) => ({ name: c.holder, address: `lease ${c.lease}`, since: null, age: null, token: c.revision, max: null })),
      waiters: waiters && waiters.map((c) => ({ name: c.holder, address: `lease ${c.lease}`, since: null, age: null, max: null })),
    });
  }
  records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : Number(a.shared) - Number(b.shared)));
  return { records, omitted: 0 };
}
