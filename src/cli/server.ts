import fs from 'node:fs';
import tls from 'node:tls';
import { parseCommandLine, type CommandLineSpec } from '../util/command-line.js';
import { listen, DEFAULT_PORT, DEFAULT_LIMITS, DEFAULT_RECLAIM_GRACE, MAX_RECLAIM_GRACE, StateDirError, type ListenOptions, type Limits } from '../server/listen.js';
import { durationOption, sizeOption, wholeOption } from '../util/option-values.js';
import { readToken, readPem } from '../util/secret-files.js';
import { parseEndpoint, describeEndpoint } from '../util/address.js';
import { GLOCKD_READ_SIZE } from '../protocol/old-servers.js';
import { connectionsAllowed, openFileLimit } from '../server/fd-limit.js';
import { CliError, runMain } from '../util/cli-errors.js';
import { formatDuration } from '../util/duration.js';
import { EXIT } from '../util/exit-codes.js';
import { VERSION } from '../version.js';

const COMMAND_LINE: CommandLineSpec = {
  program: 'lockd-server',
  version: VERSION,
  usage: '[options]\n\nA network lock server: locks live exactly as long as the connection that took them.',
  options: [
    { flags: '-t, --tcp <[host:]port>', description: `Listen on TCP (default: port ${DEFAULT_PORT} on all interfaces; 0 picks a free port)` },
    { flags: '--unix <path>', description: 'Listen on a Unix socket (alone: no TCP unless --tcp is also given)' },
    { flags: '--disable-dump', description: 'Answer "0 disabled" to d, sd, dump, who, locks and clients' },
    { flags: '--disable-registry', description: 'Answer "0 disabled" to iam and who' },
    { flags: '-p, --pid-file <path>', description: 'Write the process id to this file, removed on exit' },
    { flags: '--auth-token-file <path>', description: 'Require clients to send `auth TOKEN` first, TOKEN being the first line of this file' },
    { flags: '--tls-cert <path>', description: 'Speak TLS on the TCP listener with this certificate (PEM; needs --tls-key)' },
    { flags: '--tls-key <path>', description: 'The private key of --tls-cert (PEM)' },
    { flags: '--tls-ca <path>', description: 'With TLS: require client certificates signed by this CA (PEM)' },
    { flags: '--max-connections <n>', description: `Most connections at once (default: ${DEFAULT_LIMITS.maxConnections})` },
    { flags: '--max-connections-per-address <n>', description: `Most connections at once from one client address (default: ${DEFAULT_LIMITS.maxConnectionsPerAddress})` },
    { flags: '--max-locks-per-connection <n>', description: `Most locks one connection may hold (default: ${DEFAULT_LIMITS.maxLocksPerConnection})` },
    { flags: '--max-memory <size>', description: `Refuse new locks, waits and names past this many bytes kept for clients; K, M, G suffixes (default: 128M)` },
    { flags: '--max-name <bytes>', description: `Refuse lock and client names longer than this (default: ${DEFAULT_LIMITS.maxName})` },
    { flags: '--max-line <bytes>', description: `Close a connection that sends a longer request line (default: ${DEFAULT_LIMITS.maxLine})` },
    { flags: '--line-timeout <duration>', description: `Close a connection whose request line takes longer to arrive (default: ${DEFAULT_LIMITS.lineTimeout / 1000}s)` },
    { flags: '--write-timeout <duration>', description: `Close a connection that leaves its replies unread this long (default: ${DEFAULT_LIMITS.writeTimeout / 1000}s)` },
    { flags: '--keepalive <duration>', description: `Idle time before TCP keepalive probes a client (default: ${DEFAULT_LIMITS.keepAlive / 1000}s; then 10 probes 1s apart)` },
    { flags: '--state-dir <path>', description: 'Keep the held locks here across a planned restart (SIGTERM, SIGINT) for their holders to reclaim (env STATE_DIRECTORY, which systemd sets; default: none)' },
    { flags: '--reclaim-grace <duration>', description: `How long, from a planned shutdown, the locks kept wait for their holders to reclaim them (default: ${DEFAULT_RECLAIM_GRACE / 1000}s)` },
    { flags: '--metrics <host:port>', description: 'Serve Prometheus metrics at http://HOST:PORT/metrics and a health check at /healthz (default: off)' },
    { flags: '-v, --verbose', description: 'Log connections, grants, waits, releases, orphans and unknown commands to stdout' },
  ],
};

