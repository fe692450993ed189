// Every row of docs/protocol.md's compatibility protocol, byte for byte.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { start, statsOf, until } from './helpers/server.js';
import { Raw } from './helpers/raw.js';

const test = suite('protocol');
let server, a, b;

test.before.each(async () => {
  server = await start();
  a = await Raw.open(server.tcp.port);
  b = await Raw.open(server.tcp.port);
});
test.after.each(async () => {
  await server.destroy();
});

test('g: success, again when already held, failure for another connection', async () => {
  assert.is(await a.ask('g job'), '1 Lock Get Success: job');
  assert.is(await a.ask('g job'), '1 Lock Get Success: job');
  assert.is(await b.ask('g job'), '0 Lock Get Failure: job');
});

test('r: success for the holder, failure for others and for free locks', async () => {
  await a.ask('g job');
  assert.is(await b.ask('r job'), '0 Lock Release Failure: job');
  assert.is(await a.ask('r job'), '1 Lock Release Success: job');
  assert.is(await a.ask('r job'), '0 Lock Release Failure: job');
  assert.is(await b.ask('g job'), '1 Lock Get Success: job');
});

test('i: held by anyone', async () => {
  assert.is(await b.ask('i job'), '0 Lock Not Locked: job');
  await a.ask('g job');
  assert.is(await b.ask('i job'), '1 Lock Is Locked: job');
  assert.is(await a.ask('i job'), '1 Lock Is Locked: job');
});

test('d: one NAME: HOLDER line per held lock; zero lines when none', async () => {
  assert.equal(await b.askAll('d'), []);
  await a.ask('g one');
  await b.ask('g two');
  assert.equal((await b.askAll('d')).sort(), [`one: ${a.address}`, `two: ${b.address}`]);
});

test('d NAME: the holder, or zero lines', async () => {
  await a.ask('g one');
  assert.equal(await b.askAll('d one'), [`one: ${a.address}`]);
  assert.equal(await b.askAll('d nobody'), []);
});

test('dump: the exclusive table as one JSON line', async () => {
  assert.is(await a.ask('dump'), '{}');
  await a.ask('g one');
  await b.ask('g two');
  assert.equal(JSON.parse(await a.ask('dump')), { one: a.address, two: b.address });
});

test('sg: holders now, idempotent for the same connection', async () => {
  assert.is(await a.ask('sg pool'), '1 Shared Lock Get Success: pool');
  assert.is(await a.ask('sg pool'), '1 Shared Lock Get Success: pool');
  assert.is(await b.ask('sg pool'), '2 Shared Lock Get Success: pool');
});

test('sr: success for a holder, failure otherwise', async () => {
  await a.ask('sg pool');
  assert.is(await b.ask('sr pool'), '0 Shared Lock Release Failure: pool');
  assert.is(await a.ask('sr pool'), '1 Shared Lock Release Success: pool');
  assert.is(await a.ask('sr pool'), '0 Shared Lock Release Failure: pool');
});

test('si: count for anyone, or not locked', async () => {
  assert.is(await a.ask('si pool'), '0 Shared Lock Not Locked: pool');
  await a.ask('sg pool');
  await b.ask('sg pool');
  assert.is(await a.ask('si pool'), '2 Shared Lock Is Locked: pool');
  await b.ask('sr pool');
  assert.is(await b.ask('si pool'), '1 Shared Lock Is Locked: pool');
});

test('sd and sd NAME: one line per (lock, holder) pair', async () => {
  assert.equal(await a.askAll('sd'), []);
  await a.ask('sg pool');
  await b.ask('sg pool');
  await b.ask('sg other');
  assert.equal(await a.askAll('sd pool'), [`pool: ${a.address}`, `pool: ${b.address}`]);
  assert.equal((await a.askAll('sd')).sort(), [`other: ${b.address}`, `pool: ${a.address}`, `pool: ${b.address}`].sort());
  assert.equal(await a.askAll('sd nobody'), []);
});

test('dump shared: the shared table as one JSON line', async () => {
  assert.is(await a.ask('dump shared'), '{}');
  await a.ask('sg pool');
  await b.ask('sg pool');
  assert.equal(JSON.parse(await a.ask('dump shared')), { pool: [a.address, b.address] });
});

