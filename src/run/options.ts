import { hostname } from 'node:os';
import { basename } from 'node:path';
import { parseCommandLine, type CommandLineSpec } from '../util/command-line.js';
import { parseDuration } from '../util/duration.js';
import { checkLockName, durationOption, wholeOption } from '../util/option-values.js';
import { CliError } from '../util/cli-errors.js';
import { EXIT } from '../util/exit-codes.js';
import { VERSION } from '../version.js';
import { brief } from '../util/brief.js';
import { ETCD_OPTIONS, SERVER_OPTIONS, serverConfig, text, type ServerConfig } from '../util/server-options.js';

export interface RunConfig extends ServerConfig {
  lock: string;
  shared: boolean;
  /** Shared only: most holders at once (undefined: no maximum). */
  max: number | undefined;
  /** ms to wait for the lock: 0 tries once, Infinity waits for ever. */
  wait: number;
  conflictExitCode: number;
  name: string;
  verbose: boolean;
  quiet: boolean;
  killAfter: number;
  onLost: 'term' | 'ignore';
  pingInterval: number;
  /** The command and its arguments (for -c: the shell, -c and the string). */
  command: string[];
}

/** The lock, as messages name it: `lock "NAME"` or `shared lock "NAME"`. */
export function what(cfg: RunConfig): string {
  return cfg.shared ? `shared lock "${brief(cfg.lock)}"` : `lock "${brief(cfg.lock)}"`;
}

const COMMAND_LINE: CommandLineSpec = {
  program: 'lockd-run',
  version: VERSION,
  command: true,
  usage: `[options] -l|--lock NAME [--] command [args...]
  $ lockd-run [options] -s|--shared NAME [-m|--max N] [--] command [args...]
  $ lockd-run [options] (-l NAME | -s NAME ...) -c 'shell command'

Takes a lock on a lockd server, runs the command while holding it, and exits
with the command's status. The lock is held by lockd-run's connection, so it
is released when lockd-run ends, however it ends.`,
  options: [
    { flags: '-l, --lock <name>', description: 'Take the exclusive lock NAME' },
    { flags: '-s, --shared <name>', description: 'Take the shared (counted) lock NAME' },
    { flags: '-m, --max <n>', description: 'With --shared: at most N holders at once' },
    { flags: '-c, --command <string>', description: 'Run the string with $SHELL -c (default /bin/sh)' },
    { flags: '-n, --nonblock', description: 'If the lock is busy, exit at once (the default)' },
    {
      flags: '-w, --wait [duration]',
      description: 'Wait for the lock, for ever or up to DURATION (500ms, 30s, 2m, 1h, 1.5), retrying a server that cannot be reached meanwhile; the next word is taken as DURATION only if it is one',
      isValue: (word) => parseDuration(word) !== null,
    },
    ...SERVER_OPTIONS,
    ...ETCD_OPTIONS,
    { flags: '-E, --conflict-exit-code <n>', description: `Exit status when busy or timed out (default ${EXIT.BUSY})` },
    { flags: '--name <label>', description: 'Name shown in dumps for this holder (default host:pid:command)' },
    { flags: '--kill-after <duration>', description: 'Send KILL this long after TERM if the command is still alive (default 10s)' },
    { flags: '--on-lost <action>', description: 'When the lock is lost while the command runs: term or ignore (default term)' },
    { flags: '--ttl <duration>', description: 'etcd targets: the lease TTL; a lockd-run killed with KILL frees its lock after it (default 10s, at least 2s)' },
    { flags: '--ping-interval <duration>', description: 'Check the connection this often while the command runs (default 5s)' },
    { flags: '-v, --verbose', description: 'Say what is waited for, and how long it took' },
    { flags: '-q, --quiet', description: 'Say nothing when the lock is busy or the wait times out' },
  ],
  examples: [
    'lockd-run --lock nightly-backup -- ./backup.sh',
    'lockd-run --shared api --max 5 --wait 2m -- curl https://example.org/',
    "lockd-run -S locks.example:9999 -l report -w 30s -c 'make report && mail-report'",
  ],
  sections: [
    [
      'Exit status',
      [
        "  the command's own status; 128+N when it died of signal N",
        `  ${EXIT.SOFTWARE}   internal error (a bug)`,
        `  ${EXIT.USAGE}   usage error`,
        `  ${EXIT.UNAVAILABLE}   lock server unreachable`,
        `  ${EXIT.NOPERM}   the server refused our auth token (etcd: our user);  ${EXIT.CONFIG}  unreadable auth token file`,
        `  ${EXIT.LOST}   lock lost while the command ran (with --on-lost term, whatever the command returned)`,
        `  ${EXIT.BUSY}   lock busy, or the wait timed out (see -E)`,
        `  ${EXIT.CANNOT_EXECUTE}  command not executable;  ${EXIT.NOT_FOUND}  command not found`,
        '  128+N  lockd-run stopped by signal N while waiting',
      ].join('\n'),
    ],
  ],
};

