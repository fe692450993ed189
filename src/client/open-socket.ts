import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ipFamily, type Endpoint } from '../util/address.js';
import { requireBuiltin } from '../util/require-builtin.js';
import { nodeBindings } from '../util/node-bindings.js';
import { HandleSocket } from './handle-socket.js';

/** What the client needs of its connection: text both ways, and 'data', 'error' and 'close' events. */
export interface ClientSocket {
  write(text: string): void;
  end(): void;
  destroy(err?: Error): void;
  readonly destroyed: boolean;
  on(event: 'data', listener: (text: string) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: () => void): this;
  once(event: 'close', listener: () => void): this;
}

/** Opens the connection; onOpen is called once it may be written to (after the TLS handshake, for TLS). */
export type OpenSocket = (endpoint: Endpoint, tls: ConnectionOptions | null, onOpen: () => void) => ClientSocket;

// Notice a vanished server even while idle; lockd-run also pings.
const KEEPALIVE_MS = 15_000;

/**
 * Through node:net, or node:tls. Both are loaded on first use: lockd-run
 * usually needs neither (see openHandleSocket), and node:tls with node:crypto
 * takes ~4 ms to load.
 */
export const openNetSocket: OpenSocket = (endpoint, tlsOptions, onOpen) => {
  const net = requireBuiltin('node:net') as typeof import('node:net');
  let socket: Socket;
  if ('path' in endpoint) socket = net.connect(endpoint.path);
  else if (tlsOptions) {
    const tls = requireBuiltin('node:tls') as typeof import('node:tls');
    socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
      ...tlsOptions,
    });
  } else socket = net.connect(endpoint.port, endpoint.host);
  socket.once(tlsOptions ? 'secureConnect' : 'connect', onOpen);
  socket.setNoDelay(true);
  if (!('path' in endpoint)) socket.setKeepAlive(true, KEEPALIVE_MS);
  socket.setEncoding('utf8');
  return socket as Socket & ClientSocket;
};

/**
 * Straight on Node's native handles where it can (plain TCP to an IP address,
 * or a Unix socket), through node:net otherwise (TLS, host names, which need
 * DNS, or a Node without the handles). lockd-run's choice: see node-bindings.ts.
 */
export const openHandleSocket: OpenSocket = (endpoint, tlsOptions, onOpen) => {
  const bindings = nodeBindings();
  if (!bindings || tlsOptions) return openNetSocket(endpoint, tlsOptions, onOpen);
  if ('path' in endpoint) return new HandleSocket(bindings, endpoint, onOpen, KEEPALIVE_MS);
  const family = ipFamily(endpoint.host);
  if (family === 0) return openNetSocket(endpoint, tlsOptions, onOpen);
  return new HandleSocket(bindings, { host: endpoint.host, port: endpoint.port, family }, onOpen, KEEPALIVE_MS);
};
