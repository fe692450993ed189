export { listen, DEFAULT_PORT, type ListenOptions, type LockServer } from './server/listen.js';
