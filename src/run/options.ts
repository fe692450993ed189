import { hostname } from 'node:os';
import { basename } from 'node:path';
import { parseCommandLine, type CommandLineSpec } from '../util/command-line.js';
import { parseDuration } from '../util/duration.js';
import { durationOption, wholeOption } from '../util/option-values.js';
import { parseEndpoint, type Endpoint } from '../util/address.js';
import { CliError } from '../util/cli-errors.js';
import { EXIT } from '../util/exit-codes.js';
import { VERSION } from '../version.js';
import { readToken, readPem } from '../util/secret-files.js';
import type { ClientOptions } from '../client/client.js';
import { brief } from '../util/brief.js';
import { DEFAULT_MAX_NAME } from '../protocol/limits.js';

export const DEFAULT_SERVER = '127.0.0.1:9999';

export interface RunConfig {
  lock: string;
  shared: boolean;
  /** Shared only: most holders at once (undefined: no maximum). */
  max: number | undefined;
  /** ms to wait for the lock: 0 tries once, Infinity waits for ever. */
  wait: number;
  server: string;
  endpoint: Endpoint;
  authToken: string | undefined;
  tls: ClientOptions['tls'];
  connectTimeout: number;
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
      description: 'Wait for the lock, for ever or up to DURATION (500ms, 30s, 2m, 1h, 1.5); the next word is taken as DURATION only if it is one',
      isValue: (word) => parseDuration(word) !== null,
    },
    { flags: '-S, --server <address>', description: `HOST:PORT, [IPv6]:PORT, PORT, unix:PATH or a PATH with a / (env LOCKD_SERVER; default ${DEFAULT_SERVER})` },
    { flags: '--auth-token-file <path>', description: 'Send the token in the first line of this file to the server (env LOCKD_AUTH_TOKEN)' },
    { flags: '--tls', description: "Speak TLS to the server, verified against Node's built-in CA list (also: -S lockds://HOST:PORT)" },
    { flags: '--tls-ca <path>', description: 'Verify the server against this CA (PEM) instead of the built-in list; implies --tls' },
    { flags: '--tls-cert <path>', description: 'Client certificate (PEM) for a server that requires one; implies --tls' },
    { flags: '--tls-key <path>', description: 'The private key of --tls-cert (PEM)' },
    { flags: '--connect-timeout <duration>', description: 'Give up connecting after DURATION (default 10s)' },
    { flags: '-E, --conflict-exit-code <n>', description: `Exit status when busy or timed out (default ${EXIT.BUSY})` },
    { flags: '--name <label>', description: 'Name shown in dumps for this holder (default host:pid:command)' },
    { flags: '--kill-after <duration>', description: 'Send KILL this long after TERM if the command is still alive (default 10s)' },
    { flags: '--on-lost <action>', description: 'When the lock is lost while the command runs: term or ignore (default term)' },
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
        `  ${EXIT.NOPERM}   the server refused our auth token;  ${EXIT.CONFIG}  unreadable auth token file`,
        `  ${EXIT.LOST}   lock lost while the command ran (with --on-lost term, whatever the command returned)`,
        `  ${EXIT.BUSY}   lock busy, or the wait timed out (see -E)`,
        `  ${EXIT.CANNOT_EXECUTE}  command not executable;  ${EXIT.NOT_FOUND}  command not found`,
        '  128+N  lockd-run stopped by signal N while waiting',
      ].join('\n'),
    ],
  ],
};

/** The value of an option that takes one (never `true`: the parser makes sure), for the type checker. */
const text = (value: string | true | undefined): string | undefined => (value === true ? undefined : value);

function tlsOptions(o: Record<string, string | true>): RunConfig['tls'] {
  const file = (option: string, path: string | undefined) => (path === undefined ? undefined : readPem(path, option));
  const ca = file('--tls-ca', text(o.tlsCa));
  const cert = file('--tls-cert', text(o.tlsCert));
  const key = file('--tls-key', text(o.tlsKey));
  if ((cert === undefined) !== (key === undefined)) throw new CliError('a client certificate needs both --tls-cert and --tls-key');
  if (ca === undefined && cert === undefined) return o.tls ? true : undefined;
  return { ca, cert, key };
}

/**
 * Names a server would not keep as given are usage errors: an empty one (an
 * unset "$JOB" would share one lock with every such script), one the servers
 * would trim (and so merge with another), one over a server's limit.
 */
function checkLockName(lock: string): void {
  if (lock === '') throw new CliError('the lock name is empty');
  if (/[\r\n]/.test(lock)) throw new CliError('a lock name cannot contain a line break');
  if (/^\s|\s$/.test(lock)) throw new CliError(`the lock name "${brief(lock)}" begins or ends with white space, which servers drop`);
  const bytes = Buffer.byteLength(lock, 'utf8');
  if (bytes > DEFAULT_MAX_NAME) {
    throw new CliError(`the lock name is ${bytes} bytes long; servers take at most ${DEFAULT_MAX_NAME}`);
  }
}

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

  const server = text(o.server) ?? env.LOCKD_SERVER ?? DEFAULT_SERVER;
  let endpoint: Endpoint;
  try {
    endpoint = parseEndpoint(server);
  } catch (err) {
    throw new CliError(`--server: ${(err as Error).message}`);
  }

  if ('path' in endpoint && (o.tls || o.tlsCa || o.tlsCert)) throw new CliError('TLS is for TCP servers, not unix:PATH');

  const onLost = text(o.onLost) ?? 'term';
  if (onLost !== 'term' && onLost !== 'ignore') throw new CliError(`--on-lost: "${onLost}" is not term or ignore`);
  if (o.verbose && o.quiet) throw new CliError('give either --verbose or --quiet, not both');

  const label = shellString !== undefined ? 'sh' : basename(cmd[0]);
  return {
    lock,
    shared,
    max,
    wait,
    server,
    endpoint,
    tls: tlsOptions(o),
    authToken: o.authTokenFile !== undefined ? readToken(text(o.authTokenFile)!) : env.LOCKD_AUTH_TOKEN || undefined,
    connectTimeout: o.connectTimeout === undefined ? 10_000 : durationOption(o.connectTimeout, '--connect-timeout'),
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
