import type { Client, HeldLockInfo } from '../client/client.js';
import type { LockdError } from '../client/errors.js';
import type { Say } from './acquire-lock.js';
import { what, type RunConfig } from './options.js';
import type { EtcdLocks } from '../etcd/etcd-locks.js';
import { formatDuration } from '../util/duration.js';

/** A lock lockd-run holds while its command runs, on lockd-server or on etcd. */
export interface HeldLock {
  /** Calls lose(why), once, when the lock may be lost: the command must not go on believing it holds it. */
  watch(lose: (why: string) => void): void;
  /** Gives the lock back as lockd-run exits, so that the next waiter need not wait for a timeout. */
  release(): Promise<void>;
}

/**
 * On lockd-server: lost when the connection closes, or when the server has
 * not answered a ping for two intervals (it may be stopped, or the path to it
 * gone silent). Across a planned restart of the server the client takes the
 * lock back: the pings wait meanwhile, and the lock is lost only if it cannot
 * ('lost'). The release is written, not waited for: should it not arrive, the
 * close releases the lock anyway.
 */
export function serverHeld(client: Client, cfg: RunConfig, say: Say): HeldLock {
  const { lock, shared, pingInterval: interval } = cfg;
  return {
    watch(lose) {
      client.once('close', () => lose('the connection to the lock server closed'));
      client.on('lost', (err: LockdError, held: HeldLockInfo) => {
        if (held.name === lock && held.shared === shared) lose(err.message);
      });
      let lastAnswer = performance.now();
      // Told already, maybe, in the same read as the grant.
      let restarting = client.isRestarting;
      client.on('restarting', (grace: number) => {
        restarting = true;
        if (cfg.verbose) say(`the lock server is restarting; taking ${what(cfg)} back within ${formatDuration(grace)}`);
      });
      client.on('reclaimed', (held: HeldLockInfo) => {
        if (held.name !== lock || held.shared !== shared) return;
        restarting = false;
        lastAnswer = performance.now();
        if (cfg.verbose) say(`took ${what(cfg)} back after the restart (token ${held.token})`);
      });
      const check = () => {
        if (restarting) return;
        const silent = performance.now() - lastAnswer;
        if (silent > 2 * interval) {
          // The connection stays open: if the server is only slow, the lock is
          // still ours until the command has stopped.
          lose(`the lock server has not answered for ${formatDuration(silent)}`);
          clearInterval(timer);
          return;
        }
        client.ping().then(
          () => (lastAnswer = performance.now()),
          () => {},
        );
      };
      // The command's end, not these checks, decides when lockd-run exits.
      const timer = setInterval(check, interval).unref();
      client.once('close', () => clearInterval(timer));
    },
    release() {
      client.releaseAndClose(lock, shared);
      return Promise.resolve();
    },
  };
}

/** The longest a revoke may hold up lockd-run's exit: past it, the lease's TTL frees the lock. */
const REVOKE_BOUND = 2_000;

/** On etcd: lost when the lease is (see EtcdLocks); released by revoking the lease. */
export function etcdHeld(locks: EtcdLocks): HeldLock {
  return {
    watch(lose) {
      locks.once('lost', (err: Error) => lose(err.message));
    },
    async release() {
      await Promise.race([locks.disconnect(), new Promise((resolve) => setTimeout(resolve, REVOKE_BOUND).unref())]);
    },
  };
}
