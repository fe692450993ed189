// npm run demo: an embedded lock server on a free loopback port, and the
// client library and lockd-run against it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listen, connect } from '../dist/index.js';

const say = (text) => console.log(`\n== ${text}`);
const server = await listen({ port: 0, host: '127.0.0.1' });
const where = `127.0.0.1:${server.tcp.port}`;
console.log(`lockd-server listening on ${where}`);

say('Two clients, one exclusive lock');
const a = connect(where);
const b = connect(where);
await a.setName('host-a');
console.log('a.get("nightly-backup") ->', await a.get('nightly-backup'));
await b.get('nightly-backup').catch((err) => console.log(`b.get("nightly-backup") -> ${err.code}: ${err.message}`));
console.log('who holds it:', await b.dump('nightly-backup'));
say('b waits in line; a disconnects, and the lock passes to b at once');
const waiting = b.acquire('nightly-backup', { wait: Infinity });
await a.disconnect();
console.log('b granted, fencing token', (await waiting).token);

say('Shared lock with a maximum of 2');
const clients = [connect(where), connect(where), connect(where)];
for (const [i, c] of clients.entries()) {
  await c.acquire('api', { shared: true, max: 2 }).then(
    (g) => console.log(`client ${i}: admitted, ${g.count} holder(s)`),
    (err) => console.log(`client ${i}: ${err.message}`),
  );
}

const run = fileURLToPath(new URL('../bin/lockd-run', import.meta.url));
// Asynchronously: the server lives in this process, so it must keep serving meanwhile.
const lockdRun = (args) =>
  new Promise((resolve) => spawn(run, ['-S', where, ...args], { stdio: 'inherit' }).on('exit', (code) => resolve(code)));
say(`lockd-run --lock nightly-backup -- sh -c 'echo backing up...'   (b still holds it: skipped)`);
console.log(`exit status ${await lockdRun(['--lock', 'nightly-backup', '--', 'sh', '-c', 'echo backing up...'])}`);
await b.disconnect();
say(`lockd-run --lock nightly-backup -- sh -c 'echo backing up...'   (free now)`);
console.log(`exit status ${await lockdRun(['--lock', 'nightly-backup', '--', 'sh', '-c', 'echo "backing up with token $LOCKD_TOKEN"'])}`);
for (const c of clients) await c.disconnect();
say('lockd-run --shared api --max 2 -w 10s: 5 runs at once, never more than 2 inside');
const runs = Array.from({ length: 5 }, (_, i) =>
  lockdRun(['--shared', 'api', '--max', '2', '-w', '10s', '--', 'sh', '-c', `echo "run ${i} inside with $LOCKD_COUNT holder(s)"; sleep 0.2`]),
);
console.log(`exit statuses: ${(await Promise.all(runs)).join(' ')}`);
await server.destroy();
