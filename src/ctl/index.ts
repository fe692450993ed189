import { Client } from '../client/client.js';
import { LockdError } from '../client/errors.js';
import { CliError } from '../util/cli-errors.js';
import { EXIT } from '../util/exit-codes.js';
import { formatDuration } from '../util/duration.js';
import { connectionFailure, etcdFailure } from '../util/server-options.js';
import type { CtlConfig } from './options.js';
import { findLock, HoldersUnknown, listClients, listLocks, serverStats, showLock, type Listing, type LockView } from './view.js';
import { cell, clientsTable, lockDetail, locksTable, statsTable } from './format.js';
import { connectEtcd } from '../etcd/connect.js';
import { etcdLocks } from './etcd-view.js';
import { timeBound } from '../util/time-bound.js';

export { parseCtlArgs, type CtlConfig } from './options.js';

/** check's status when the lock is held. */
const HELD = 1;

/** Runs one lockd-ctl command, writing to stdout; resolves to the exit status. Throws CliError. */
export async function lockdCtl(cfg: CtlConfig, write = (text: string) => void process.stdout.write(text)): Promise<number> {
  if (cfg.etcd) return etcdCtl(cfg, write);
  // A wedged server must not hang a monitoring script: every request is bounded too.
  const client = new Client(cfg.endpoint, { connect: cfg.connectTimeout, request: cfg.connectTimeout, authToken: cfg.authToken, tls: cfg.tls });
  client.on('error', () => {}); // each call reports its own failure
  try {
    return await run(cfg, client, write);
  } catch (err) {
    throw failure(err as Error, cfg, client);
  } finally {
    client.destroy();
  }
}

async function run(cfg: CtlConfig, client: Client, write: (text: string) => void): Promise<number> {
  const json = (value: unknown) => write(`${JSON.stringify(value, null, 2)}\n`);
  switch (cfg.command) {
    case 'list':
    case 'show':
      return listOrShow(cfg, (prefix) => listLocks(client, prefix), write);
    case 'check':
      return check(cfg, client, write);
    case 'clients': {
      const { records, omitted } = await listClients(client);
      if (cfg.json) json(records);
      else write(clientsTable(records));
      warnOmitted(omitted, 'connections');
      return EXIT.OK;
    }
    case 'stats': {
      const stats = await serverStats(client);
      if (cfg.json) json(stats);
      else write(statsTable(stats));
      return EXIT.OK;
    }
  }
}

/** list and show, from whichever listing the target gives. */
async function listOrShow(cfg: CtlConfig, list: (prefix: string) => Promise<Listing<LockView>>, write: (text: string) => void): Promise<number> {
  const json = (value: unknown) => write(`${JSON.stringify(value, null, 2)}\n`);
  const { records, omitted } = await list(cfg.name);
  if (cfg.command === 'list') {
    if (cfg.json) json(records);
    else write(locksTable(records));
    warnOmitted(omitted, 'locks');
    return EXIT.OK;
  }
  const lock = findLock(records, cfg.name, cfg.shared);
  if (cfg.json) json(lock);
  else write(lock ? lockDetail(lock) : `${what(cfg)} is free\n`);
  return EXIT.OK;
}

/** list, show and check on an etcd cluster, read from the contenders' keys. */
async function etcdCtl(cfg: CtlConfig, write: (text: string) => void): Promise<number> {
  const etcd = cfg.etcd!;
  const locks = await connectEtcd(etcd, { user: etcd.user, password: etcd.password, connect: cfg.connectTimeout, tls: cfg.tls as never });
  const list = (prefix: string) => timeBound(etcdLocks(locks, prefix), cfg.connectTimeout, `no answer within ${formatDuration(cfg.connectTimeout)}`);
  try {
    if (cfg.command !== 'check') return await listOrShow(cfg, list, write);
    const lock = findLock((await list(cfg.name)).records, cfg.name, cfg.shared);
    if (!lock) return EXIT.OK;
    if (!cfg.quiet) write(heldBy(cfg, lock));
    return HELD;
  } catch (err) {
    throw etcdFailure(err as Error, cfg);
  } finally {
    await locks.disconnect();
  }
}

/** Asks `i` or `si`, which every server answers; names the holders when the server can. */
async function check(cfg: CtlConfig, client: Client, write: (text: string) => void): Promise<number> {
  const held = (cfg.shared ? await client.inspectShared(cfg.name) : await client.inspect(cfg.name)) > 0;
  if (!held) return EXIT.OK;
  if (cfg.quiet) return HELD;
  let lock: LockView | null = null;
  try {
    lock = await showLock(client, cfg.name, cfg.shared);
  } catch (err) {
    // Dump or registry off: held, by someone it will not say.
    if (!(err instanceof HoldersUnknown) && (err as LockdError).code !== 'EDISABLED') throw err;
  }
  write(heldBy(cfg, lock));
  return HELD;
}

/** check's line for a held lock: by whom, and for how long, as far as the target knows. */
function heldBy(cfg: CtlConfig, lock: LockView | null): string {
  const by = lock?.holders.map((h) => `${cell(h.name)}${h.age === null ? '' : ` for ${formatDuration(h.age)}`}`).join(', ');
  return `${what(cfg)} is held${by ? ` by ${by}` : ''}\n`;
}

/** The server cuts a reply at 4 MiB: say so, on stderr, so that stdout stays what a script parses. */
function warnOmitted(omitted: number, what: string): void {
  if (omitted > 0) process.stderr.write(`lockd-ctl: ${omitted} more ${what} not shown: the server's reply stops at 4 MiB (give a PREFIX)\n`);
}

function what(cfg: CtlConfig): string {
  return `${cfg.shared ? 'shared lock' : 'lock'} "${cell(cfg.name)}"`;
}

function failure(err: Error, cfg: CtlConfig, client: Client): Error {
  if (err instanceof CliError) return err;
  if (err instanceof HoldersUnknown) {
    return new CliError(`the server at ${cfg.server} has its registry off: an old server cannot show holders then`, EXIT.UNAVAILABLE);
  }
  if (!(err instanceof LockdError)) return err; // a bug: shown in full
  const unreachable = connectionFailure(err, cfg, client.serverInfo !== null);
  if (unreachable) return unreachable;
  switch (err.code) {
    case 'EDISABLED':
      return new CliError(`the server at ${cfg.server} has its dump feature off: it shows no holders`, EXIT.UNAVAILABLE);
    case 'ECONNCLOSED':
      return new CliError(`the lock server at ${cfg.server} closed the connection`, EXIT.UNAVAILABLE);
    case 'EINVAL':
      return new CliError(err.message);
    case 'ETIMEDOUT':
      return new CliError(`the lock server at ${cfg.server} did not answer: ${err.message}`, EXIT.UNAVAILABLE);
    default:
      // The server said something we cannot use (EPROTOCOL, say): one line, not a stack trace.
      return new CliError(`the lock server at ${cfg.server}: ${err.message}`, EXIT.UNAVAILABLE);
  }
}
