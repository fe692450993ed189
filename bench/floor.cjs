// The floor for lockd-run's start-up: what any Node program doing its job
// must do at the least. It loads net and child_process, connects, asks for a
// lock in one request, runs `true` once granted and exits with its status; no
// option parsing, no checks, no signal handling. bench/run.js times it
// beside lockd-run and node -e 0. Usage: node floor.cjs PORT
const net = require('node:net');
const { spawn } = require('node:child_process');

const socket = net.connect(Number(process.argv[2]), '127.0.0.1');
socket.write('wg 0 floor\n');
socket.once('data', (reply) => {
  if (!reply.toString().startsWith('1 ')) process.exit(75);
  spawn('true', [], { stdio: 'inherit' }).on('exit', (code) => process.exit(code));
});
