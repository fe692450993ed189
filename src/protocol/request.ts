import { MAX_TIMER_MS } from '../util/duration.js';

// Request lines are byte strings: the network layer decodes them as latin1 so
// every byte maps to one char and replies echo names back byte for byte
// (UTF-8 names, invalid UTF-8 and NUL bytes all round-trip unchanged).

export interface Request {
  /** The command word, case-sensitive as in glockd: '' for a line of only spaces and tabs. */
  cmd: string;
  /** Everything after the first space, trimmed; '' when absent. */
  arg: string;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/**
 * Parses one request line (without its '\n'): line, or the part of it from
 * start to end, so that the server parses its input where it lies instead of
 * copying each line out first.
 *
 * As in both old servers: surrounding spaces, tabs and CRs are trimmed, and
 * the command word ends at the first space, so `g\tNAME` is one unknown word.
 * A line of only spaces and tabs is an unknown command (the word ''), counted
 * as one. An empty line (`\n`, `\r\n`) is null: ignored without reply or
 * count, as by the original Node lockd. Runs of spaces inside a name are kept,
 * because names are data (glockd folds them).
 */
export function parseRequest(line: string, start = 0, end = line.length): Request | null {
  if (end > start && line.charCodeAt(end - 1) === CR) end--;
  if (start === end) return null;
  while (start < end && isBlank(line.charCodeAt(start))) start++;
  while (end > start && isBlank(line.charCodeAt(end - 1))) end--;
  let sep = start;
  while (sep < end && line.charCodeAt(sep) !== SPACE) sep++;
  const cmd = line.slice(start, sep);
  if (sep === end) return { cmd, arg: '' };
  let argStart = sep + 1;
  while (argStart < end && isBlank(line.charCodeAt(argStart))) argStart++;
  return { cmd, arg: line.slice(argStart, end) };
}

/** Splits "WORD rest" into the first word and the trimmed rest (for extension arguments). */
export function splitWord(arg: string): [string, string] {
  const i = arg.indexOf(' ');
  if (i < 0) return [arg, ''];
  return [arg.slice(0, i), arg.slice(i + 1).trim()];
}

/** A wait timeout argument in milliseconds: a whole number, or -1 for "forever" (so is anything past a timer's range). */
export function parseWaitMs(word: string): number | null {
  if (!/^(-1|\d{1,12})$/.test(word)) return null;
  const ms = Number(word);
  return ms < 0 || ms > MAX_TIMER_MS ? Infinity : ms;
}

/** A maximum-holders argument: 0 means no maximum. */
export function parseMax(word: string): number | null {
  if (!/^\d{1,9}$/.test(word)) return null;
  const n = Number(word);
  return n === 0 ? Infinity : n;
}

/** A fencing token argument (`rg`, `rsg`): a positive whole number within a double's exact range. */
export function parseToken(word: string): number | null {
  if (!/^[1-9]\d{0,15}$/.test(word)) return null;
  const token = Number(word);
  return Number.isSafeInteger(token) ? token : null;
}
