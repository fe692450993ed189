import net from 'node:net';
import { nodeBindings, type NodeBindings, type StreamHandle } from '../util/node-bindings.js';

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
 * serves every connection: no closures per connection, which at 10,000
 * connections is half a kilobyte each (see README, Performance).
 */
export type OwnedSocket = net.Socket & { owner: SocketOwner };

/** Declared fields, so that they are part of every socket's shape from the start. */
class AdoptedSocket extends net.Socket {
  owner!: SocketOwner;
  /** Bytes of direct writes that libuv still holds (see writeLatin1). */
  unsentDirect = 0;
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
 * saves a Buffer allocation and the readable-stream bookkeeping: under 50
 * connections with one request each in flight that is a third of the
 * server's CPU time (see README, Performance). Set `owner` before the next
 * turn of the event loop, when reads begin.
 */
export function adoptSocket(accepted: net.Socket): OwnedSocket {
  const internal = accepted as unknown as { _handle: unknown };
  const handle = internal._handle;
  // The paused wrapper must never touch the handle again.
  internal._handle = null;
  return new AdoptedSocket({
    handle,
    // The connection decides what to do when the client closes its side.
    allowHalfOpen: true,
    readable: true,
    writable: true,
    onread: { buffer: SHARED_READ_BUFFER, callback: onRead },
  } as net.SocketConstructorOpts);
}

interface WriteReq {
  oncomplete: (this: WriteReq, status: number) => void;
  /** While the request is in flight: its socket, and its length. */
  socket: AdoptedSocket | null;
  bytes: number;
}

interface DirectWrites {
  bindings: NodeBindings;
  /** Reused by every write that the kernel takes at once, which is nearly all of them. */
  spare: WriteReq;
}

/** Looked up on first use: importing the package must not touch Node's internals. */
let direct: DirectWrites | null | undefined;

function directWrites(): DirectWrites | null {
  if (direct === undefined) {
    const bindings = nodeBindings();
    direct = bindings && { bindings, spare: newWriteReq(bindings) };
  }
  return direct;
}

function newWriteReq(bindings: NodeBindings): WriteReq {
  const req = new bindings.WriteWrap() as unknown as WriteReq;
  req.oncomplete = onWriteDone;
  req.socket = null;
  req.bytes = 0;
  return req;
}

function onWriteDone(this: WriteReq, status: number): void {
  const socket = this.socket!;
  socket.unsentDirect -= this.bytes;
  this.socket = null;
  if (status < 0) socket.destroy();
}

/**
 * socket.write(text, 'latin1'), straight to the socket's handle when nothing
 * is queued in the stream before it. A reply is one small write that the
 * kernel takes at once; through the writable stream it costs a request
 * object, the stream's bookkeeping and a second call into JavaScript (the
 * write callback, deferred to the next tick): about a tenth of the lock
 * cycles at 50 connections and when pipelined (see README, Performance). A
 * write the kernel cannot take at once stays with libuv, ahead of anything
 * written later, and counts in unsentBytes() until done.
 */
export function writeLatin1(socket: OwnedSocket, text: string): void {
  const d = socket instanceof AdoptedSocket && socket.writableLength === 0 ? directWrites() : null;
  const handle = d && (socket as unknown as { _handle: StreamHandle | null })._handle;
  if (!handle) {
    socket.write(text, 'latin1');
    return;
  }
  const req = d!.spare;
  // A failed write (the client reset the connection) ends the socket, as in node:net.
  if (handle.writeLatin1String(req, text) !== 0) return void socket.destroy();
  if (d!.bindings.streamBaseState[d!.bindings.kLastWriteWasAsync] !== 0) {
    const adopted = socket as AdoptedSocket;
    req.socket = adopted;
    req.bytes = text.length;
    adopted.unsentDirect += text.length;
    d!.spare = newWriteReq(d!.bindings);
  }
}

/** Reply bytes written but not yet taken by the kernel (a direct write's counted whole, until done). */
export function unsentBytes(socket: OwnedSocket): number {
  return socket instanceof AdoptedSocket ? socket.writableLength + socket.unsentDirect : socket.writableLength;
}

function onDecrypted(this: OwnedSocket, chunk: Buffer): void {
  this.owner.onData(chunk.toString('latin1'));
}

/** A TLS socket decrypts in JavaScript: its reads come as 'data' events. */
export function ownDecrypted(socket: net.Socket): OwnedSocket {
  socket.on('data', onDecrypted);
  return socket as OwnedSocket;
}
