// Every reply string of the compatibility protocol, in one place.
// Each returns a complete line including its '\n'.

export const lockGet = (ok: boolean, name: string) =>
  ok ? `1 Lock Get Success: ${name}\n` : `0 Lock Get Failure: ${name}\n`;
export const lockRelease = (ok: boolean, name: string) =>
  ok ? `1 Lock Release Success: ${name}\n` : `0 Lock Release Failure: ${name}\n`;
export const lockInspect = (held: boolean, name: string) =>
  held ? `1 Lock Is Locked: ${name}\n` : `0 Lock Not Locked: ${name}\n`;

export const sharedGet = (count: number, name: string) => `${count} Shared Lock Get Success: ${name}\n`;
export const sharedRelease = (ok: boolean, name: string) =>
  ok ? `1 Shared Lock Release Success: ${name}\n` : `0 Shared Lock Release Failure: ${name}\n`;
export const sharedInspect = (count: number, name: string) =>
  count > 0 ? `${count} Shared Lock Is Locked: ${name}\n` : `0 Shared Lock Not Locked: ${name}\n`;

/** One line of `d`, `sd` (NAME: HOLDER) and `who` (ADDRESS: NAME). */
export const pair = (key: string, value: string) => `${key}: ${value}\n`;
/** One line of `q`. */
export const stat = (key: string, value: number) => `${key}: ${value}\n`;

export const me = (address: string, name: string) => `1 ${address} ${name}\n`;
export const OK = '1 ok\n';
export const DISABLED = '0 disabled\n';

// ---- Extensions (see docs/protocol.md) ----

/** Ends a multi-line reply once a connection has said `hello`. No reply line of the old protocol can be ".". */
export const END = '.\n';
export const PONG = '1 pong\n';
export const hello = (version: string, caps: readonly string[]) => `1 hello lockd ${version} ${caps.join(' ')}\n`;
export const unknown = (cmd: string) => `0 Unknown command: ${cmd}\n`;
export const badArgument = (cmd: string, why: string) => `0 Bad argument to ${cmd}: ${why}\n`;
export const grant = (count: number, token: number, name: string) => `${count} ${token} Lock Get Success: ${name}\n`;
export const sharedGrant = (count: number, token: number, name: string) =>
  `${count} ${token} Shared Lock Get Success: ${name}\n`;
export const sharedRefused = (name: string) => `0 Shared Lock Get Failure: ${name}\n`;
/**
 * A request refused for a limit, to a connection that said `hello`: the
 * command's own failure reply with the reason after its `0`, such as
 * `0 (memory full) Lock Get Failure: NAME`.
 */
export const refusedFor = (reason: string, failure: string) => `0 (${reason})${failure.slice(1)}`;
/**
 * The one unsolicited line, sent only to connections that said `hello`, as a
 * planned shutdown's last: the server is going away and keeps their locks for
 * MS ms, for a connection that presents KEY with each lock's token. No reply
 * line starts with `!`, and none of a multi-line reply lacks ": " this way.
 */
export const goingAway = (ms: number, key: string) => `! going-away ${ms} ${key}\n`;
export const AUTH_REQUIRED = '0 Authentication required\n';
export const AUTH_FAILED = '0 Authentication failed\n';
export const TOO_MANY_CONNECTIONS = '0 Too many connections\n';
