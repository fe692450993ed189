// Free loopback ports, for servers the tests start that cannot take port 0.
import { once } from 'node:events';
import net from 'node:net';

/** n free ports on 127.0.0.1: listened on by us, all at once, then let go. */
export async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, async () => {
    const s = net.createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    return s;
  }));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
