import type { AcquireOptions, Client, Grant } from './client.js';
import { LockdError } from './errors.js';
import { brief } from '../util/brief.js';

const FIRST_DELAY = 25;
const MAX_DELAY = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * acquire() against an old server, which cannot queue waiters nor enforce a
 * maximum: poll with exponential backoff and jitter (so that many waiters do
 * not retry in step), and for `max` join, compare the count, and leave again
 * when over. Correct but not fair: a waiter can be overtaken.
 */
export async function pollAcquire(client: Client, name: string, options: AcquireOptions): Promise<Grant> {
  const wait = options.wait ?? 0;
  const deadline = performance.now() + wait;
  for (let delay = FIRST_DELAY; ; delay = Math.min(delay * 2, MAX_DELAY)) {
    const grant = await tryOnce(client, name, options);
    if (grant) return grant;
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new LockdError(`${options.shared ? 'Shared Lock' : 'Lock'} Get Failure: ${brief(name)}`, 'ELOCKBUSY');
    }
    await sleep(Math.min(left, delay * (0.5 + Math.random())));
  }
}

async function tryOnce(client: Client, name: string, options: AcquireOptions): Promise<Grant | null> {
  if (!options.shared) {
    try {
      await client.get(name);
      return { count: 1, token: null };
    } catch (err) {
      if ((err as LockdError).code === 'ELOCKBUSY') return null;
      throw err;
    }
  }
  const count = await client.getShared(name);
  if (options.max === undefined || count <= options.max) return { count, token: null };
  await client.releaseShared(name);
  return null;
}
