export { listen, DEFAULT_PORT, DEFAULT_LIMITS, type ListenOptions, type LockServer, type Limits } from './server/listen.js';
export {
  connect,
  Client,
  type Target,
  type Timeouts,
  type ClientOptions,
  type AcquireOptions,
  type Grant,
  type ServerInfo,
  type LockRecord,
  type HolderRecord,
  type WaiterRecord,
  type ClientRecord,
} from './client/client.js';
export { LockdError, type LockdErrorCode } from './client/errors.js';
