import { signalNumbers } from '../util/os-calls.js';

/** Signals forwarded to the command while it runs. */
export const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/** Forwarded to the command's whole process group, as a terminal sends them. */
export const GROUP_SIGNALS: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * When the command shares our terminal (and so our process group), the
 * terminal already sends it these; forwarding them too would deliver twice.
 */
export const TERMINAL_GENERATED: readonly string[] = ['SIGINT', 'SIGQUIT', 'SIGWINCH'];

export function signalNumber(signal: string): number {
  return signalNumbers()[signal] ?? 0;
}
