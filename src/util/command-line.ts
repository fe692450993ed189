import { CliError } from './cli-errors.js';

/**
 * Both command lines: one table of options gives the parser and --help.
 * (Not cac: loading and running it took about 3 ms of lockd-run's start-up,
 * which has about 8 ms to spend in all; see README, Performance.)
 */
export interface OptionSpec {
  /** As in --help, an optional short name, then the long one: `-l, --lock <name>` (a value is required), `-w, --wait [duration]` (optional), `-v, --verbose` (none). */
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
  /** --help or --version was asked for: print this and exit 0. */
  print?: string;
}

interface Option {
  spec: OptionSpec;
  long: string;
  key: string;
  value: 'none' | 'required' | 'optional';
}

const BUILT_IN: OptionSpec[] = [
  { flags: '-h, --help', description: 'Display this message' },
  { flags: '--version', description: 'Display version number' },
];

/** A spec's names (`-l, --lock`), without its value (`<name>`). */
function namesOf(s: OptionSpec): string {
  const space = s.flags.indexOf(' ', s.flags.lastIndexOf('--'));
  return space < 0 ? s.flags : s.flags.slice(0, space);
}

function toOption(s: OptionSpec): Option {
  const names = namesOf(s);
  const long = names.slice(names.lastIndexOf('--'));
  const words = long.slice(2).split('-');
  const placeholder = s.flags.slice(names.length + 1);
  return {
    spec: s,
    long,
    key: words[0] + words.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join(''),
    value: placeholder === '' ? 'none' : placeholder[0] === '<' ? 'required' : 'optional',
  };
}

/**
 * The option a flag (`-l` or `--lock`) names. Only the options a command
 * line uses are parsed from their specs: parsing all of lockd-run's up front
 * took about 0.4 ms of its start-up, and this takes its option parsing from
 * about 0.7 ms to 0.45. (No regular expressions either: compiling them cost
 * a tenth of a millisecond.)
 */
function findOption(spec: CommandLineSpec, flag: string): Option | undefined {
  for (const specs of [spec.options, BUILT_IN]) {
    for (const s of specs) {
      const names = namesOf(s);
      if (names === flag || names.startsWith(`${flag}, `) || names.endsWith(`, ${flag}`)) return toOption(s);
    }
  }
  return undefined;
}

/**
 * Parses argv the way flock(1) (getopt) does: `--name value`, `--name=value`,
 * `-n value`, `-nvalue`, clusters such as `-nq` in which the first letter that
 * takes a value takes the rest of the word (`-nw5s`) or else the next word,
 * and `--` to end the options. An optional value (`-w [duration]`) in the
 * next word is taken if isValue() accepts it, or, before an explicit `--`, if
 * it is not an option. A flag may be repeated; an option with a value may
 * not (which would win is a guess). Throws CliError for unknown, repeated or
 * incomplete options.
 */
export function parseCommandLine(spec: CommandLineSpec, argv: string[]): ParsedCommandLine {
  const options: Record<string, string | true> = {};
  const dashes = argv.indexOf('--');
  const find = (flag: string) => {
    const option = findOption(spec, flag);
    if (!option) throw new CliError(`unknown option ${flag}; try '${spec.program} --help'`);
    return option;
  };
  const set = (option: Option, value: string | true) => {
    if (option.key in options && option.value !== 'none') throw new CliError(`${option.long} may be given only once`);
    options[option.key] = value;
  };
  /** The option at argv[i] with nothing after it in its word: its value is the next word, if any. Returns where it ends. */
  const valueFromNext = (option: Option, i: number): number => {
    const next = argv[i + 1];
    const takes =
      next !== undefined &&
      next !== '--' &&
      (option.value === 'required' ||
        (option.value === 'optional' && ((dashes > i && !next.startsWith('-')) || !!option.spec.isValue?.(next))));
    if (takes) {
      set(option, next);
      return i + 1;
    }
    if (option.value === 'required') throw new CliError(`${option.long} needs a value`);
    set(option, true);
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
      if (eq < 0 && option.value !== 'none') i = valueFromNext(option, i);
      else if (eq < 0) set(option, true);
      else if (option.value === 'none') throw new CliError(`${option.long} takes no value`);
      else set(option, word.slice(eq + 1));
      continue;
    }
    for (let k = 1; k < word.length; k++) {
      const option = find(`-${word[k]}`);
      if (option.value === 'none') {
        set(option, true);
        continue;
      }
      const rest = word.slice(k + 1);
      // `-l=name` as well as `-lname`: cac read it so, and lock names rarely start with "=".
      if (rest !== '') set(option, rest.startsWith('=') ? rest.slice(1) : rest);
      else i = valueFromNext(option, i);
      break;
    }
  }
  if (options.help) return { options, rest: [], print: help(spec) };
  if (options.version) return { options, rest: [], print: `${spec.program}/${spec.version}\n` };
  return { options, rest: argv.slice(i) };
}

/** --help: usage, options, examples, and the extra sections. */
export function help(spec: CommandLineSpec): string {
  const all = [...spec.options, ...BUILT_IN];
  const width = Math.max(...all.map((o) => o.flags.length)) + 2;
  const parts = [
    `${spec.program}/${spec.version}`,
    `Usage:\n  $ ${spec.program} ${spec.usage}`,
    `Options:\n${all.map((o) => `  ${o.flags.padEnd(width)}${o.description}`).join('\n')}`,
  ];
  if (spec.examples) parts.push(`Examples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
  for (const [title, body] of spec.sections ?? []) parts.push(`${title}:\n${body}`);
  return `${parts.join('\n\n')}\n`;
}
