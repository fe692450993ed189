import { connectEtcd } from '../etcd/connect.js';
import { LockBusyError } from '../etcd/etcd-locks.js';
import { etcdFailure } from '../util/server-options.js';
import { EXIT } from '../util/exit-codes.js';
import { formatDuration } from '../util/duration.js';
import { what, type RunConfig } from './options.js';
import { signalNumber } from './signals.js';
import { etcdHeld } from './held-lock.js';
import { timeBound } from '../util/time-bound.js';
import { busyMessage, describeAttempt, WAIT_SIGNALS, type Acquired, type Say } from './acquire-lock.js';

/** acquireLock() on an etcd cluster: the same waits, messages and exit statuses. */
export async function acquireOnEtcd(cfg: RunConfig, say: Say): Promise<Acquired> {
  const etcd = cfg.etcd!;
  const locks = await connectEtcd(etcd, {
    name: cfg.name,
    user: etcd.user,
    password: etcd.password,
    connect: cfg.connectTimeout,
    tls: typeof cfg.tls === 'object' ? (cfg.tls as { ca?: Buffer; cert?: Buffer; key?: Buffer }) : undefined,
  });
  let stoppedBy: NodeJS.Signals | null = null;
  let stopped: () => void = () => {};
  const stoppedNow = new Promise<void>((resolve) => (stopped = resolve));
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    stopped();
  };
  for (const s of WAIT_SIGNALS) process.on(s, stop);
  const started = performance.now();
  try {
    await Promise.race([timeBound(locks.connected(), cfg.connectTimeout, 'timed out'), stoppedNow]);
    if (stoppedBy) throw new Error('stopped');
    if (cfg.verbose) say(describeAttempt(cfg));
    const grant = await Promise.race([locks.acquire(cfg.lock, { shared: cfg.shared, max: cfg.max, wait: cfg.wait }), stoppedNow.then(() => null)]);
    if (!grant) throw new Error('stopped');
    if (cfg.verbose) say(`got ${what(cfg)} after ${formatDuration(performance.now() - started)} (${grant.count} holder(s), token ${grant.token})`);
    return { kind: 'granted', held: etcdHeld(locks), grant };
  } catch (err) {
    // Whatever we put or waited for goes with the lease.
    await etcdHeld(locks).release();
    if (stoppedBy) {
      if (cfg.verbose) say(`${stoppedBy} while waiting for ${what(cfg)}; giving up`);
      return { kind: 'exit', status: EXIT.SIGNAL_BASE + signalNumber(stoppedBy) };
    }
    if (err instanceof LockBusyError) {
      if (!cfg.quiet) say(busyMessage(cfg, err.holders, performance.now() - started));
      return { kind: 'exit', status: cfg.conflictExitCode };
    }
    throw etcdFailure(err as Error, cfg);
  } finally {
    for (const s of WAIT_SIGNALS) process.off(s, stop);
  }
}
