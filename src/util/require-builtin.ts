import { createRequire } from 'node:module';

/**
 * require() for Node's modules that lockd-run loads only when it needs them
 * (node:tls, and node:net where it cannot do without). The CommonJS bundle
 * uses require itself instead (see scripts/bundle.js).
 */
export const requireBuiltin = createRequire(import.meta.url);