/** Log lines carry an ISO-8601 timestamp, unless they go to the systemd journal, which stamps them itself. */
const stamp = process.env.JOURNAL_STREAM ? (line: string) => line : (line: string) => `${new Date().toISOString()} ${line}`;
/** Events (start-up, shutdown, and with --verbose every connection and grant), to stdout. */
const logEvent = (message: string) => process.stdout.write(`${stamp(message)}\n`);
/** Warnings (clients cut off or refused, risky settings), to stderr. */
const logWarning = (message: string) => process.stderr.write(`${stamp(`lockd-server: ${message}`)}\n`);

async function main(): Promise<number | void> {
  const { options: opts, printed } = parseCommandLine(COMMAND_LINE, process.argv.slice(2));
  if (printed) return;
  const listenOptions: ListenOptions = {
    disableDump: !!opts.disableDump,
    disableRegistry: !!opts.disableRegistry,
    log: opts.verbose ? logEvent : undefined,
    warn: logWarning,
  };
  if (opts.tcp !== undefined) {
    const e = hostPortOption(opts.tcp, '--tcp', '--tcp takes [host:]port; use --unix for a socket path, --tls-cert and --tls-key for TLS');
    listenOptions.port = e.port;
    if (e.host !== '') listenOptions.host = e.host;
  }
  if (opts.unix !== undefined) listenOptions.unix = String(opts.unix);
  if (opts.metrics !== undefined) {
    const e = hostPortOption(opts.metrics, '--metrics', '--metrics takes HOST:PORT, such as 127.0.0.1:9100');
    // Only where it is told: a host must be given, not all interfaces by default.
    if (e.host === '') throw new CliError('--metrics takes HOST:PORT, such as 127.0.0.1:9100');
    listenOptions.metrics = { host: e.host, port: e.port };
  }
  const limits: Partial<Limits> = {};
  // At most 1 MiB: clients take reply lines of up to 4 MiB (MAX_REPLY_LINE), and a dump line holds a name and a holder's.
  if (opts.maxLine !== undefined) limits.maxLine = wholeOption(opts.maxLine, '--max-line', GLOCKD_READ_SIZE, 1024 * 1024);
  if (opts.maxMemory !== undefined) limits.maxMemory = sizeOption(opts.maxMemory, '--max-memory', 1024 * 1024);
  if (opts.maxName !== undefined) limits.maxName = wholeOption(opts.maxName, '--max-name', 1, 1024 * 1024);
  if (opts.maxConnections !== undefined) limits.maxConnections = wholeOption(opts.maxConnections, '--max-connections', 1);
  if (opts.maxConnectionsPerAddress !== undefined) {
    limits.maxConnectionsPerAddress = wholeOption(opts.maxConnectionsPerAddress, '--max-connections-per-address', 1);
  }
  if (opts.maxLocksPerConnection !== undefined) {
    limits.maxLocksPerConnection = wholeOption(opts.maxLocksPerConnection, '--max-locks-per-connection', 1);
  }
  if (opts.lineTimeout !== undefined) limits.lineTimeout = durationOption(opts.lineTimeout, '--line-timeout', { allowZero: false });
  if (opts.writeTimeout !== undefined) limits.writeTimeout = durationOption(opts.writeTimeout, '--write-timeout', { allowZero: false });
  if (opts.keepalive !== undefined) limits.keepAlive = Math.max(1000, durationOption(opts.keepalive, '--keepalive', { allowZero: false }));
  // As Redis does: a connection limit the open-file limit cannot honour is
  // lowered to what it can, and said so, rather than connections reset.
  const wanted = limits.maxConnections ?? DEFAULT_LIMITS.maxConnections;
  const fileLimit = openFileLimit();
  const allowed = connectionsAllowed(wanted, fileLimit);
  if (allowed < wanted) {
    logWarning(`the open-file limit is ${fileLimit}: enforcing --max-connections ${allowed} instead of ${wanted} (raise it with ulimit -n, or LimitNOFILE= under systemd)`);
    limits.maxConnections = allowed;
  }
  listenOptions.limits = limits;
  // systemd's StateDirectory= sets STATE_DIRECTORY (several paths are separated by colons: the first is ours).
  const stateDir = opts.stateDir !== undefined ? String(opts.stateDir) : process.env.STATE_DIRECTORY?.split(':')[0] || undefined;
  if (stateDir !== undefined) listenOptions.stateDir = stateDir;
  if (opts.reclaimGrace !== undefined) {
    if (stateDir === undefined) throw new CliError('--reclaim-grace goes with --state-dir');
    listenOptions.reclaimGrace = durationOption(opts.reclaimGrace, '--reclaim-grace', { max: MAX_RECLAIM_GRACE });
  }
  if (opts.authTokenFile !== undefined) listenOptions.authToken = readToken(String(opts.authTokenFile));
  if (opts.tlsCert !== undefined || opts.tlsKey !== undefined || opts.tlsCa !== undefined) {
    if (opts.tlsCert === undefined || opts.tlsKey === undefined) throw new CliError('TLS needs both --tls-cert and --tls-key');
    if (opts.tcp === undefined && opts.unix !== undefined) throw new CliError('TLS is for the TCP listener: give --tcp too (Unix sockets stay plain)');
    listenOptions.tls = {
      cert: readPem(String(opts.tlsCert), '--tls-cert'),
      key: readPem(String(opts.tlsKey), '--tls-key'),
      ca: opts.tlsCa === undefined ? undefined : readPem(String(opts.tlsCa), '--tls-ca'),
    };
    try {
      tls.createSecureContext(listenOptions.tls);
    } catch (err) {
      throw new CliError(`TLS certificate, key or CA unusable: ${(err as Error).message.split('\n')[0]}`, EXIT.CONFIG);
    }
  }

  let server;
  try {
    server = await listen(listenOptions);
  } catch (err) {
    if (err instanceof StateDirError) throw new CliError(err.message, EXIT.OSERR);
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    const where = e.port !== undefined ? describeEndpoint({ host: e.address ?? '*', port: e.port }) : e.address;
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new CliError(`cannot listen${where ? ` on ${where}` : ''}: ${why}`, EXIT.OSERR);
  }

  const pidFile = opts.pidFile === undefined ? null : String(opts.pidFile);
  if (pidFile) {
    try {
      fs.writeFileSync(pidFile, `${process.pid}\n`);
    } catch (err) {
      // Handed over again, not dropped: the locks kept from a restart stay kept for the next start.
      await server.shutdown();
      throw new CliError(`cannot write pid file ${pidFile}: ${(err as Error).message}`, EXIT.OSERR);
    }
  }
  if (server.tcp && !listenOptions.authToken && !listenOptions.tls?.ca && !isLoopback(server.tcp.host)) {
    logWarning(
      `WARNING: listening on ${describeEndpoint(server.tcp)} beyond loopback with no --auth-token-file or --tls-ca: anyone who can reach this port can take and hold any lock`,
    );
  }
  // Ready for a signal before saying so: whoever waits for the start-up line may send one at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logEvent(`${signal}: shutting down, closing ${server.connections} connection(s)`);
      resolve();
    };
    // Handlers stay: a second signal must not kill the server while it hands the locks over (that is bounded anyway).
    let stopping = false;
    const once = (signal: string) => {
      if (!stopping) stop(signal);
      stopping = true;
    };
    process.on('SIGINT', once);
    process.on('SIGTERM', once);
  });
  // Always, so that a port chosen with 0 is known.
  const where = [server.tcp && describeEndpoint({ ...server.tcp, tls: !!listenOptions.tls }), server.unix && `unix:${server.unix}`].filter(Boolean);
  const metrics = server.metrics ? `; metrics on http://${describeEndpoint(server.metrics)}/metrics` : '';
  const reserved = server.reserved > 0 ? `; ${server.reserved} lock(s) kept from the planned restart for ${formatDuration(Math.ceil((server.reservedUntil - Date.now()) / 1000) * 1000)} more` : '';
  logEvent(`lockd-server ${VERSION} listening on ${where.join(' and ')}${metrics}${reserved}`);
  await stopped;
  const done = await server.shutdown();
  if (done.failed !== null) logWarning(`cannot write the state file in ${stateDir}: ${done.failed}; the locks held are not kept`);
  else if (stateDir !== undefined) logEvent(`kept ${done.locks} lock(s) of ${done.told} connection(s) in ${stateDir} for reclaim`);
  if (pidFile) fs.rmSync(pidFile, { force: true });
  return EXIT.OK;
}

/** A [host:]port option's value (host '' when only a port is given); no socket path, no lockds://. */
function hostPortOption(value: string | true, option: string, usage: string): { host: string; port: number } {
  let e;
  try {
    e = parseEndpoint(String(value), '');
  } catch (err) {
    throw new CliError(`${option}: ${(err as Error).message}`);
  }
  if ('path' in e || e.tls) throw new CliError(usage);
  return { host: e.host, port: e.port };
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === 'localhost' || host === '::ffff:127.0.0.1';
}

runMain('lockd-server', main);
