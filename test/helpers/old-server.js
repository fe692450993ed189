// A test double of the old servers (glockd, the original Node lockd): the
// classic commands only, no reply to unknown commands, no end markers on
// multi-line replies, and glockd's "\r\n" on shared-lock replies.
import net from 'node:net';
import { once } from 'node:events';

export async function startOldServer() {
  const ex = new Map();
  const sh = new Map();
  const names = new Map();
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const me = `${socket.remoteAddress}:${socket.remotePort}`;
    const label = (c) => names.get(c) ?? c;
    let buf = '';
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      for (const [k, v] of ex) if (v === me) ex.delete(k);
      for (const [k, v] of sh) {
        v.delete(me);
        if (v.size === 0) sh.delete(k);
      }
      names.delete(me);
    });
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const i = line.indexOf(' ');
        const cmd = i < 0 ? line : line.slice(0, i);
        const arg = i < 0 ? '' : line.slice(i + 1).trim();
        socket.write(answer(cmd, arg));
      }
    });
    function answer(cmd, name) {
      switch (cmd) {
        case 'g':
          if (ex.has(name) && ex.get(name) !== me) return `0 Lock Get Failure: ${name}\n`;
          ex.set(name, me);
          return `1 Lock Get Success: ${name}\n`;
        case 'r':
          if (ex.get(name) !== me) return `0 Lock Release Failure: ${name}\n`;
          ex.delete(name);
          return `1 Lock Release Success: ${name}\n`;
        case 'i':
          return ex.has(name) ? `1 Lock Is Locked: ${name}\n` : `0 Lock Not Locked: ${name}\n`;
        case 'd':
          return [...ex].filter(([k]) => !name || k === name).map(([k, v]) => `${k}: ${label(v)}\n`).join('');
        case 'sg': {
          if (!sh.has(name)) sh.set(name, new Set());
          sh.get(name).add(me);
          return `${sh.get(name).size} Shared Lock Get Success: ${name}\r\n`;
        }
        case 'sr':
          if (!sh.get(name)?.delete(me)) return `0 Shared Lock Release Failure: ${name}\r\n`;
          if (sh.get(name).size === 0) sh.delete(name);
          return `1 Shared Lock Release Success: ${name}\r\n`;
        case 'si':
          return sh.has(name) ? `${sh.get(name).size} Shared Lock Is Locked: ${name}\r\n` : `0 Shared Lock Not Locked: ${name}\r\n`;
        case 'sd':
          return [...sh].filter(([k]) => !name || k === name)
            .flatMap(([k, v]) => [...v].map((h) => `${k}: ${label(h)}\n`)).join('');
        case 'me':
          return `1 ${me} ${label(me)}\n`;
        case 'iam':
          if (name) names.set(me, name);
          else names.delete(me);
          return '1 ok\n';
        case 'who':
          return [...names].filter(([, n]) => !name || n === name).map(([a, n]) => `${a}: ${n}\n`).join('');
        case 'q':
          return `command_g: 0\nconnections: ${sockets.size}\nlocks: ${ex.size}\nshared_locks: ${sh.size}\n`;
        default:
          return ''; // unknown: no reply at all
      }
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
