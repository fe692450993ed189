// Addresses as people write them and as the protocol shows them, in one place.

/** A peer as the protocol shows it: IP:PORT, [IPv6]:PORT (IPv4-mapped IPv6 shown as IPv4). */
export function formatAddress(ip: string, port: number): string {
  if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export type Endpoint = { host: string; port: number; tls?: boolean } | { path: string };

/**
 * Parses where to reach or bind a server: `unix:PATH`, a path containing '/',
 * `HOST:PORT`, `[IPv6]:PORT`, a bare `PORT`, or `lockds://HOST:PORT` (TLS).
 * Throws a one-line Error on nonsense.
 */
export function parseEndpoint(text: string, defaultHost = '127.0.0.1'): Endpoint {
  // lockds://HOST:PORT is HOST:PORT over TLS; lockd://HOST:PORT plain.
  const scheme = /^(lockds?):\/\/(.*)$/.exec(text);
  if (scheme) {
    const e = parseEndpoint(scheme[2], defaultHost);
    if ('path' in e) throw new Error(`"${text}": ${scheme[1]}:// takes HOST:PORT`);
    return scheme[1] === 'lockds' ? { ...e, tls: true } : e;
  }
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (path === '') throw new Error(`no socket path in "${text}"`);
    return { path };
  }
  if (text.includes('/')) return { path: text };
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not HOST:PORT, PORT or unix:PATH`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port ${port} is out of range (0-65535)`);
  return { host: m[1] || m[2] || defaultHost, port };
}

export function describeEndpoint(e: Endpoint): string {
  if ('path' in e) return `unix:${e.path}`;
  const hostPort = e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
  return e.tls ? `lockds://${hostPort}` : hostPort;
}
