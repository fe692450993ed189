import type { Socket } from 'node:net';

/**
 * Sockets whose clients have gone, waiting for their close(2). On loopback a
 * close does real kernel work (our FIN and the peer's ACK are processed
 * inside the call), and Node's teardown as much again. When
 * thousands of clients leave at once, closing each as its EOF is read makes
 * every later client's locks wait for all the earlier closes. So the
 * connection releases its locks at the EOF and queues the socket here; the
 * closes follow, a bounded batch per event-loop turn, between the reads.
 */
const queue: Socket[] = [];
let head = 0;
/** Closes per turn: a bounded batch, so reads (and `q`) are never held up for long. */
const BATCH = 64;

export function closeSoon(socket: Socket): void {
  queue.push(socket);
  if (queue.length - head === 1) setImmediate(closeBatch);
}

function closeBatch(): void {
  const end = Math.min(queue.length, head + BATCH);
  // Advance first: destroy() runs 'close' listeners, which may queue more.
  while (head < end) queue[head++].destroy();
  if (head < queue.length) setImmediate(closeBatch);
  else {
    queue.length = 0;
    head = 0;
  }
}
