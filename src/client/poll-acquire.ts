import type { AcquireOptions, Client, Grant } from './client.js';
import { LockdError } from './errors.js';
import { brief } from '../util/brief.js';
import { Backoff, sleep } from './backoff.js';

/**
 * acquire() against an old server, which cannot queue waiters nor enforce a
 * maximum: poll with exponential backoff and jitter (so that many waiters do
 * not retry in step), and for `max` join, compare the count, and leave again
 * when over. Correct but not fair: a waiter can be overtaken.
 */
export async function pollAcquire(client: Client, name: string, options: AcquireOptions): Promise<Grant> {
  const wait = options.wait ?? 0;
  const deadline = performance.now() + wait;
  const backoff = new Backoff(25, 2_000);
  for (;;) {
    const grant = await tryOnce(client, name, options);
    if (grant) return grant;
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new LockdError(`${options.shared ? 'Shared Lock' : 'Lock'} Get Failure: ${brief(name)}`, 'ELOCKBUSY');
    }
    await sleep(Math.min(left, backoff.next()));
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
