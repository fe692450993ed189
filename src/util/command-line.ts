import { cac } from 'cac';
import { CliError } from './cli-errors.js';

/** Both command lines: one table of options gives cac its options and --help. */
export interface OptionSpec {
  /** As cac takes them: an optional short name, then the long one: `-l, --lock <name>` (a value is required), `-w, --wait [duration]` (optional), `-v, --verbose` (none). */
  flags: string;
  description: string;
  /** Optional values only: whether the next word is this option's value rather than the command. */
  isValue?: (word: string) => boolean;
}

export interface CommandLineSpec {
  program: string;
  version: string;
  /** What follows "$ program " in the usage lines, then a blank line and the description. */
  usage: string;
  options: OptionSpec[];
  examples?: string[];
  /** Further sections of --help (title, body). */
  sections?: [string, string][];
  /** lockd-run: options end at the first word that is not one, and the rest is the command. */
  command?: boolean;
}

export interface ParsedCommandLine {
  /** By the long name in camelCase (`--auth-token-file`: authTokenFile): the value, or true for a flag. */
  options: Record<string, string | true>;
  /** The words after the options (the command). */
  rest: string[];
  /** --help or --version was asked for, and printed: exit 0. */
  printed: boolean;
}

/** cac's view of one option (its Option class is not exported by name). */
interface CacOption {
  rawName: string;
  /** camelCase names, shortest first: ['l', 'lock']. */
  names: string[];
  /** true: <value>, false: [value], undefined: a flag. */
  required?: boolean;
}

/**
 * Marks a value for cac: its parser (mri) turns values that look like numbers
 * into numbers (a lock named 007 would become 7). No argument can hold a NUL,
 * so a leading one is unambiguous, and taken off after parsing.
 */
const MARK = '\0';

/**
 * Parses argv with cac, which also prints --help and --version. cac takes the
 * words as they come and leaves three things to a pre-split here: where the
 * options end (lockd-run's command starts at the first word that is not an
 * option, flock-style, so `lockd-run -l x ls -la` needs no `--`); whether an
 * optional value (`-w [duration]`) is in the next word; and getopt's short
 * forms (`-nq`, `-lNAME`, `-nw5s`). The pre-split writes each option as
 * `--long` or `--long=VALUE` for cac. A flag may be repeated; an option with
 * a value may not (which would win is a guess). Throws CliError for unknown,
 * repeated or incomplete options.
 */
export function parseCommandLine(spec: CommandLineSpec, argv: string[]): ParsedCommandLine {
  const cli = cac(spec.program);
  cli.usage(spec.usage);
  for (const o of spec.options) cli.option(o.flags, o.description);
  for (const e of spec.examples ?? []) cli.example(`  ${e}`);
  cli.help((sections) => [
    // cac ends each option line with a space (where a default would go).
    ...sections.map((s) => ({ ...s, body: s.body.replace(/ +$/gm, '') })),
    ...(spec.sections ?? []).map(([title, body]) => ({ title, body })),
  ]);
  // Not cac's default `-v, --version`: -v is --verbose.
  cli.version(spec.version, '--version');

  const known = cli.globalCommand.options as unknown as CacOption[];
  const { words, rest } = preSplit(spec, known, argv);
  const parsed = cli.parse(['node', spec.program, ...words], { run: false });
  if (parsed.options.help || parsed.options.version) return { options: {}, rest: [], printed: true };

  const options: Record<string, string | true> = {};
  for (const option of known) {
    const key = option.names[option.names.length - 1];
    const value: unknown = parsed.options[key];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (option.required === undefined) options[key] = true;
    else if (values.length > 1) throw new CliError(`${longFlag(option)} may be given only once`);
    else options[key] = values[0] === true ? true : String(values[0]).slice(MARK.length);
  }
  return { options, rest, printed: false };
}

/** `--lock` of `-l, --lock <name>`. */
function longFlag(option: CacOption): string {
  return /--[^\s,]+/.exec(option.rawName)![0];
}

/** The pre-split (see parseCommandLine): cac's words for the options, and the words after them. */
function preSplit(spec: CommandLineSpec, known: CacOption[], argv: string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const dashes = argv.indexOf('--');
  const find = (flag: string) => {
    const long = flag.startsWith('--');
    const name = long ? flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) : flag.slice(1);
    const option = known.find((o) => o.names.includes(name));
    // A short name is one letter, a long one more: `--l` is not `-l`, nor `-x` an `--x`.
    if (!option || (name.length === 1) === long) {
      throw new CliError(`unknown option ${flag}; try '${spec.program} --help'`);
    }
    return option;
  };
  const flag = (option: CacOption) => words.push(longFlag(option));
  const value = (option: CacOption, text: string) => words.push(`${longFlag(option)}=${MARK}${text}`);
  /** The option at argv[i], nothing after it in its word: its value is the next word, if any. Returns where it ends. */
  const valueFromNext = (option: CacOption, i: number): number => {
    const next = argv[i + 1];
    const isValue = spec.options.find((o) => o.flags === option.rawName)?.isValue;
    const takes =
      next !== undefined &&
      next !== '--' &&
      (option.required === true || (dashes > i && !next.startsWith('-')) || !!isValue?.(next));
    if (takes) {
      value(option, next);
      return i + 1;
    }
    if (option.required) throw new CliError(`${longFlag(option)} needs a value`);
    flag(option);
    return i;
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      if (spec.command) break;
      throw new CliError(`unexpected argument "${word}"; try '${spec.program} --help'`);
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const option = find(eq < 0 ? word : word.slice(0, eq));
      if (eq < 0) {
        if (option.required === undefined) flag(option);
        else i = valueFromNext(option, i);
      } else if (option.required === undefined) throw new CliError(`${longFlag(option)} takes no value`);
      else value(option, word.slice(eq + 1));
      continue;
    }
    for (let k = 1; k < word.length; k++) {
      const option = find(`-${word[k]}`);
      if (option.required === undefined) {
        flag(option);
        continue;
      }
      const inWord = word.slice(k + 1);
      // `-l=name` as well as `-lname`, and lock names rarely start with "=".
      if (inWord !== '') value(option, inWord.startsWith('=') ? inWord.slice(1) : inWord);
      else i = valueFromNext(option, i);
      break;
    }
  }
  return { words, rest: argv.slice(i) };
}
