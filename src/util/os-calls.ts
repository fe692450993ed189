// What lockd-run asks of the system besides its socket and its command:
// whether stdin is a terminal, the host name, signal numbers, and sending a
// signal. Through Node's native bindings where lockd-run uses them (see
// node-bindings.ts), so that node:tty (which loads node:net) and node:os stay
// unloaded; through those modules otherwise.
import { nodeBindings } from './node-bindings.js';
import { requireBuiltin } from './require-builtin.js';

/** tty.isatty() without loading node:tty (which loads node:net). */
export function isatty(fd: number): boolean {
  const b = nodeBindings();
  return b ? b.isTTY(fd) : (requireBuiltin('node:tty') as typeof import('node:tty')).isatty(fd);
}

/** os.constants.signals without loading node:os. */
export function signalNumbers(): Record<string, number> {
  return nodeBindings()?.signals ?? loadOs().constants.signals;
}

/** os.hostname() without loading node:os. */
export function hostname(): string {
  return nodeBindings()?.getHostname({}) ?? loadOs().hostname();
}

function loadOs(): typeof import('node:os') {
  return requireBuiltin('node:os') as typeof import('node:os');
}

/**
 * process.kill() that answers whether the signal was delivered instead of
 * throwing: the exception, when there is no such process, costs ~0.5 ms
 * the first time (building it loads libuv's table of error names), and
 * lockd-run's last step is asking whether the command's group is gone.
 */
export function sendSignal(pid: number, signal: NodeJS.Signals | 0): boolean {
  // Whatever asks, never our own process group (pid 0, or what _kill makes of
  // a pid that is not one), and never "delivered" for an unknown signal
  // (_kill would send 0).
  const number = signal === 0 ? 0 : signalNumbers()[signal];
  if (!Number.isInteger(pid) || pid === 0 || number === undefined) return false;
  const kill = (process as unknown as { _kill?: (pid: number, sig: number) => number })._kill;
  if (nodeBindings() && typeof kill === 'function') return kill.call(process, pid, number) === 0;
  try {
    return process.kill(pid, number);
  } catch {
    return false;
  }
}
