import { nodeBindings, type NodeBindings, type StreamHandle } from '../util/node-bindings.js';
import { AdoptedSocket, type OwnedSocket } from './adopt-socket.js';

// Replies straight to an adopted socket's native handle, skipping the
// writable stream, as adopt-socket.ts skips the readable one for reads.

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
