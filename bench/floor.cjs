// The floor for lockd-run's start-up: the least a Node program doing its job
// can do. It connects, asks for a lock in one request, runs `true` once
// granted and exits with its status: on Node's native handles, as lockd-run
// does, so without loading node:net or node:child_process; no option
// parsing, no checks, no timers, no signal handling. bench/run.js times it
// beside lockd-run and node -e 0. Usage: node floor.cjs PORT
const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = process.binding('stream_wrap');
const { Process } = process.binding('process_wrap');

const socket = new TCP(constants.SOCKET);
const connecting = new TCPConnectWrap();
connecting.oncomplete = (status) => {
  if (status < 0) process.exit(69);
  const write = new WriteWrap();
  write.handle = socket;
  write.oncomplete = () => {};
  socket.writeLatin1String(write, 'wg 0 floor\n');
  socket.onread = (buffer) => {
    const n = streamBaseState[kReadBytesOrError];
    // Granted: the reply starts with "1 ".
    if (n < 2 || new Uint8Array(buffer, streamBaseState[kArrayBufferOffset], 1)[0] !== 0x31) process.exit(75);
    const child = new Process();
    child.onexit = (code) => process.exit(code);
    const envPairs = Object.keys(process.env).map((k) => `${k}=${process.env[k]}`);
    const stdio = [0, 1, 2].map((fd) => ({ type: 'inherit', fd }));
    if (child.spawn({ file: 'true', args: ['true'], envPairs, stdio }) < 0) process.exit(71);
  };
  socket.readStart();
};
socket.connect(connecting, '127.0.0.1', Number(process.argv[2]));
