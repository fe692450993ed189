import net from 'node:net';

/** Where a served socket's input and events go: its connection. */
export interface SocketOwner {
  onData(text: string): void;
  /** The client closed its side. */
  onEnd(): void;
  /** The socket has closed. */
  onClose(): void;
}

/**
 * A socket that carries its owner. Node calls read callbacks and event
 * listeners with the socket as `this`, so one shared function per event
 * serves every connection: no closures per connection, which add up with
 * many idle connections (see docs/performance.md).
 */
export type OwnedSocket = net.Socket & { owner: SocketOwner };

/** Declared fields, so that they are part of every socket's shape from the start. */
class AdoptedSocket extends net.Socket {
  owner!: SocketOwner;
}

// Every connection reads into this one buffer: the data is copied out (as a
// latin1 string) before the callback returns, so nothing else ever sees it.
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

function onRead(this: OwnedSocket, bytes: number, buffer: Uint8Array): void {
  this.owner.onData((buffer as Buffer).toString('latin1', 0, bytes));
}

/**
 * Takes over a socket accepted with `pauseOnConnect` and returns one whose
 * reads skip the stream machinery: each read goes straight from the shared
 * buffer to the owner (net's `onread` option, which Node offers only through
 * the Socket constructor, hence the hand-over of the handle). Per read this
 * saves a Buffer allocation and the readable-stream bookkeeping, which with
 * many connections each sending one request at a time is much of the
 * server's work (see docs/performance.md). Set `owner` before the next turn
 * of the event loop, when reads begin.
 *
 * This is the one place in lockd that touches a private field of Node's
 * (`_handle`). Should a Node no longer have it, or with `direct` false,
 * the socket is read through its 'data' events instead: the same bytes,
 * more work per read.
 */
export function adoptSocket(accepted: net.Socket, direct: boolean): OwnedSocket {
  const internal = accepted as unknown as { _handle?: unknown };
  const handle = internal._handle;
  if (!direct || typeof handle !== 'object' || handle === null) {
    ownData(accepted);
    accepted.resume();
    return accepted as OwnedSocket;
  }
  // The paused wrapper must never touch the handle again.
  internal._handle = null;
  return new AdoptedSocket({
    handle,
    // The connection decides what to do when the client closes its side.
    allowHalfOpen: true,
    readable: true,
    writable: true,
    onread: { buffer: SHARED_READ_BUFFER, callback: onRead },
  } as net.SocketConstructorOpts) as OwnedSocket;
}

function onChunk(this: OwnedSocket, chunk: Buffer): void {
  this.owner.onData(chunk.toString('latin1'));
}

/** Reads through 'data' events: a TLS socket (it decrypts in JavaScript), or one that could not be adopted. */
export function ownData(socket: net.Socket): OwnedSocket {
  socket.on('data', onChunk);
  return socket as OwnedSocket;
}
