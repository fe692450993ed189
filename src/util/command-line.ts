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

/** A subcommand (lockd-ctl's): a cac command with its own options, after which the global ones also apply. */
export interface SubcommandSpec {
  name: string;
  alias?: string;
  /** Its arguments as cac shows them: `<name>` required, `[prefix]` optional. */
  args: string;
  description: string;
  options: OptionSpec[];
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
  /** lockd-ctl: the first word that is not an option names one of these; the words after it are its arguments. */
  subcommands?: SubcommandSpec[];
}

export interface ParsedCommandLine {
  /** By the long name in camelCase (`--auth-token-file`: authTokenFile): the value, or true for a flag. */
  options: Record<string, string | true>;
  /** The words after the options (the command), or a subcommand's arguments. */
  rest: string[];
  /** The subcommand given, by its name (not its alias). */
  subcommand?: string;
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
  for (const sub of spec.subcommands ?? []) {
    const command = cli.command(`${sub.name} ${sub.args}`, sub.description);
    if (sub.alias) command.alias(sub.alias);
    for (const o of sub.options) command.option(o.flags, o.description);
  }
  for (const e of spec.examples ?? []) cli.example(`  ${e}`);
  cli.help((sections) => [
    // cac ends each option line with a space (where a default would go).
    ...sections.map((s) => ({ ...s, body: s.body.replace(/ +$/gm, '') })),
    ...(spec.sections ?? []).map(([title, body]) => ({ title, body })),
  ]);
  // Not cac's default `-v, --version`: -v is --verbose.
  cli.version(spec.version, '--version');

  const global = cli.globalCommand.options as unknown as CacOption[];
  const commandOptions = (name: string) =>
    (cli.commands.find((c) => c.name === name)?.options ?? []) as unknown as CacOption[];
  const subcommands = spec.subcommands ?? [];
  // Every option any subcommand knows is parsed; those of another subcommand are refused below.
  const known = [...global, ...subcommands.flatMap((sub) => commandOptions(sub.name))];
  const { words, rest: split, used } = preSplit(spec, known, argv);
  let rest = split;
  let subcommand: SubcommandSpec | undefined;
  if (subcommands.length > 0 && rest.length > 0) {
    subcommand = subcommands.find((sub) => sub.name === rest[0] || sub.alias === rest[0]);
    if (!subcommand) throw new CliError(`unknown command "${rest[0]}"; try '${spec.program} --help'`);
    rest = rest.slice(1);
  }
  const parsed = cli.parse(['node', spec.program, ...(subcommand ? [subcommand.name] : []), ...words], { run: false });
  if (parsed.options.help || parsed.options.version) return { options: {}, rest: [], printed: true };
  if (subcommands.length > 0) {
    if (!subcommand) throw new CliError(`no command given; try '${spec.program} --help'`);
    const allowed = new Set([...global, ...commandOptions(subcommand.name)].map((o) => o.rawName));
    const stray = used.find((option) => !allowed.has(option.rawName));
    if (stray) throw new CliError(`${longFlag(stray)} is not an option of "${subcommand.name}"; try '${spec.program} ${subcommand.name} --help'`);
    checkArguments(spec.program, subcommand, rest);
  }

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
  return { options, rest, subcommand: subcommand?.name, printed: false };
}

/** A subcommand's arguments against its `<required> [optional]` list. */
function checkArguments(program: string, sub: SubcommandSpec, args: string[]): void {
  const expected = sub.args.split(' ').filter(Boolean);
  const required = expected.filter((a) => a.startsWith('<')).length;
  const help = `; try '${program} ${sub.name} --help'`;
  if (args.length < required) throw new CliError(`${sub.name}: missing ${expected[args.length].replace(/[<>]/g, '').toUpperCase()}${help}`);
  if (args.length > expected.length) throw new CliError(`${sub.name}: unexpected argument "${args[expected.length]}"${help}`);
}

/** `--lock` of `-l, --lock <name>`. */
function longFlag(option: CacOption): string {
  return /--[^\s,]+/.exec(option.rawName)![0];
}

/** The pre-split (see parseCommandLine): cac's words for the options, and the words after them. */
function preSplit(spec: CommandLineSpec, known: CacOption[], argv: string[]): { words: string[]; rest: string[]; used: CacOption[] } {
  const words: string[] = [];
  const used: CacOption[] = [];
  const positional: string[] = [];
  const dashes = argv.indexOf('--');
  const find = (flag: string) => {
    const long = flag.startsWith('--');
    const name = long ? flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) : flag.slice(1);
    const option = known.find((o) => o.names.includes(name));
    // A short name is one letter, a long one more: `--l` is not `-l`, nor `-x` an `--x`.
    if (!option || (name.length === 1) === long) {
      throw new CliError(`unknown option ${flag}; try '${spec.program} --help'`);
    }
    used.push(option);
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
      if (spec.subcommands) {
        positional.push(word);
        continue;
      }
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
  return { words, rest: [...positional, ...argv.slice(i)], used };
}
