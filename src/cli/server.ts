import fs from 'node:fs';
import { cac } from 'cac';
import { listen, DEFAULT_PORT, DEFAULT_LIMITS, type ListenOptions } from '../server/listen.js';
import { parseEndpoint, describeEndpoint } from '../util/address.js';
import { CliError, runMain } from '../util/cli-errors.js';
import { EXIT } from '../util/exit-codes.js';
import { VERSION } from '../version.js';

function parseArgs(argv: string[]) {
  const cli = cac('lockd-server');
  cli
    .usage('[options]\n\nA network lock server: locks live exactly as long as the connection that took them.')
    .option('-t, --tcp <[host:]port>', `Listen on TCP (default: port ${DEFAULT_PORT} on all interfaces; 0 picks a free port)`)
    .option('--unix <path>', 'Listen on a Unix socket (alone: no TCP unless --tcp is also given)')
    .option('--disable-dump', 'Answer "0 disabled" to d, sd, dump and who')
    .option('--disable-registry', 'Answer "0 disabled" to iam and who')
    .option('-p, --pid-file <path>', 'Write the process id to this file, removed on exit')
    .option('--max-line <bytes>', `Close a connection that sends a longer request line (default: ${DEFAULT_LIMITS.maxLine})`)
    .option('-v, --verbose', 'Log connections, grants, waits, releases, orphans and unknown commands to stdout');
  cli.help();
  cli.version(VERSION, '--version');
  const parsed = cli.parse(['node', 'lockd-server', ...argv], { run: false });
  if (parsed.options.help || parsed.options.version) return null;
  cli.globalCommand.checkUnknownOptions();
  cli.globalCommand.checkOptionValue();
  if (parsed.args.length > 0) throw new CliError(`unexpected argument "${parsed.args[0]}"; Try 'lockd-server --help'.`);
  return parsed.options;
}

async function main(): Promise<number | void> {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts) return;
  const listenOptions: ListenOptions = {
    disableDump: !!opts.disableDump,
    disableRegistry: !!opts.disableRegistry,
    log: opts.verbose ? (msg) => process.stdout.write(`${msg}\n`) : undefined,
  };
  if (opts.tcp !== undefined) {
    let e;
    try {
      e = parseEndpoint(String(opts.tcp), '');
    } catch (err) {
      throw new CliError(`--tcp: ${(err as Error).message}`);
    }
    if ('path' in e) throw new CliError('--tcp takes [host:]port; use --unix for a socket path');
    listenOptions.port = e.port;
    if (e.host !== '') listenOptions.host = e.host;
  }
  if (opts.unix !== undefined) listenOptions.unix = String(opts.unix);
  if (opts.maxLine !== undefined) {
    const n = Number(opts.maxLine);
    if (!Number.isInteger(n) || n < 16) throw new CliError('--max-line takes a whole number of bytes, at least 16');
    listenOptions.limits = { maxLine: n };
  }

  let server;
  try {
    server = await listen(listenOptions);
  } catch (err) {
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
      await server.destroy();
      throw new CliError(`cannot write pid file ${pidFile}: ${(err as Error).message}`, EXIT.OSERR);
    }
  }
  if (opts.verbose) {
    const where = [server.tcp && describeEndpoint(server.tcp), server.unix && `unix:${server.unix}`].filter(Boolean);
    process.stdout.write(`lockd-server ${VERSION} listening on ${where.join(' and ')}\n`);
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (opts.verbose) process.stdout.write(`${signal}: shutting down\n`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.destroy();
  if (pidFile) fs.rmSync(pidFile, { force: true });
  return EXIT.OK;
}

runMain('lockd-server', main);
