import { readFileSync } from 'node:fs';
import { CliError } from './cli-errors.js';
import { EXIT } from './exit-codes.js';
import { MAX_AUTH_TOKEN } from '../protocol/old-servers.js';

// The secrets and certificates both tools read from files.

/**
 * The shared secret: the first line of a file (so that it never shows in
 * `ps`). Both tools read it the same way.
 */
export function readToken(path: string, what = 'auth token'): string {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    throw new CliError(`cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.CONFIG);
  }
  const token = text.split('\n')[0].replace(/\r$/, '');
  if (token.trim() === '') throw new CliError(`the ${what} file ${path} is empty`, EXIT.CONFIG);
  if (token !== token.trim()) throw new CliError(`the ${what} in ${path} begins or ends with blanks`, EXIT.CONFIG);
  if (Buffer.byteLength(token, 'latin1') > MAX_AUTH_TOKEN) {
    throw new CliError(`the ${what} in ${path} is longer than ${MAX_AUTH_TOKEN} bytes`, EXIT.CONFIG);
  }
  return token;
}

/** A PEM file (certificate, key, CA) named by an option. */
export function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`${option}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.CONFIG);
  }
}
