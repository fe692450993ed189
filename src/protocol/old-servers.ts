// What a client must do to be understood by the old servers (docs/protocol.md,
// "Against an old server"). Pure string functions, no I/O.
import { lockInspect } from './replies.js';

/**
 * glockd reads each request with a fresh 4096-byte buffer and acts on the
 * first line of that read only: whatever else the read held is dropped.
 * Its reader never takes more than it has room for, though, so a line that
 * ends exactly at a multiple of this size is consumed alone, and the line
 * after it starts a read of its own.
 */
export const GLOCKD_READ_SIZE = 4096;

/** The longest auth token whose `auth` line fits one glockd read, so that the padded handshake stays in step. */
export const MAX_AUTH_TOKEN = GLOCKD_READ_SIZE - 'auth \n'.length;

/**
 * A request line (without '\n') padded with trailing spaces, which every
 * server trims, so that with its '\n' it fills whole glockd reads: another
 * line may then follow it in the same write. Length in UTF-8 bytes.
 */
export function padLine(line: string): string {
  const bytes = Buffer.byteLength(line, 'utf8') + 1;
  const size = Math.ceil(bytes / GLOCKD_READ_SIZE) * GLOCKD_READ_SIZE;
  return `${line}${' '.repeat(size - bytes)}\n`;
}

/**
 * A request that every server answers with one line, whatever its switches:
 * inspecting a lock nobody holds. (glockd with its registry off never
 * answers `me`.) It marks the end of the handshake, of a multi-line reply,
 * and proves liveness.
 */
export function probe(name: string): string {
  return `i ${name}\n`;
}

/** Whether a reply line (without '\r\n') is the answer to probe(name). */
export function isProbeReply(line: string, name: string): boolean {
  const text = `${line}\n`;
  return text === lockInspect(false, name) || text === lockInspect(true, name);
}
