import { parseCommandLine, type CommandLineSpec, type OptionSpec } from '../util/command-line.js';
import { checkLockName } from '../util/option-values.js';
import { ETCD_OPTIONS, SERVER_OPTIONS, serverConfig, type ServerConfig } from '../util/server-options.js';
import { CliError } from '../util/cli-errors.js';
import { EXIT } from '../util/exit-codes.js';
import { VERSION } from '../version.js';

export type CtlCommand = 'list' | 'show' | 'check' | 'clients' | 'stats';

export interface CtlConfig extends ServerConfig {
  command: CtlCommand;
  /** list: the prefix ('' for all); show, check: the lock's name. */
  name: string;
  shared: boolean;
  json: boolean;
  quiet: boolean;
}

const JSON_OPTION: OptionSpec = { flags: '--json', description: 'Print one JSON document, for scripts' };
const SHARED_OPTION: OptionSpec = { flags: '-s, --shared', description: 'The shared lock of that name (exclusive and shared names are apart)' };

const COMMAND_LINE: CommandLineSpec = {
  program: 'lockd-ctl',
  version: VERSION,
  usage: `[options] <command> [args]

Shows a lockd server's locks, holders, waiters, connections and counters,
without taking any lock. Against an old server (glockd, the original lockd)
it shows what d, sd, who and q tell; what they cannot is shown as -.`,
  options: [...SERVER_OPTIONS, ...ETCD_OPTIONS],
  subcommands: [
    { name: 'list', alias: 'ls', args: '[prefix]', description: 'One row per lock (whose name starts with PREFIX); alias ls', options: [JSON_OPTION] },
    { name: 'show', args: '<name>', description: 'Every holder of a lock, then its waiters in queue order', options: [SHARED_OPTION, JSON_OPTION] },
    {
      name: 'check',
      args: '<name>',
      description: 'Exit 0 if the lock is free, 1 if it is held (saying by whom)',
      options: [SHARED_OPTION, { flags: '-q, --quiet', description: 'Print nothing; the exit status says it' }],
    },
    { name: 'clients', args: '', description: 'Live connections: name, address, locks held, connected since', options: [JSON_OPTION] },
    { name: 'stats', args: '', description: "The server's counters", options: [JSON_OPTION] },
  ],
  examples: ['lockd-ctl list', 'lockd-ctl -S locks.example:9999 show nightly-backup', 'lockd-ctl check --shared api || echo busy'],
  sections: [
    [
      'Exit status',
      [
        '  0    done; check: the lock is free',
        '  1    check: the lock is held',
        `  ${EXIT.USAGE}   usage error`,
        `  ${EXIT.UNAVAILABLE}   lock server unreachable, or it cannot show this (dump or registry off)`,
        `  ${EXIT.NOPERM}   the server refused our auth token (etcd: our user);  ${EXIT.CONFIG}  unreadable auth token file`,
      ].join('\n'),
    ],
  ],
};

/** Parses lockd-ctl's command line; null when --help or --version was printed. Throws CliError on misuse. */
export function parseCtlArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CtlConfig | null {
  const { options: o, rest, subcommand, printed } = parseCommandLine(COMMAND_LINE, argv);
  if (printed) return null;
  const command = subcommand as CtlCommand;
  const name = rest[0] ?? '';
  if (command === 'show' || command === 'check') checkLockName(name);
  else if (/[\r\n]/.test(name)) throw new CliError('a prefix cannot contain a line break');
  const connection = serverConfig(o, env);
  if (connection.etcd && (command === 'clients' || command === 'stats')) {
    throw new CliError(`${command} is for lock servers: an etcd cluster has no connections or counters of lockd's (list, show and check read etcd)`);
  }
  return { command, name, shared: !!o.shared, json: !!o.json, quiet: !!o.quiet, ...connection };
}

