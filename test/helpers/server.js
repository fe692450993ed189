import fs from 'node:fs';
import { listen } from '../../dist/index.js';

/** A server on a free loopback port. */
export function start(options = {}) {
  return listen({ port: 0, host: '127.0.0.1', ...options });
}

/** Waits until fn() is true, checking whenever the server may have changed: after each macrotask turn. */
export async function until(fn, what = 'condition', limitMs = 5000) {
  const started = Date.now();
  while (!(await fn())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Parses `q` lines into an object. */
export function statsOf(lines) {
  return Object.fromEntries(lines.map((l) => {
    const i = l.indexOf(': ');
    return [l.slice(0, i), Number(l.slice(i + 2))];
  }));
}

/**
 * About the most the kernel buffers between a server and a client that reads
 * nothing: the server's send buffer (tcp_wmem's maximum) and the client's
 * receive buffer (tcp_rmem's default: it grows only as the client reads).
 * Tests that must overflow it send a few times as much.
 */
export function kernelHoldsBytes() {
  const field = (name, i) => Number(fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[i]);
  return field('tcp_wmem', 2) + field('tcp_rmem', 1);
}

/** A peer that is not a lock server: sends 'x' without end and never a newline, until the other side closes. */
export function sendWithoutNewline(socket) {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const pump = () => {
    while (!socket.destroyed && socket.write(chunk));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}
