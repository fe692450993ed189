import type { CAC } from 'cac';

/**
 * Splits lockd-run's arguments into its own options and the command, the way
 * flock(1) does: options stop at `--` or at the first word that is neither an
 * option nor an option's value, so the command's own options stay its own.
 * An option with an optional value (`-w [DURATION]`) takes the next word only
 * if isValue() accepts it.
 */
export function splitArgv(
  cli: CAC,
  argv: string[],
  isValue: (option: string, word: string) => boolean,
): { own: string[]; command: string[] } {
  const takes = new Map<string, 'required' | 'optional'>();
  for (const option of cli.globalCommand.options) {
    if (option.isBoolean) continue;
    for (const flag of option.rawName.split(',')) {
      takes.set(flag.trim().split(/[\s<[]/)[0], option.required ? 'required' : 'optional');
    }
  }
  const own: string[] = [];
  // Before an explicit `--` every word belongs to the options, so a bad
  // optional value is reported as such instead of being run as the command.
  const end = argv.indexOf('--');
  let i = 0;
  while (i < argv.length) {
    const word = argv[i];
    if (word === '--') return { own, command: argv.slice(i + 1) };
    if (!word.startsWith('-') || word === '-') break;
    own.push(word);
    i++;
    if (word.includes('=')) continue;
    // In a cluster such as -nw only the last letter can take a value.
    const flag = word.startsWith('--') ? word : `-${word.slice(-1)}`;
    const kind = takes.get(flag);
    const next = argv[i];
    if (next === undefined || next === '--') continue;
    const beforeEnd = end > i && !next.startsWith('-');
    if (kind === 'required' || (kind === 'optional' && (beforeEnd || isValue(flag, next)))) {
      own.push(next);
      i++;
    }
  }
  return { own, command: argv.slice(i) };
}
