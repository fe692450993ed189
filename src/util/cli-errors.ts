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
 * Runs a CLI's main function: a CliError becomes
 * "PROGRAM: message" and its status; anything else is a bug, shown in full.
 */
export function runMain(program: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: Error) => {
      if (err instanceof CliError) {
        process.stderr.write(`${program}: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`${program}: internal error: ${err?.stack ?? err}\n`);
        process.exitCode = EXIT.SOFTWARE;
      }
    },
  );
}
