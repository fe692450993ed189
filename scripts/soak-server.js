// The server side of scripts/soak.js: lockd-server in a child process that
// reports its memory to the parent once a second.
import { listen } from '../dist/index.js';

const server = await listen({ port: 0, host: '127.0.0.1', warn: () => {} });
process.send({ port: server.tcp.port });
setInterval(() => {
  const m = process.memoryUsage();
  process.send({ rss: m.rss, heapUsed: m.heapUsed, connections: server.connections });
}, 1000);
process.on('disconnect', () => process.exit(0));
