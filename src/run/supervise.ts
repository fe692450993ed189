import { isatty } from 'node:tty';
import { onExit } from 'signal-exit';
import type { Grant } from '../client/client.js';
import type { HeldLock } from './held-lock.js';
import { EXIT } from '../util/exit-codes.js';
import { formatDuration } from '../util/duration.js';
import type { RunConfig } from './options.js';
import { FORWARDED, GROUP_SIGNALS, TERMINAL_GENERATED, signalNumber } from './signals.js';
import { spawnCommand, type RunningCommand } from './spawn-command.js';
import type { Say } from './acquire-lock.js';
import { brief } from '../util/brief.js';

/**
 * Runs the command while the lock is held; resolves to lockd-run's exit
 * status. Signal forwarding and the exit hook stay in place: the caller exits
 * at once, and undoing them would only delay that.
 */
export async function supervise(cfg: RunConfig, held: HeldLock, grant: Grant, say: Say): Promise<number> {
  // Its own process group, so that on lock loss we can stop it and everything
  // it started. Not when it shares our terminal: a background group could not
  // read from it.
  const ownGroup = !isatty(0);
  const lockLost = new AbortController();
  // The handlers go first: from the first signal handler on, Node takes the
  // signal, not the kernel's default. Were they set up after the spawn, a
  // TERM sent as soon as the command shows signs of life could end lockd-run
  // before they are. They run on the event loop, by when `child` is set.
  let child: RunningCommand;
  let alive = true;
  const signal = (sig: NodeJS.Signals, wholeGroup: boolean) => {
    if (alive && child.pid !== undefined) sendSignal(wholeGroup && ownGroup ? -child.pid : child.pid, sig);
  };

  for (const sig of FORWARDED) {
    const forward =
      // TERM, then KILL after --kill-after: what is left of its group is reaped once it has gone.
      sig === 'SIGTERM' ? () => alive && child.terminate()
      // What a terminal would send to the whole foreground group goes to the command's group.
      : ownGroup || !TERMINAL_GENERATED.includes(sig) ? () => signal(sig, GROUP_SIGNALS.includes(sig))
      : () => {};
    process.on(sig, forward);
  }
  child = spawnCommand(cfg.command[0], cfg.command.slice(1), {
    detached: ownGroup,
    env: {
      ...withoutSecrets(process.env),
      LOCKD_LOCK: cfg.lock,
      LOCKD_MODE: cfg.shared ? 'shared' : 'exclusive',
      LOCKD_COUNT: String(grant.count),
      LOCKD_MAX: cfg.max === undefined ? '' : String(cfg.max),
      LOCKD_SERVER: cfg.server,
      LOCKD_TOKEN: grant.token === null ? '' : String(grant.token),
    },
    killAfter: cfg.killAfter,
    cancel: lockLost.signal,
  });

  // If lockd-run itself dies (anything but KILL), the command must not run on unlocked.
  onExit(() => signal('SIGTERM', true));

  let lost = false;
  const lose = (why: string) => {
    if (lost || !alive) return;
    lost = true;
    if (cfg.onLost === 'ignore') {
      say(`lost lock "${brief(cfg.lock)}": ${why}; --on-lost ignore: the command goes on unprotected`);
      return;
    }
    say(`lost lock "${brief(cfg.lock)}": ${why}; terminating the command`);
    lockLost.abort();
  };
  held.watch(lose);

  const result = await child.ended;
  alive = false;
  if (result.forceKilled) say(`command still running ${formatDuration(cfg.killAfter)} after TERM; sent KILL`);
  // Whatever the command left running in its group must not outlive the lock.
  if (ownGroup && child.pid !== undefined) await reapGroup(child.pid, cfg.killAfter, say);

  if (lost && cfg.onLost === 'term') return EXIT.LOST;
  if (result.signal) return EXIT.SIGNAL_BASE + signalNumber(result.signal);
  if (result.code !== null) return result.code;
  // It never started.
  if (result.error === 'ENOENT') {
    say(`${cfg.command[0]}: command not found`);
    return EXIT.NOT_FOUND;
  }
  const why = result.error === 'EACCES' ? 'permission denied' : (result.error ?? 'unknown error');
  say(`${cfg.command[0]}: cannot run: ${why}`);
  return EXIT.CANNOT_EXECUTE;
}

/** Is any process of group pgid still there? */
function groupAlive(pgid: number): boolean {
  return sendSignal(-pgid, 0);
}

/** TERM what is left of the command's process group, KILL it after the grace period. */
async function reapGroup(pgid: number, grace: number, say: Say): Promise<void> {
  if (!groupAlive(pgid)) return;
  say('the command left processes running in its process group; terminating them');
  if (!sendSignal(-pgid, 'SIGTERM')) return;
  const deadline = performance.now() + grace;
  while (groupAlive(pgid) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (groupAlive(pgid)) {
    say(`processes still running ${formatDuration(grace)} after TERM; sending KILL`);
    sendSignal(-pgid, 'SIGKILL'); // false if gone meanwhile
  }
}

/** process.kill() that answers whether the signal was delivered instead of throwing (the process may be gone). */
function sendSignal(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    return process.kill(pid, signal);
  } catch {
    return false;
  }
}

/** The command gets our environment, less the auth token meant for the lock server only. */
function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { LOCKD_AUTH_TOKEN: _, ...rest } = env;
  return rest;
}
