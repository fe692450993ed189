import { getSystemErrorName } from 'node:util';
import { nodeBindings } from '../util/node-bindings.js';
import { requireBuiltin } from '../util/require-builtin.js';

export interface CommandEnded {
  /** Exit status, or null if killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it never started: ENOENT, EACCES, ... */
  error?: string;
}

export interface RunningCommand {
  /** undefined if it never started. */
  pid: number | undefined;
  ended: Promise<CommandEnded>;
}

/**
 * Runs the command with our stdin, stdout and stderr, as
 * child_process.spawn(file, args, { stdio: 'inherit', detached, env }) does,
 * on Node's native process handle where it can (see node-bindings.ts).
 */
export function spawnCommand(file: string, args: string[], detached: boolean, env: NodeJS.ProcessEnv): RunningCommand {
  const bindings = nodeBindings();
  if (!bindings) return spawnChild(file, args, detached, env);
  const handle = new bindings.Process();
  let done!: (ended: CommandEnded) => void;
  const ended = new Promise<CommandEnded>((resolve) => (done = resolve));
  handle.onexit = (code, signal) => {
    handle.close();
    // A negative status: it could not be started after all.
    if (code < 0) done({ code: null, signal: null, error: getSystemErrorName(code) });
    else done({ code: signal ? null : code, signal: (signal || null) as NodeJS.Signals | null });
  };
  const envPairs: string[] = [];
  for (const key in env) if (env[key] !== undefined) envPairs.push(`${key}=${env[key]}`);
  const err = handle.spawn({
    file,
    args: [file, ...args],
    envPairs,
    stdio: [0, 1, 2].map((fd) => ({ type: 'inherit', fd })),
    detached,
  });
  if (err < 0) {
    handle.close();
    return { pid: undefined, ended: Promise.resolve({ code: null, signal: null, error: getSystemErrorName(err) }) };
  }
  return { pid: handle.pid, ended };
}

/** The same through node:child_process. */
function spawnChild(file: string, args: string[], detached: boolean, env: NodeJS.ProcessEnv): RunningCommand {
  const { spawn } = requireBuiltin('node:child_process') as typeof import('node:child_process');
  const child = spawn(file, args, { stdio: 'inherit', detached, env });
  const ended = new Promise<CommandEnded>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error: error.code }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { pid: child.pid, ended };
}
