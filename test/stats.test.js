// `q`: keys, order and exact deltas.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { start, until, statsOf } from './helpers/server.js';
import { Raw } from './helpers/raw.js';

const test = suite('stats');
let server;
test.before.each(async () => {
  server = await start();
});
test.after.each(async () => {
  await server.destroy();
});

const BASE_KEYS = [
  'command_d', 'command_dump', 'command_g', 'command_i', 'command_q', 'command_r',
  'command_sd', 'command_sg', 'command_si', 'command_sr', 'connections', 'invalid_commands',
  'locks', 'orphans', 'shared_locks', 'shared_orphans',
];

test('a fresh server: the original keys, sorted; the first q shows command_q 0, as both old servers do', async () => {
  const c = await Raw.open(server.tcp.port);
  const lines = await c.askAll('q');
  assert.equal(lines.map((l) => l.split(': ')[0]), BASE_KEYS);
  const s = statsOf(lines);
  assert.is(s.command_q, 0);
  assert.is(statsOf(await c.askAll('q')).command_q, 1);
  assert.is(s.connections, 1);
  for (const k of BASE_KEYS) if (!['command_q', 'connections', 'command_i'].includes(k)) assert.is(s[k], 0, k);
});

test('command_iam, command_me, command_who appear once used, in sorted place', async () => {
  const c = await Raw.open(server.tcp.port);
  await c.ask('me');
  await c.ask('iam x');
  await c.askAll('who');
  const keys = (await c.askAll('q')).map((l) => l.split(': ')[0]);
  assert.equal(keys, [...BASE_KEYS, 'command_iam', 'command_me', 'command_who'].sort());
});

test('extension commands do not show in q', async () => {
  const c = await Raw.open(server.tcp.port);
  await c.ask('hello');
  await c.ask('ping');
  await c.ask('wg 0 x');
  await c.ask('wsg 0 0 y');
  c.send('q\n');
  const lines = [];
  for (let [l] = await c.read(); l !== '.'; [l] = await c.read()) lines.push(l);
  assert.equal(lines.map((l) => l.split(': ')[0]), BASE_KEYS);
  assert.is(statsOf(lines).invalid_commands, 0);
});

test('exact deltas over the session of the original client test', async () => {
  // hello connections: multi-line replies end with "." so no sentinel commands
  // disturb the counts, and `ping` (uncounted) tells when the server has
  // accepted a connection.
  const open = async () => {
    const c = await Raw.openExt(server.tcp.port);
    await c.ask('ping');
    return c;
  };
  const [c1, c2, c3] = [await open(), await open(), await open()];
  const s1 = statsOf(await c1.askAll('q'));
  for (const k of ['command_iam', 'command_me', 'command_who']) s1[k] ??= 0;
  assert.is(s1.connections, 3);
  await c1.ask('i asdf1'); await c1.ask('i asdf2'); await c1.ask('i asdf3');
  await c1.ask('g asdf1'); await c1.ask('g asdf2'); await c1.ask('r asdf2');
  await c2.ask('g asdf2'); await c3.ask('g asdf3');
  await c2.askAll('d'); await c1.askAll('d asdf2');
  await c1.ask('si asdf');
  await c1.ask('sg asdf'); await c2.ask('sg asdf'); await c3.ask('sg asdf');
  await c2.ask('sr asdf'); await c2.ask('sg asdg');
  await c1.askAll('sd asdf');
  await c1.end();
  const d1 = await open();
  const d2 = await open();
  await open();
  let polls = 0;
  await until(async () => {
    polls++;
    return statsOf(await d1.askAll('q')).connections === 5;
  }, 'c1 to be gone');
  d1.send('xx\n');
  await d1.ask('dump');
  await d1.ask('dump shared');
  await d1.ask('me');
  await d1.ask('iam c1');
  await d1.askAll('who');
  const s2 = statsOf(await d2.askAll('q'));
  const delta = Object.fromEntries(Object.keys(s2).map((k) => [k, s2[k] - s1[k]]));
  assert.equal(delta, {
    command_d: 2, command_dump: 2, command_g: 4, command_i: 3, command_iam: 1, command_me: 1,
    command_q: polls + 1, command_r: 1, command_sd: 1, command_sg: 4, command_si: 1, command_sr: 1,
    command_who: 1, connections: 2, invalid_commands: 1, locks: 2, orphans: 1, shared_locks: 2,
    shared_orphans: 1,
  });
});

test.run();
