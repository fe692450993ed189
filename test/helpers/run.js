// Running lockd-run (and other real processes) for tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const LOCKD_RUN = fileURLToPath(new URL('../../bin/lockd-run', import.meta.url));
export const LOCKD_SERVER = fileURLToPath(new URL('../../bin/lockd-server', import.meta.url));
export const LOCKD_CTL = fileURLToPath(new URL('../../bin/lockd-ctl', import.meta.url));

/** Starts a process; collects its output; `exited` resolves to { code, signal }. */
export function launch(file, args, { input, env } = {}) {
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const proc = { child, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => (proc.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (proc.stderr += d));
  if (input !== undefined) child.stdin.end(input);
  proc.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  /** Resolves once stdout (or stderr) matches re. */
  proc.waitFor = async (re, stream = 'stdout') => {
    while (!re.test(proc[stream])) {
      const done = await Promise.race([once(child[stream], 'data').then(() => false), proc.exited.then(() => true)]);
      if (done && !re.test(proc[stream])) throw new Error(`exited before ${re}: ${proc.stdout} ${proc.stderr}`);
    }
  };
  return proc;
}

/** lockd-run against a server; resolves to { code, signal, stdout, stderr } when it ends. */
export async function lockdRun(server, args, options) {
  const proc = launch(LOCKD_RUN, ['-S', server, ...args], options);
  const { code, signal } = await proc.exited;
  return { code, signal, stdout: proc.stdout, stderr: proc.stderr };
}

/** A command (node script) that prints "ready", then waits for a signal or stdin to close. */
export function nodeCommand(script) {
  return [process.execPath, '-e', script];
}

/** Starts a real lockd-server process on a free port; resolves with its address. */
export async function startServerProcess(extra = []) {
  const proc = launch(LOCKD_SERVER, ['--tcp', '127.0.0.1:0', '--verbose', ...extra]);
  await proc.waitFor(/listening on 127\.0\.0\.1:\d+/);
  proc.port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(proc.stdout)[1]);
  proc.address = `127.0.0.1:${proc.port}`;
  return proc;
}
