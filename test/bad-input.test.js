// Bad input: defined behaviour, no crash, no harm to other clients.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { start, statsOf, until } from './helpers/server.js';
import { Raw } from './helpers/raw.js';

const test = suite('bad-input');
let server, c, bystander, warnings;
test.before.each(async () => {
  warnings = [];
  server = await start({ limits: { maxLine: 4096 }, warn: (m) => warnings.push(m) });
  c = await Raw.open(server.tcp.port);
  bystander = await Raw.open(server.tcp.port);
  await bystander.ask('g mine');
});
test.after.each(async () => {
  // Whatever c did, the bystander is served and keeps its lock.
  assert.is(await bystander.ask('i mine'), '1 Lock Is Locked: mine');
  assert.is(await bystander.ask('g mine'), '1 Lock Get Success: mine');
  await server.destroy();
});

test('NUL bytes are part of a name, echoed back as sent', async () => {
  assert.is(await c.ask('g a\0b'), '1 Lock Get Success: a\0b');
  assert.is(await c.ask('i a'), '0 Lock Not Locked: a');
  assert.is(await c.ask('i a\0b'), '1 Lock Is Locked: a\0b');
  // A NUL in the command word makes it unknown.
  c.send('g\0 x\n');
  assert.is(statsOf(await c.askAll('q')).invalid_commands, 1);
});

test('invalid UTF-8 is a name like any other, echoed back byte for byte', async () => {
  const name = '\xff\xfe\xc3(';
  assert.is(await c.ask(`g ${name}`), `1 Lock Get Success: ${name}`);
  assert.is(await bystander.ask(`g ${name}`), `0 Lock Get Failure: ${name}`);
  const dump = await c.ask('dump');
  assert.ok(Buffer.from(dump, 'latin1').includes(Buffer.from([0xff, 0xfe, 0xc3, 0x28])));
});

test('binary garbage: no crash, unknown commands counted, connection still served', async () => {
  const garbage = Buffer.alloc(4000);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
  // Keep lines under the limit so this tests garbage, not length.
  for (let i = 50; i < garbage.length; i += 50) garbage[i] = 0x0a;
  garbage[garbage.length - 1] = 0x0a;
  c.socket.write(garbage);
  assert.is(await c.ask('i probe'), '0 Lock Not Locked: probe');
});

test('CRLF line endings: the CR is not part of the name', async () => {
  assert.is(await c.ask('g crlf\r\n'), '1 Lock Get Success: crlf');
  assert.is(await bystander.ask('i crlf'), '1 Lock Is Locked: crlf');
});

test('a tab does not end the command word, as in both old servers; around names tabs are trimmed', async () => {
  c.send('g\ttabbed\n');
  assert.is(await c.ask('i tabbed'), '0 Lock Not Locked: tabbed', 'no lock taken, no reply');
  assert.is(statsOf(await c.askAll('q')).invalid_commands, 1);
  assert.is(await c.ask('\tg \ttabbed\t'), '1 Lock Get Success: tabbed');
  // Inside a name a tab is data.
  assert.is(await c.ask('g a\tb'), '1 Lock Get Success: a\tb');
  assert.is(await c.ask('i a b'), '0 Lock Not Locked: a b');
});

test('glockc\'s request form, a leading space and a doubled one, names the lock foo', async () => {
  assert.is(await c.ask(' g  foo'), '1 Lock Get Success: foo');
  assert.is(await bystander.ask('i foo'), '1 Lock Is Locked: foo');
});

test('runs of spaces: trimmed around the name and after the command, kept inside the name', async () => {
  assert.is(await c.ask('   g    spaced   name   '), '1 Lock Get Success: spaced   name');
  assert.is(await c.ask('i spaced name'), '0 Lock Not Locked: spaced name');
  assert.is(await c.ask('i spaced   name'), '1 Lock Is Locked: spaced   name');
});

test('a line over the limit closes that connection (and only it) with a log line', async () => {
  await c.ask('g doomed');
  c.send('i ' + 'x'.repeat(5000) + '\n');
  await c.closedByServer();
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /request line longer than 4096 bytes, connection closed/);
  await until(async () => (await bystander.ask('g doomed')).startsWith('1 '), 'the closed connection\'s lock to be freed');
});

test('a partial line over the limit with no newline yet also closes the connection', async () => {
  c.send('g ' + 'y'.repeat(5000));
  await c.closedByServer();
  assert.is(warnings.length, 1);
});

test('a line exactly at the limit is fine', async () => {
  const name = 'z'.repeat(4094);
  assert.is(await c.ask(`g ${name}`), `1 Lock Get Success: ${name}`);
});

test('extension commands with bad arguments get an error line, not a crash', async () => {
  assert.match(await c.ask('wg soon x'), /^0 Bad argument to wg: /);
  assert.match(await c.ask('wsg -5 10 x'), /^0 Bad argument to wsg: /);
  assert.match(await c.ask('wg'), /^0 Bad argument to wg: /);
});

test.run();