test('HOLDER is the registered name when there is one', async () => {
  await a.ask('g job');
  await a.ask('sg pool');
  assert.is(await a.ask('iam backup-host'), '1 ok');
  assert.equal(await b.askAll('d job'), ['job: backup-host']);
  assert.equal(await b.askAll('sd pool'), ['pool: backup-host']);
  assert.equal(JSON.parse(await b.ask('dump')), { job: 'backup-host' });
});

test('me: address and name; iam sets and resets', async () => {
  assert.is(await a.ask('me'), `1 ${a.address} ${a.address}`);
  assert.is(await a.ask('iam some name'), '1 ok');
  assert.is(await a.ask('me'), `1 ${a.address} some name`);
  assert.is(await a.ask('iam'), '1 ok');
  assert.is(await a.ask('me'), `1 ${a.address} ${a.address}`);
});

test('who: registered connections, oldest registration first; who NAME filters', async () => {
  assert.equal(await a.askAll('who'), []);
  await b.ask('iam second');
  await a.ask('iam first');
  assert.equal(await a.askAll('who'), [`${b.address}: second`, `${a.address}: first`]);
  assert.equal(await a.askAll('who first'), [`${a.address}: first`]);
  assert.equal(await a.askAll('who nobody'), []);
  await b.ask('iam');
  assert.equal(await a.askAll('who'), [`${a.address}: first`]);
});

test('the worked example of the protocol reference', async () => {
  assert.is(await a.ask('g job'), '1 Lock Get Success: job');
  assert.is(await b.ask('g job'), '0 Lock Get Failure: job');
  assert.is(await b.ask('i job'), '1 Lock Is Locked: job');
  assert.is(await a.ask('sg pool'), '1 Shared Lock Get Success: pool');
  assert.is(await b.ask('sg pool'), '2 Shared Lock Get Success: pool');
  assert.is(await b.ask('si pool'), '2 Shared Lock Is Locked: pool');
  assert.is(await a.ask('iam backup-host'), '1 ok');
  assert.equal(await b.askAll('d job'), ['job: backup-host']);
  await a.end();
  // B may be read before the server has seen A's close: wait until it has.
  await until(async () => (await b.ask('i job')) === '0 Lock Not Locked: job', 'A to be gone');
  assert.is(await b.ask('g job'), '1 Lock Get Success: job');
  assert.is(await b.ask('si pool'), '1 Shared Lock Is Locked: pool');
});

test('the empty string is a valid lock name', async () => {
  assert.is(await a.ask('g'), '1 Lock Get Success: ');
  assert.is(await b.ask('g '), '0 Lock Get Failure: ');
  assert.is(await b.ask('i'), '1 Lock Is Locked: ');
  assert.is(await a.ask('sg'), '1 Shared Lock Get Success: ');
  assert.is(await a.ask('r'), '1 Lock Release Success: ');
});

test('empty lines: no reply, not counted; a line of only spaces and tabs is an unknown command', async () => {
  a.send('\n\n\r\n');
  assert.ok((await a.askAll('q')).includes('invalid_commands: 0'));
  a.send('   \n\t\n \t\r\n');
  assert.ok((await a.askAll('q')).includes('invalid_commands: 3'));
});

test('unknown command: no reply, counted in invalid_commands', async () => {
  a.send('bogus\nG job\nlock job\n');
  assert.is(await a.ask('i job'), '0 Lock Not Locked: job');
  assert.ok((await a.askAll('q')).includes('invalid_commands: 3'));
});

test('names are data: __proto__, constructor, toString, spaces, UTF-8', async () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a  b c', 'zürich-λ-锁']) {
    const wire = Buffer.from(name, 'utf8').toString('latin1');
    assert.is(await a.ask(`i ${wire}`), `0 Lock Not Locked: ${wire}`, name);
    assert.is(await a.ask(`g ${wire}`), `1 Lock Get Success: ${wire}`, name);
    assert.is(await b.ask(`g ${wire}`), `0 Lock Get Failure: ${wire}`, name);
    assert.is(await b.ask(`sg ${wire}`), `1 Shared Lock Get Success: ${wire}`, name);
    assert.equal(await b.askAll(`d ${wire}`), [`${wire}: ${a.address}`], name);
  }
  const dump = JSON.parse(Buffer.from(await a.ask('dump'), 'latin1').toString('utf8'));
  assert.is(Object.keys(dump).length, 6);
  assert.is(dump['zürich-λ-锁'], a.address);
  assert.is(dump.__proto__, a.address);
  assert.is(await a.ask('iam __proto__'), '1 ok');
  assert.equal(await b.askAll('who __proto__'), [`${a.address}: __proto__`]);
});

