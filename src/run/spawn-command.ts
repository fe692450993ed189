import { execa } from 'execa';

export interface CommandEnded {
  /** Exit status, or null if killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it never started: ENOENT, EACCES, ... */
  error?: string;
  /** It was still running --kill-after past TERM, and was sent KILL. */
  forceKilled: boolean;
}

export interface RunningCommand {
  /** undefined if it never started. */
  pid: number | undefined;
  /** TERM now, KILL after the command's grace period if it is still running. */
  terminate(): void;
  ended: Promise<CommandEnded>;
}

export interface SpawnOptions {
  /** Its own process group. */
  detached: boolean;
  /** Its whole environment. */
  env: NodeJS.ProcessEnv;
  /** ms between TERM and KILL. */
  killAfter: number;
  /** Aborted when the lock is lost: the command is terminated as by terminate(). */
  cancel: AbortSignal;
}

/** Runs the command with our stdin, stdout and stderr. */
export function spawnCommand(file: string, args: string[], o: SpawnOptions): RunningCommand {
  const subprocess = execa(file, args, {
    stdio: 'inherit',
    detached: o.detached,
    env: o.env,
    extendEnv: false,
    reject: false,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: o.killAfter,
    cancelSignal: o.cancel,
    // lockd-run's own exit hook stops the command (see supervise.ts): execa's
    // would not reach a detached one, and one hook is enough for the other.
    cleanup: false,
  });
  const ended = subprocess.then((r) => ({
    code: r.exitCode ?? null,
    signal: (r.signal ?? null) as NodeJS.Signals | null,
    // An error before it ran: spawn's errno code (ENOENT, EACCES).
    error: r.exitCode === undefined && r.signal === undefined ? ((r as { code?: string }).code ?? 'unknown error') : undefined,
    forceKilled: r.isForcefullyTerminated,
  }));
  return { pid: subprocess.pid, terminate: () => void subprocess.kill(), ended };
}
