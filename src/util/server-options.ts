import { parseEndpoint, type Endpoint } from './address.js';
import { CliError } from './cli-errors.js';
import { EXIT } from './exit-codes.js';
import { formatDuration } from './duration.js';
import { brief } from './brief.js';
import { durationOption } from './option-values.js';
import { readPem, readToken } from './secret-files.js';
import type { OptionSpec } from './command-line.js';
import type { ClientOptions } from '../client/client.js';
import type { LockdError } from '../client/errors.js';
import { MAX_AUTH_TOKEN } from '../protocol/old-servers.js';
import { DEFAULT_ETCD_PREFIX, isEtcdTarget, parseEtcdTarget, type EtcdTarget } from '../etcd/target.js';

// How lockd-run and lockd-ctl reach the server: one table of options, one
// reading of them, one wording of the failures.

export const DEFAULT_SERVER = '127.0.0.1:9999';

export const SERVER_OPTIONS: OptionSpec[] = [
  { flags: '-S, --server <address>', description: `HOST:PORT, [IPv6]:PORT, PORT, unix:PATH or a PATH with a / (env LOCKD_SERVER; default ${DEFAULT_SERVER})` },
  { flags: '--auth-token-file <path>', description: 'Send the token in the first line of this file to the server (env LOCKD_AUTH_TOKEN)' },
  { flags: '--tls', description: "Speak TLS to the server, verified against Node's built-in CA list (also: -S lockds://HOST:PORT)" },
  { flags: '--tls-ca <path>', description: 'Verify the server against this CA (PEM) instead of the built-in list; implies --tls' },
  { flags: '--tls-cert <path>', description: 'Client certificate (PEM) for a server that requires one; implies --tls' },
  { flags: '--tls-key <path>', description: 'The private key of --tls-cert (PEM)' },
  { flags: '--connect-timeout <duration>', description: 'Give up connecting after DURATION (default 10s)' },
];

/** lockd-run's, for -S etcd://HOST:PORT[,HOST:PORT...] (etcds:// for TLS). */
export const ETCD_OPTIONS: OptionSpec[] = [
  { flags: '--etcd-user <name>', description: 'etcd targets: the user to authenticate as (env LOCKD_ETCD_USER)' },
  { flags: '--etcd-password-file <path>', description: 'etcd targets: its password, the first line of this file (env LOCKD_ETCD_PASSWORD)' },
  { flags: '--etcd-prefix <prefix>', description: `etcd targets: the prefix of every key (default ${DEFAULT_ETCD_PREFIX})` },
];

export interface ServerConfig {
  /** As given, for messages. */
  server: string;
  /** For an etcd:// target: the cluster, its credentials; endpoint is then unused. */
  etcd: (EtcdTarget & { user?: string; password?: string }) | null;
  endpoint: Endpoint;
  authToken: string | undefined;
  tls: ClientOptions['tls'];
  connectTimeout: number;
}

/** The value of an option that takes one (never `true`: the parser makes sure), for the type checker. */
export const text = (value: string | true | undefined): string | undefined => (value === true ? undefined : value);

/** Reads SERVER_OPTIONS (and LOCKD_SERVER, LOCKD_AUTH_TOKEN). Throws CliError on misuse. */
export function serverConfig(o: Record<string, string | true>, env: NodeJS.ProcessEnv): ServerConfig {
  const server = text(o.server) ?? env.LOCKD_SERVER ?? DEFAULT_SERVER;
  const connectTimeout = o.connectTimeout === undefined ? 10_000 : durationOption(o.connectTimeout, '--connect-timeout');
  if (isEtcdTarget(server)) return { ...etcdConfig(server, o, env), connectTimeout };
  if (o.etcdUser || o.etcdPasswordFile || o.etcdPrefix) throw new CliError('--etcd-user, --etcd-password-file and --etcd-prefix are for etcd:// targets');
  let endpoint: Endpoint;
  try {
    endpoint = parseEndpoint(server);
  } catch (err) {
    throw new CliError(`--server: ${(err as Error).message}`);
  }
  if ('path' in endpoint && (o.tls || o.tlsCa || o.tlsCert)) throw new CliError('TLS is for TCP servers, not unix:PATH');
  return {
    server,
    etcd: null,
    endpoint,
    tls: tlsOptions(o),
    authToken: o.authTokenFile !== undefined ? readToken(text(o.authTokenFile)!) : envToken(env.LOCKD_AUTH_TOKEN),
    connectTimeout,
  };
}

