import { Client, type Grant } from '../client/client.js';
import { LockdError } from '../client/errors.js';
import { CliError } from '../util/cli-errors.js';
import { EXIT } from '../util/exit-codes.js';
import { formatDuration } from '../util/duration.js';
import { what, type RunConfig } from './options.js';
import { signalNumber } from './signals.js';
import { connectionFailure } from '../util/server-options.js';
import { serverHeld, type HeldLock } from './held-lock.js';
import { Backoff, sleep } from '../client/backoff.js';
import { brief } from '../util/brief.js';
import { acquireOnEtcd } from './acquire-etcd.js';

export type Say = (message: string) => void;

export type Acquired =
  | { kind: 'granted'; held: HeldLock; grant: Grant }
  /** Not granted: exit with this status (busy, timed out, or stopped by a signal). */
  | { kind: 'exit'; status: number };

export const WAIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Retrying an unreachable server within --wait: the first delay, and the longest (see Backoff). */
const RETRY_FIRST = 100;
const RETRY_MAX = 2_000;

/**
 * Connects and takes the lock, waiting as configured. With --wait, a server
 * that cannot be reached, or goes while we wait, is tried again with backoff
 * and jitter until the wait's deadline. INT, TERM and HUP stop the wait.
 */
export async function acquireLock(cfg: RunConfig, say: Say): Promise<Acquired> {
  if (cfg.etcd) return acquireOnEtcd(cfg, say);
  let client: Client | null = null;
  let stoppedBy: NodeJS.Signals | null = null;
  const stopped = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    client?.destroy();
    stopped.abort();
  };
  const givenUp = (signal: NodeJS.Signals): Acquired => {
    if (cfg.verbose) say(`${signal} while waiting for ${what(cfg)}; giving up`);
    return { kind: 'exit', status: EXIT.SIGNAL_BASE + signalNumber(signal) };
  };
  for (const s of WAIT_SIGNALS) process.on(s, stop);
  const started = performance.now();
  const deadline = started + cfg.wait;
  const backoff = new Backoff(RETRY_FIRST, RETRY_MAX);
  try {
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - performance.now();
      const connect = remaining > 0 ? Math.min(cfg.connectTimeout, remaining) : cfg.connectTimeout;
      client = new Client(cfg.endpoint, { connect, authToken: cfg.authToken, tls: cfg.tls });
      const outcome = await attemptOnce(cfg, client, say, attempt === 1 ? cfg.wait : deadline - performance.now(), started)
        // Stopped by a signal, however the try failed.
        .catch((err) => (stoppedBy ? null : Promise.reject(err)));
      if (stoppedBy) return givenUp(stoppedBy);
      if (!(outcome instanceof CliError)) return outcome!;
      const left = deadline - performance.now();
      if (outcome.exitCode !== EXIT.UNAVAILABLE) throw outcome;
      if (left <= 0) {
        throw attempt === 1 ? outcome : new CliError(`${outcome.message} (tried ${attempt} times in ${formatDuration(performance.now() - started)})`, outcome.exitCode);
      }
      if (cfg.verbose && attempt === 1) say(`${outcome.message}; trying again until the wait is over`);
      await sleep(Math.min(left, backoff.next()), stopped.signal);
      if (stoppedBy) return givenUp(stoppedBy);
    }
  } finally {
    for (const s of WAIT_SIGNALS) process.off(s, stop);
  }
}

/**
 * One connection's try: granted, or exit (busy, timed out), or the CliError
 * of a server that could not be reached or went (to try again within
 * --wait); any other failure is thrown.
 */
async function attemptOnce(cfg: RunConfig, client: Client, say: Say, wait: number, started: number): Promise<Acquired | CliError> {
  client.on('error', () => {}); // each call reports its own failure
  // Name and acquire go out together once the handshake is answered. A
  // server with the registry off refuses the name, which is fine.
  const named = client.setName(cfg.name).then(() => true, () => false);
  const granted = client.acquire(cfg.lock, { shared: cfg.shared, max: cfg.max, wait: Math.max(0, wait) });
  granted.catch(() => {}); // awaited below, unless the handshake fails first
  try {
    const info = await client.connected();
    if (cfg.verbose) say(`${info.extended ? '' : 'old server: '}${describeAttempt(cfg)}`);
    const grant = await granted;
    if (cfg.verbose) {
      const token = grant.token === null ? 'no fencing token from this server' : `token ${grant.token}`;
      say(`got ${what(cfg)} after ${formatDuration(performance.now() - started)} (${grant.count} holder(s), ${token})`);
    }
    return { kind: 'granted', held: serverHeld(client, cfg, say), grant };
  } catch (err) {
    const e = err as LockdError;
    if (e.code === 'ELOCKBUSY') {
      // glockd with its registry off never answers `d` or `sd` (and the
      // original lockd with it off shows only addresses): no holders then.
      const lookUp = client.serverInfo?.extended || (await named);
      const holders = lookUp ? await holdersOf(cfg, client) : [];
      if (!cfg.quiet) say(busyMessage(cfg, holders, performance.now() - started));
      client.destroy();
      return { kind: 'exit', status: cfg.conflictExitCode };
    }
    client.destroy();
    const unreachable = connectionFailure(e, cfg, client.serverInfo !== null);
    if (unreachable) return unreachable;
    if (e.code === 'EREFUSED') {
      throw new CliError(`the lock server at ${cfg.server} refused ${what(cfg)}: ${e.message}`, EXIT.UNAVAILABLE);
    }
    if (e.code === 'ECONNCLOSED' || e.code === 'ELOST') {
      return new CliError(`the lock server at ${cfg.server} closed the connection while we waited for ${what(cfg)}`, EXIT.UNAVAILABLE);
    }
    throw err;
  }
}

export function describeAttempt(cfg: RunConfig): string {
  const limit = cfg.max === undefined ? '' : ` (at most ${cfg.max} holders)`;
  const how = cfg.wait === 0 ? 'trying' : cfg.wait === Infinity ? 'waiting for' : `waiting up to ${formatDuration(cfg.wait)} for`;
  return `${how} ${what(cfg)}${limit} on ${cfg.server}`;
}

/** The lock's holders as the server's dumps show them; none when it will not say. */
async function holdersOf(cfg: RunConfig, client: Client): Promise<string[]> {
  try {
    return cfg.shared ? await client.dumpShared(cfg.lock) : [(await client.dump(cfg.lock)) ?? ''].filter(Boolean);
  } catch {
    return []; // dump disabled, or the connection went: said without the holders
  }
}

/** "lock "x" is busy (held by host:123:backup.sh)", with the holders when the server shows them. */
export function busyMessage(cfg: RunConfig, holders: string[], waited: number): string {
  const by = holders.length === 0 ? '' : ` (held by ${holders.map(brief).join(', ')})`;
  const state = cfg.shared ? `is full${cfg.max === undefined ? '' : ` (max ${cfg.max})`}` : 'is busy';
  if (cfg.wait === 0) return `${what(cfg)} ${state}${by}`;
  return `timed out after ${formatDuration(waited)} waiting for ${what(cfg)}${by}`;
}
