// lockd-run starts once per cron job or script call, and node:net,
// node:child_process and node:tty (which loads net) would be most of its
// start-up: with the stream machinery they bring, about a third of `node -e 0`
// (see README, Performance). lockd-run needs one socket and one child, so it
// uses the native handles those modules are built on, which Node still offers
// through process.binding(). The client library keeps to node:net; the
// server writes its replies through them (see server/direct-write.ts).

/** A native stream handle (TCP or pipe), as node:net drives it. */
export interface StreamHandle {
  onread: (this: StreamHandle, buffer: ArrayBuffer | undefined) => void;
  readStart(): number;
  readStop(): number;
  writeUtf8String(req: object, text: string): number;
  writeLatin1String(req: object, text: string): number;
  shutdown(req: object): number;
  close(callback?: () => void): void;
  connect(req: object, address: string, port?: number): number;
  connect6?(req: object, address: string, port: number): number;
  setNoDelay?(enable: boolean): number;
  setKeepAlive?(enable: boolean, seconds: number): number;
}

/** A native process handle, as node:child_process drives it. */
export interface ProcessHandle {
  pid?: number;
  onexit: ((exitCode: number, signal: string) => void) | null;
  spawn(options: {
    file: string;
    args: string[];
    envPairs: string[];
    stdio: { type: string; fd: number }[];
    detached: boolean;
  }): number;
  close(): void;
}

type Ctor<T> = new (...args: unknown[]) => T;

export interface NodeBindings {
  TCP: Ctor<StreamHandle>;
  TCPConnectWrap: Ctor<{ oncomplete: (status: number) => void }>;
  tcpSocket: unknown;
  Pipe: Ctor<StreamHandle>;
  PipeConnectWrap: Ctor<{ oncomplete: (status: number) => void }>;
  pipeSocket: unknown;
  WriteWrap: Ctor<{ handle: StreamHandle; oncomplete: (status: number) => void }>;
  ShutdownWrap: Ctor<{ handle: StreamHandle; oncomplete: (status: number) => void }>;
  /** streamBaseState[kReadBytesOrError] is the byte count (or error) of the read being delivered. */
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  /** streamBaseState[kLastWriteWasAsync] is 1 when the last write could not finish at once and its request is in flight. */
  kLastWriteWasAsync: number;
  Process: Ctor<ProcessHandle>;
  isTTY(fd: number): boolean;
  signals: Record<string, number>;
  /** Fills ctx and returns undefined on failure. */
  getHostname(ctx: object): string | undefined;
}

/** libuv's end-of-stream read result. */
export const UV_EOF = -4095;

let loaded: NodeBindings | null | undefined;

/**
 * Node versions whose handles our calls were checked against (by the
 * test suite). These are Node's internals: a call that no longer fits aborts
 * the process instead of throwing, so other versions use the public modules
 * until checked.
 */
const CHECKED_NODE_MAJORS = ['20'];

/** Whether this Node is one the tests check our use of its internals against. */
export function onCheckedNode(): boolean {
  return CHECKED_NODE_MAJORS.includes(process.versions.node.split('.')[0]);
}

/**
 * The native handles, or null when this Node does not offer them, or would
 * warn about it (--pending-deprecation wraps process.binding in a function
 * that prints DEP0111, which must not reach the command's stderr), or is not
 * a version checked. Callers then use the public modules: slower to load,
 * same behaviour.
 */
export function nodeBindings(): NodeBindings | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (!onCheckedNode()) return null;
  const binding = (process as unknown as { binding?: ((name: string) => Record<string, unknown>) & { name: string } }).binding;
  if (typeof binding !== 'function' || binding.name !== 'binding') return null;
  try {
    const tcp = binding('tcp_wrap') as { TCP: Ctor<StreamHandle>; TCPConnectWrap: NodeBindings['TCPConnectWrap']; constants: { SOCKET: unknown } };
    const pipe = binding('pipe_wrap') as { Pipe: Ctor<StreamHandle>; PipeConnectWrap: NodeBindings['PipeConnectWrap']; constants: { SOCKET: unknown } };
    const stream = binding('stream_wrap') as unknown as Pick<NodeBindings, 'WriteWrap' | 'ShutdownWrap' | 'streamBaseState' | 'kReadBytesOrError' | 'kArrayBufferOffset' | 'kLastWriteWasAsync'>;
    const proc = binding('process_wrap') as { Process: Ctor<ProcessHandle> };
    const tty = binding('tty_wrap') as { isTTY: (fd: number) => boolean };
    const constants = binding('constants') as { os: { signals: Record<string, number> } };
    const os = binding('os') as { getHostname: NodeBindings['getHostname'] };
    const found: NodeBindings = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      tcpSocket: tcp.constants.SOCKET,
      Pipe: pipe.Pipe,
      PipeConnectWrap: pipe.PipeConnectWrap,
      pipeSocket: pipe.constants.SOCKET,
      WriteWrap: stream.WriteWrap,
      ShutdownWrap: stream.ShutdownWrap,
      streamBaseState: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kArrayBufferOffset: stream.kArrayBufferOffset,
      kLastWriteWasAsync: stream.kLastWriteWasAsync,
      Process: proc.Process,
      isTTY: tty.isTTY,
      signals: constants.os.signals,
      getHostname: os.getHostname,
    };
    // Something renamed or gone in this Node: use the public modules.
    if (Object.values(found).some((v) => v === undefined)) return null;
    loaded = found;
  } catch {
    // not offered by this Node
  }
  return loaded;
}