test('command words are data too: __proto__ and toString are unknown commands', async () => {
  a.send('__proto__\ntoString x\nconstructor\nhasOwnProperty g\n');
  assert.ok((await a.askAll('q')).includes('invalid_commands: 4'));
});

test.run();

const ops = suite('operator commands on the wire');

ops('locks, clients and stats: JSON records and KEY: VALUE lines; uncounted in q, whose bytes do not change', async () => {
  const server = await start();
  const port = server.tcp.port;
  const [holder, waiter, plain] = [await Raw.openExt(port), await Raw.openExt(port), await Raw.open(port)];
  const qBefore = await plain.askAll('q');
  assert.is(await holder.ask('iam db1'), '1 ok');
  assert.match(await holder.ask('wg 0 job x'), /^1 \d+ Lock Get Success: job x$/);
  waiter.send('wg -1 job x\n');
  await until(() => server.waiting('job x') === 1, 'the wait to queue');
  const [line, ...more] = await holder.askAll('locks job');
  assert.is(more.length, 0);
  const record = JSON.parse(line);
  assert.equal(Object.keys(record), ['name', 'shared', 'holderCount', 'waiterCount', 'holders', 'waiters']);
  assert.equal([record.holderCount, record.waiterCount], [1, 1]);
  assert.equal([record.name, record.shared, record.holders[0].name, record.holders[0].max], ['job x', false, 'db1', null]);
  assert.equal(Object.keys(record.holders[0]), ['name', 'address', 'since', 'age', 'token', 'max']);
  assert.equal(record.waiters.map((w) => w.address), [waiter.address]);
  assert.equal(await holder.askAll('locks nothing-starts-so'), []);
  const clients = (await holder.askAll('clients')).map((l) => JSON.parse(l));
  assert.is(clients.length, 3);
  assert.equal(clients.find((c) => c.name === 'db1').locks, 1);
  assert.is(clients.find((c) => c.address === waiter.address).waiting, 'job x');
  const stats = statsOf(await holder.askAll('stats'));
  assert.equal([stats.locks, stats.waiters, stats.grants_at_once, stats.connections], [1, 1, 1, 3]);
  // The old client's q: same keys as before, none of the operator commands counted.
  const qAfter = await plain.askAll('q');
  assert.equal(qAfter.map((l) => l.split(':')[0]), [...qBefore.map((l) => l.split(':')[0]), 'command_iam'].sort());
  await server.destroy();
});

ops('to a connection that did not say hello, they are unknown commands: no reply, counted as invalid', async () => {
  const server = await start();
  const plain = await Raw.open(server.tcp.port);
  const before = statsOf(await plain.askAll('q'));
  // The sentinel's reply comes first: nothing was answered to the three.
  assert.equal(await plain.askAll('locks\nclients\nstats'), []);
  const after = statsOf(await plain.askAll('q'));
  assert.is(after.invalid_commands, before.invalid_commands + 3);
  assert.equal({ ...after, invalid_commands: 0, command_q: 0, command_i: 0 }, { ...before, invalid_commands: 0, command_q: 0, command_i: 0 });
  await server.destroy();
});

ops('a lock lists its first 50 holders with the count of all; a reply stops at 4 MiB and says how many it left out', async () => {
  const server = await start({ limits: { maxConnections: 200 } });
  const port = server.tcp.port;
  const asker = await Raw.openExt(port);
  const joiners = await Promise.all(Array.from({ length: 60 }, () => Raw.open(port)));
  await Promise.all(joiners.map((j) => j.ask('sg pool')));
  const [pool] = (await asker.askAll('locks pool')).map((l) => JSON.parse(l));
  assert.equal([pool.holderCount, pool.holders.length], [60, 50]);
  // 1100 locks with 4000-byte names: about 4.4 MiB of records.
  const long = (i) => `${String(i).padStart(5, '0')}${'n'.repeat(3995)}`;
  asker.send(Array.from({ length: 1100 }, (_, i) => `g ${long(i)}\n`).join(''));
  await asker.read(1100);
  const lines = await asker.askAll('locks 0');
  const last = JSON.parse(lines[lines.length - 1]);
  assert.ok(last.omitted > 0 && last.omitted + lines.length - 1 === 1100, JSON.stringify(last));
  await server.destroy();
});

ops.run();
