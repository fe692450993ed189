import { GLOCKD_READ_SIZE } from './old-servers.js';

/**
 * The longest lock or registry name lockd-server takes by default
 * (--max-name), in bytes, and so the longest lockd-run sends: glockd's
 * effective limit, since it cuts a request at its 4096-byte read.
 */
export const DEFAULT_MAX_NAME = GLOCKD_READ_SIZE;
