import { EventEmitter } from 'node:events';
import { getSystemErrorName } from 'node:util';
import { UV_EOF, type NodeBindings, type StreamHandle } from '../util/node-bindings.js';
import { MAX_REPLY_LINE } from '../protocol/reply-parse.js';
import { replyLineTooLong } from './errors.js';

/**
 * A client connection on a native TCP or pipe handle, without node:net (see
 * node-bindings.ts for why). It does what the client needs of a socket and
 * no more: text in, text out, and 'error' then 'close' when it ends. The
 * client writes only once onOpen has been called.
 */
export class HandleSocket extends EventEmitter {
  private readonly handle: StreamHandle;
  /**
   * The bytes of a line not yet complete, kept until its '\n' comes: a
   * character split between reads is whole by then, since '\n' is never part
   * of a multi-byte one. (Not a streaming TextDecoder: its first use is
   * about 0.4 ms of lockd-run's start-up, decoding whole lines 0.02.)
   */
  private partial: Uint8Array | null = null;
  private isDestroyed = false;

  constructor(
    private readonly b: NodeBindings,
    /** An IP address (4 or 6) and port, or a Unix socket path. */
    target: { host: string; port: number; family: 4 | 6 } | { path: string },
    onOpen: () => void,
    /** TCP keepalive: idle ms before the first probe. */
    keepAlive: number,
  ) {
    super();
    const isPipe = 'path' in target;
    const handle = (this.handle = isPipe ? new b.Pipe(b.pipeSocket) : new b.TCP(b.tcpSocket));
    const req = isPipe ? new b.PipeConnectWrap() : new b.TCPConnectWrap();
    const where = isPipe ? target.path : `${target.host}:${target.port}`;
    req.oncomplete = (status: number) => {
      if (this.isDestroyed) return;
      if (status < 0) return this.destroy(errnoError(status, 'connect', where));
      if (!isPipe) {
        handle.setNoDelay!(true);
        handle.setKeepAlive!(true, Math.floor(keepAlive / 1000));
      }
      const self = this;
      handle.onread = function (buffer) {
        self.onRead(buffer);
      };
      const err = handle.readStart();
      if (err < 0) return this.destroy(errnoError(err, 'read', where));
      onOpen();
    };
    const err = isPipe
      ? handle.connect(req, target.path)
      : target.family === 6
        ? handle.connect6!(req, target.host, target.port)
        : handle.connect(req, target.host, target.port);
    if (err < 0) process.nextTick(() => this.destroy(errnoError(err, 'connect', where)));
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  write(text: string): void {
    if (this.isDestroyed) return;
    const req = new this.b.WriteWrap();
    req.handle = this.handle;
    req.oncomplete = (status: number) => {
      if (status < 0) this.destroy(errnoError(status, 'write'));
    };
    const err = this.handle.writeUtf8String(req, text);
    if (err < 0) this.destroy(errnoError(err, 'write'));
  }

  /** Sends FIN; 'close' follows once the server has closed its side too. */
  end(): void {
    if (this.isDestroyed) return;
    const req = new this.b.ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = () => {};
    // Not connected yet (or already reset): nothing to finish, just close.
    if (this.handle.shutdown(req) < 0) this.destroy();
  }

  destroy(err?: Error): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    this.handle.onread = ignoreRead;
    this.handle.close(() => {
      if (err) this.emit('error', err);
      this.emit('close', !!err);
    });
  }

  private onRead(buffer: ArrayBuffer | undefined): void {
    const b = this.b;
    const n = b.streamBaseState[b.kReadBytesOrError];
    if (n > 0) {
      let bytes = new Uint8Array(buffer!, b.streamBaseState[b.kArrayBufferOffset], n);
      if (this.partial !== null) {
        const joined = new Uint8Array(this.partial.length + n);
        joined.set(this.partial);
        joined.set(bytes, this.partial.length);
        bytes = joined;
      }
      const end = bytes.lastIndexOf(LF) + 1;
      // A copy: the read's buffer is not ours to keep.
      this.partial = end === bytes.length ? null : bytes.slice(end);
      // Invalid UTF-8 becomes U+FFFD and a byte-order mark stays text, as with node:net's setEncoding('utf8').
      if (end > 0) this.emit('data', utf8Slice.call(bytes, 0, end));
      // UTF-8 takes at most 3 bytes for each character the client counts:
      // past that, the line is one the client would refuse (MAX_REPLY_LINE).
      if (this.partial !== null && this.partial.length > 3 * MAX_REPLY_LINE) this.destroy(replyLineTooLong());
    } else if (n === UV_EOF) this.destroy();
    else if (n < 0) this.destroy(errnoError(n, 'read'));
  }
}

const LF = 0x0a;
/** Node's UTF-8 decoder, which takes any Uint8Array. */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string }).utf8Slice;

// A handle's onread must stay a function: reads after destroy() are dropped.
function ignoreRead(): void {}

/** An error as node:net makes it: code ECONNREFUSED, message "connect ECONNREFUSED 127.0.0.1:9999". */
function errnoError(status: number, syscall: string, where?: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}${where === undefined ? '' : ` ${where}`}`);
  err.code = code;
  err.errno = status;
  err.syscall = syscall;
  return err;
}
