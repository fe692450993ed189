import fs from 'node:fs';
import { CliError } from './cli-errors.js';
import { EXIT } from './exit-codes.js';

/**
 * The shared secret: the first line of a file (so that it never shows in
 * `ps`). Both tools read it the same way.
 */
export function readToken(path: string): string {
  let text: string;
  try {
    text = fs.readFileSync(path, 'latin1');
  } catch (err) {
    throw new CliError(`cannot read the auth token file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.CONFIG);
  }
  const token = text.split('\n')[0].replace(/\r$/, '');
  if (token.trim() === '') throw new CliError(`the auth token file ${path} is empty`, EXIT.CONFIG);
  if (token !== token.trim()) throw new CliError(`the auth token in ${path} begins or ends with blanks`, EXIT.CONFIG);
  return token;
}
