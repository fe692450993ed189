import { MAX_TIMER_MS, formatDuration, parseDuration } from './duration.js';
import { CliError } from './cli-errors.js';
import { brief } from './brief.js';
import { DEFAULT_MAX_NAME } from '../protocol/limits.js';

// Option values of both command lines, checked one way.

export function durationOption(value: unknown, option: string, { allowZero = true, max = MAX_TIMER_MS } = {}): number {
  const ms = parseDuration(String(value));
  if (ms === null) throw new CliError(`${option}: "${value}" is not a duration (examples: 500ms, 30s, 2m, 1.5)`);
  if (ms === 0 && !allowZero) throw new CliError(`${option}: must be longer than 0`);
  if (ms > MAX_TIMER_MS) throw new CliError(`${option}: "${value}" is longer than the longest timer (24 days)`);
  if (ms > max) throw new CliError(`${option}: "${value}" is longer than ${formatDuration(max)}`);
  return ms;
}

export function wholeOption(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new CliError(`${option}: "${value}" is not a whole number ${range}`);
  }
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** A size in bytes: a whole number, optionally with K, M or G (powers of 1024; lower case too). */
export function sizeOption(value: unknown, option: string, min: number): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(String(value));
  const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2].toUpperCase()] : NaN;
  if (!(bytes >= min) || !Number.isSafeInteger(bytes)) {
    throw new CliError(`${option}: "${value}" is not a size of at least ${min} bytes (examples: 64M, 1G, 500000000)`);
  }
  return bytes;
}

/**
 * Names a server would not keep as given are usage errors: an empty one (an
 * unset "$JOB" would share one lock with every such script), one the servers
 * would trim (and so merge with another), one over a server's limit.
 */
export function checkLockName(lock: string): void {
  if (lock === '') throw new CliError('the lock name is empty');
  if (/[\r\n]/.test(lock)) throw new CliError('a lock name cannot contain a line break');
  if (/^\s|\s$/.test(lock)) throw new CliError(`the lock name "${brief(lock)}" begins or ends with white space, which servers drop`);
  const bytes = Buffer.byteLength(lock, 'utf8');
  if (bytes > DEFAULT_MAX_NAME) {
    throw new CliError(`the lock name is ${bytes} bytes long; servers take at most ${DEFAULT_MAX_NAME}`);
  }
}