/** Parses lockd-run's command line; null when --help or --version was printed. Throws CliError on misuse. */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RunConfig | null {
  const { options: o, rest: command, printed } = parseCommandLine(COMMAND_LINE, argv);
  if (printed) return null;

  const exclusiveName = text(o.lock);
  const sharedName = text(o.shared);
  if (exclusiveName !== undefined && sharedName !== undefined) throw new CliError('give either --lock or --shared, not both');
  const lock = exclusiveName ?? sharedName;
  if (lock === undefined) throw new CliError('no lock given: use --lock NAME or --shared NAME');
  checkLockName(lock);
  const shared = sharedName !== undefined;
  const max = o.max === undefined ? undefined : wholeOption(o.max, '--max', 1, 999_999_999);
  if (max !== undefined && !shared) throw new CliError('--max goes with --shared');

  if (o.nonblock && o.wait !== undefined) throw new CliError('give either --nonblock or --wait, not both');
  const wait = o.wait === undefined ? 0 : o.wait === true ? Infinity : durationOption(o.wait, '--wait');

  const shellString = text(o.command);
  let cmd: string[];
  if (shellString !== undefined) {
    if (command.length > 0) throw new CliError('give either -c STRING or a command, not both');
    cmd = [env.SHELL || '/bin/sh', '-c', shellString];
  } else {
    if (command.length === 0) throw new CliError('no command given');
    if (command[0] === '') throw new CliError('the command is an empty word');
    cmd = command;
  }

  const connection = serverConfig(o, env);
  if (o.ttl !== undefined) {
    if (!connection.etcd) throw new CliError('--ttl is for etcd:// targets');
    const ttl = durationOption(o.ttl, '--ttl');
    if (ttl < 2000) throw new CliError('--ttl: at least 2s (etcd counts leases in whole seconds)');
    connection.etcd.ttl = Math.round(ttl / 1000);
  }
  const onLost = text(o.onLost) ?? 'term';
  if (onLost !== 'term' && onLost !== 'ignore') throw new CliError(`--on-lost: "${onLost}" is not term or ignore`);
  if (o.verbose && o.quiet) throw new CliError('give either --verbose or --quiet, not both');

  const label = shellString !== undefined ? 'sh' : basename(cmd[0]);
  return {
    lock,
    shared,
    max,
    wait,
    ...connection,
    conflictExitCode: o.conflictExitCode === undefined ? EXIT.BUSY : wholeOption(o.conflictExitCode, '--conflict-exit-code', 0, 255),
    name: text(o.name) ?? `${hostname()}:${process.pid}:${label}`,
    verbose: !!o.verbose,
    quiet: !!o.quiet,
    killAfter: o.killAfter === undefined ? 10_000 : durationOption(o.killAfter, '--kill-after'),
    onLost,
    pingInterval: o.pingInterval === undefined ? 5_000 : Math.max(10, durationOption(o.pingInterval, '--ping-interval')),
    command: cmd,
  };
}
