import { CliError } from './cli-errors.js';

/**
 * Both command lines: one table of options gives the parser and --help.
 * (Not cac: loading and running it took about 3 ms of lockd-run's start-up,
 * which has about 8 ms to spend in all; see README, Performance.)
 */
export interface OptionSpec {
  /** As in --help, the long name last: `-l, --lock <name>` (a value is required), `-w, --wait [duration]` (optional), `-v, --verbose` (none). */
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

/** Every flag of the table, to its option. */
function table(spec: CommandLineSpec): Map<string, Option> {
  const byFlag = new Map<string, Option>();
  for (const s of [...spec.options, ...BUILT_IN]) {
    // No regular expressions: compiling them was a tenth of a millisecond of lockd-run's start.
    const space = s.flags.indexOf(' ', s.flags.lastIndexOf('--'));
    const flags = (space < 0 ? s.flags : s.flags.slice(0, space)).split(', ');
    const long = flags[flags.length - 1];
    const words = long.slice(2).split('-');
    const option: Option = {
      spec: s,
      long,
      key: words[0] + words.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join(''),
      value: space < 0 ? 'none' : s.flags[space + 1] === '<' ? 'required' : 'optional',
    };
    for (const flag of flags) byFlag.set(flag, option);
  }
  return byFlag;
}

/**
 * Parses argv the way flock(1) does: `--name value`, `--name=value`, `-n
 * value`, clusters such as `-nw` (only the last letter may take a value), and
 * `--` to end the options. An optional value (`-w [duration]`) takes the next
 * word if isValue() accepts it, or, before an explicit `--`, if it is not an
 * option. Throws CliError for unknown, repeated or incomplete options.
 */
export function parseCommandLine(spec: CommandLineSpec, argv: string[]): ParsedCommandLine {
  const byFlag = table(spec);
  const options: Record<string, string | true> = {};
  const dashes = argv.indexOf('--');
  const set = (option: Option, value: string | true) => {
    if (option.key in options) throw new CliError(`${option.long} may be given only once`);
    options[option.key] = value;
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
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    // -nw: every letter a flag but the last, which is the one that may take a value.
    const flags = name.startsWith('--') ? [name] : [...name.slice(1)].map((c) => `-${c}`);
    for (const [n, flag] of flags.entries()) {
      const option = byFlag.get(flag);
      if (!option) throw new CliError(`unknown option ${flag}; try '${spec.program} --help'`);
      const last = n === flags.length - 1;
      if (last && eq >= 0) {
        if (option.value === 'none') throw new CliError(`${option.long} takes no value`);
        set(option, word.slice(eq + 1));
        continue;
      }
      const next = argv[i + 1];
      const takes =
        last &&
        next !== undefined &&
        next !== '--' &&
        (option.value === 'required' ||
          (option.value === 'optional' && ((dashes > i && !next.startsWith('-')) || !!option.spec.isValue?.(next))));
      if (takes) {
        set(option, next);
        i++;
      } else if (option.value === 'required') {
        throw new CliError(`${option.long} needs a value`);
      } else {
        set(option, true);
      }
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
