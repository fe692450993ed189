import { constants } from 'node:os';

/** Signals forwarded to the command while it runs. */
export const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/**
 * Forwarded to the command's whole process group, as a terminal sends them.
 * (TERM goes to the command, and what it leaves in its group is reaped after:
 * see supervise.ts.)
 */
export const GROUP_SIGNALS: readonly string[] = ['SIGINT', 'SIGHUP', 'SIGQUIT'];

/**
 * When the command shares our terminal (and so our process group), the
 * terminal already sends it these; forwarding them too would deliver twice.
 */
export const TERMINAL_GENERATED: readonly string[] = ['SIGINT', 'SIGQUIT', 'SIGWINCH'];

export function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
