import { EXIT } from './exit-codes.js';

/** A failure to report as one line on stderr and an exit status, never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
  ) {
    super(message);
  }
}

/**
 * Runs a CLI's main function: a CliError becomes "PROGRAM: message" and its
 * status; anything else is a bug, shown in full, and exit status 70.
 */
export function runMain(program: string, main: () => Promise<number | void>): void {
  // A dependency's deprecation warning (gRPC names an IP address as the TLS
  // server name, for one) means nothing to the command's user, and would
  // break the promise of one line on stderr.
  process.noDeprecation = true;
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: Error) => {
      const known = err instanceof CliError;
      process.stderr.write(known ? `${program}: ${err.message}\n` : `${program}: internal error: ${err?.stack ?? err}\n`);
      // Exit now: whatever is still open (lockd-run's connection, and its lock) must not keep us alive.
      // (stderr is written synchronously to files, pipes and terminals on Linux.)
      process.exit(known ? err.exitCode : EXIT.SOFTWARE);
    },
  );
}
