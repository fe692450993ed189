export { listen, DEFAULT_PORT, DEFAULT_LIMITS, type ListenOptions, type LockServer, type Limits, type Shutdown } from './server/listen.js';
export {
  connect,
  Client,
  type Target,
  type Timeouts,
  type ClientOptions,
  type AcquireOptions,
  type Grant,
  type HeldLockInfo,
  type ServerInfo,
  type LockRecord,
  type HolderRecord,
  type WaiterRecord,
  type ClientRecord,
  type Records,
} from './client/client.js';
export { LockdError, type LockdErrorCode } from './client/errors.js';
export { connectEtcd, type EtcdOptions } from './etcd/connect.js';
export { parseEtcdTarget, type EtcdTarget } from './etcd/target.js';
export { EtcdLocks, LockBusyError } from './etcd/etcd-locks.js';