/** LOCKD_AUTH_TOKEN, held to the rules of a token file's. */
function envToken(token: string | undefined): string | undefined {
  if (!token) return undefined;
  if (/[\r\n]/.test(token)) throw new CliError('LOCKD_AUTH_TOKEN holds a line break', EXIT.CONFIG);
  if (Buffer.byteLength(token, 'utf8') > MAX_AUTH_TOKEN) throw new CliError(`LOCKD_AUTH_TOKEN is longer than ${MAX_AUTH_TOKEN} bytes`, EXIT.CONFIG);
  return token;
}

/** An etcd:// or etcds:// target: the password from a file or the environment, never from argv. */
function etcdConfig(server: string, o: Record<string, string | true>, env: NodeJS.ProcessEnv): Omit<ServerConfig, 'connectTimeout'> {
  if (o.authTokenFile) throw new CliError('--auth-token-file is for lockd servers; etcd takes --etcd-user and --etcd-password-file');
  let target: EtcdTarget;
  try {
    target = parseEtcdTarget(server, text(o.etcdPrefix) ?? DEFAULT_ETCD_PREFIX);
  } catch (err) {
    throw new CliError(`--server: ${(err as Error).message}`);
  }
  const tls = target.tls ? tlsOptions(o) : undefined;
  if (!target.tls && (o.tls || o.tlsCa || o.tlsCert)) throw new CliError('TLS with etcd: use etcds://');
  const user = text(o.etcdUser) ?? (env.LOCKD_ETCD_USER || undefined);
  const password = o.etcdPasswordFile !== undefined
    ? readToken(text(o.etcdPasswordFile)!, 'etcd password')
    : env.LOCKD_ETCD_PASSWORD || undefined;
  if (password !== undefined && user === undefined) throw new CliError('an etcd password needs --etcd-user (or LOCKD_ETCD_USER)');
  return { server, etcd: { ...target, user, password }, endpoint: { path: '' }, tls, authToken: undefined };
}

function tlsOptions(o: Record<string, string | true>): ClientOptions['tls'] {
  const file = (option: string, path: string | undefined) => (path === undefined ? undefined : readPem(path, option));
  const ca = file('--tls-ca', text(o.tlsCa));
  const cert = file('--tls-cert', text(o.tlsCert));
  const key = file('--tls-key', text(o.tlsKey));
  if ((cert === undefined) !== (key === undefined)) throw new CliError('a client certificate needs both --tls-cert and --tls-key');
  if (ca === undefined && cert === undefined) return o.tls ? true : undefined;
  return { ca, cert, key };
}

/**
 * The CliError for a failure to reach or be let in by the server, or null
 * when the failure is of another kind. handshakeDone: whether the server
 * answered the handshake (before it, a protocol error means that something
 * other than a lock server listens there: the user's mistake, not a bug).
 */
export function connectionFailure(e: LockdError, cfg: ServerConfig, handshakeDone: boolean): CliError | null {
  switch (e.code) {
    case 'ECONNECT':
    case 'ETIMEDOUT': {
      const why = e.code === 'ETIMEDOUT' ? `no answer within ${formatDuration(cfg.connectTimeout)}` : reason(e);
      return new CliError(`cannot reach the lock server at ${cfg.server}: ${why}`, EXIT.UNAVAILABLE);
    }
    case 'EAUTH':
      return new CliError(`${e.message}${cfg.authToken === undefined ? ' (give --auth-token-file or LOCKD_AUTH_TOKEN)' : ''}`, EXIT.NOPERM);
    case 'EPROTOCOL':
      if (handshakeDone) return null;
      return new CliError(`cannot reach the lock server at ${cfg.server}: what answers there is not a lock server (${e.message})`, EXIT.UNAVAILABLE);
    default:
      return null;
  }
}

/** The CliError for an etcd cluster that cannot be reached, or that refuses us (EAUTH). */
export function etcdFailure(err: Error, cfg: ServerConfig): CliError {
  if (err instanceof CliError) return err;
  const e = err as LockdError;
  if (e.code === 'EAUTH') {
    return new CliError(`${e.message}${cfg.etcd?.user === undefined ? ' (give --etcd-user and --etcd-password-file, or LOCKD_ETCD_USER)' : ''}`, EXIT.NOPERM);
  }
  const why = e.code === 'ETIMEDOUT' ? `no answer within ${formatDuration(cfg.connectTimeout)}` : brief(String(err.message).split('\n')[0]);
  return new CliError(`cannot reach the etcd cluster at ${cfg.server}: ${why}`, EXIT.UNAVAILABLE);
}

function reason(err: LockdError): string {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ENOENT': return 'no such socket';
    case 'EACCES': return 'permission denied';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'unknown host';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    // OpenSSL's messages run over several lines: the first says it.
    default: return (cause?.message ?? err.message).split('\n')[0].trim();
  }
}
