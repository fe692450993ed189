import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Endpoint } from '../util/address.js';

// Notice a vanished server even while idle; lockd-run also pings.
const KEEPALIVE_MS = 15_000;

/**
 * Opens the connection, through node:net or node:tls; onOpen is called once
 * it may be written to (after the TLS handshake, for TLS). node:tls (with
 * node:crypto) is loaded only for a TLS connection: most lockd-run calls
 * never need it, and it is the slowest of Node's modules to load.
 */
export function openSocket(endpoint: Endpoint, tlsOptions: ConnectionOptions | null, onOpen: () => void): net.Socket {
  let socket: net.Socket;
  if ('path' in endpoint) socket = net.connect(endpoint.path);
  else if (tlsOptions) {
    const tls = process.getBuiltinModule('node:tls');
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
  return socket;
}
