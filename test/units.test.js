// The pure layers on their own: request parsing, the lock table, the command-line parser.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRequest } from '../dist/protocol/request.js';
import { LockTable, Owner } from '../dist/locks/lock-table.js';
import { parseCommandLine } from '../dist/util/command-line.js';
import { CliError } from '../dist/util/cli-errors.js';
import { execFileSync } from 'node:child_process';

const parse = suite('parseRequest');

parse('command word and argument', () => {
  assert.equal(parseRequest('g job'), { cmd: 'g', arg: 'job' });
  assert.equal(parseRequest('d'), { cmd: 'd', arg: '' });
  assert.equal(parseRequest('iam  two  words '), { cmd: 'iam', arg: 'two  words' });
  assert.equal(parseRequest('\tg \tx\r'), { cmd: 'g', arg: 'x' });
  assert.equal(parseRequest(' g  foo'), { cmd: 'g', arg: 'foo' }, 'as glockc sends it');
  assert.equal(parseRequest('g\tx'), { cmd: 'g\tx', arg: '' }, 'a tab does not end the command word');
});

parse('a line within a longer input is parsed where it lies', () => {
  const input = 'g a\nr  two words \r\n\n';
  assert.equal(parseRequest(input, 0, 3), { cmd: 'g', arg: 'a' });
  assert.equal(parseRequest(input, 4, 18), { cmd: 'r', arg: 'two words' });
  assert.equal(parseRequest('q\nr x', 0, 1), { cmd: 'q', arg: '' }, 'nothing past the end is read');
});

parse('empty lines are null; a line of only blanks is the unknown word ""', () => {
  for (const line of ['', '\r']) assert.is(parseRequest(line), null);
  for (const line of [' ', '\t', ' \t \r', '\r\r']) assert.equal(parseRequest(line), { cmd: '', arg: '' });
});

parse.run();

const table = suite('LockTable');

table('exclusive: get, re-get, conflict, release', () => {
  const t = new LockTable(100);
  const a = new Owner();
  const b = new Owner();
  const token = t.get(a, 'x');
  assert.is(token, 100);
  assert.is(t.get(a, 'x'), 100, 're-get returns the same grant');
  assert.is(t.get(b, 'x'), 0);
  assert.not.ok(t.release(b, 'x'));
  assert.ok(t.release(a, 'x'));
  assert.is(t.get(b, 'x'), 101, 'tokens increase');
});

table('exclusive waiters are served first come first served, at release', () => {
  const t = new LockTable();
  const [a, b, c] = [new Owner(), new Owner(), new Owner()];
  t.get(a, 'x');
  const wb = t.enqueue(b, 'x', false);
  const wc = t.enqueue(c, 'x', false);
  t.release(a, 'x');
  assert.equal(t.granted, [wb]);
  t.granted.length = 0;
  assert.is(t.holder('x'), b);
  t.drop(b);
  assert.equal(t.granted, [wc]);
  assert.is(t.holder('x'), c);
});

table('a cancelled waiter is skipped', () => {
  const t = new LockTable();
  const [a, b, c] = [new Owner(), new Owner(), new Owner()];
  t.get(a, 'x');
  const wb = t.enqueue(b, 'x', false);
  const wc = t.enqueue(c, 'x', false);
  t.cancel(wb);
  t.release(a, 'x');
  assert.equal(t.granted, [wc]);
});

table('shared with max: admitted in order while under the maximum', () => {
  const t = new LockTable();
  const o = Array.from({ length: 5 }, () => new Owner());
  assert.is(t.sharedTryGet(o[0], 'p', 2), 1);
  assert.is(t.sharedTryGet(o[1], 'p', 2), 2);
  assert.is(t.sharedTryGet(o[2], 'p', 2), 0);
  const w2 = t.enqueue(o[2], 'p', true, 2);
  // Nobody overtakes a queued waiter, even with a larger maximum.
  assert.is(t.sharedTryGet(o[3], 'p', 10), 0);
  const w3 = t.enqueue(o[3], 'p', true, 10);
  t.sharedRelease(o[0], 'p');
  assert.equal(t.granted, [w2, w3]);
  assert.is(t.sharedCount('p'), 3);
});

table('cancelling the head lets the next shared waiter in if it fits', () => {
  const t = new LockTable();
  const o = Array.from({ length: 3 }, () => new Owner());
  t.sharedTryGet(o[0], 'p', 1);
  const w1 = t.enqueue(o[1], 'p', true, 1);
  const w2 = t.enqueue(o[2], 'p', true, 5);
  t.cancel(w1);
  assert.equal(t.granted, [w2]);
});

table("each owner's holdings stay right as locks are freed from the middle, handed over and dropped", () => {
  const t = new LockTable();
  const [a, b] = [new Owner(), new Owner()];
  for (const name of ['x', 'y', 'z']) t.get(a, name);
  assert.ok(t.release(a, 'y'));
  assert.not.ok(t.release(a, 'y'), 'released twice');
  assert.is(t.heldBy(a), 2);
  assert.equal([t.holds(a, 'x', false), t.holds(a, 'y', false), t.holds(a, 'z', false)], [true, false, true]);
  assert.not.ok(t.holds(a, 'x', true), 'held exclusive, not shared');
  t.enqueue(b, 'x', false);
  assert.not.ok(t.release(b, 'x'), 'a waiter does not hold');
  assert.ok(t.release(a, 'x'));
  assert.ok(t.holds(b, 'x', false));
  assert.equal([t.heldBy(a), t.heldBy(b)], [1, 1]);
  assert.equal([...t.exclusive.keys()], ['z', 'x'], 'a handed-over lock comes last in a dump, as a fresh grant does');
  assert.equal(t.drop(a), { orphans: 1, sharedOrphans: 0 });
  assert.equal([...t.exclusive.keys()], ['x']);
  t.sharedGet(b, 's');
  assert.is(t.heldBy(b), 2);
  assert.equal(t.drop(b), { orphans: 1, sharedOrphans: 1 });
  assert.equal([t.heldBy(a), t.heldBy(b), t.exclusive.size], [0, 0, 0]);
});

table("a dropped owner's locks go to their waiters exclusive first, then shared, each in the order it got them", () => {
  const t = new LockTable();
  const [a, c, ...w] = Array.from({ length: 6 }, () => new Owner());
  t.get(c, 'z');
  t.get(a, 'x');
  t.sharedTryGet(a, 's1', 1);
  t.get(a, 'y');
  t.sharedTryGet(a, 's2', 1);
  const waiters = [t.enqueue(w[0], 'x', false), t.enqueue(w[1], 'y', false), t.enqueue(w[2], 's1', true, 1), t.enqueue(w[3], 's2', true, 1)];
  assert.equal(t.drop(a), { orphans: 2, sharedOrphans: 2 });
  assert.equal(t.granted, waiters);
  assert.equal([...t.exclusive.keys()], ['z', 'x', 'y'], 'as a dump shows them');
  assert.equal([...t.shared.keys()], ['s1', 's2']);
});

table('drop releases all and counts orphans; map keys like __proto__ are plain names', () => {
  const t = new LockTable();
  const a = new Owner();
  t.get(a, '__proto__');
  t.get(a, 'constructor');
  t.sharedGet(a, 'toString');
  assert.equal(t.drop(a), { orphans: 2, sharedOrphans: 1 });
  assert.is(t.exclusive.size, 0);
  assert.is(t.shared.size, 0);
});

table('a restored grant keeps its token, and later grants get larger ones', () => {
  const t = new LockTable(100);
  const reserved = Object.assign(new Owner(), { reserved: true });
  assert.ok(t.restore(reserved, 'x', false, 5000, 1, Infinity));
  assert.not.ok(t.restore(new Owner(), 'x', false, 5001, 1, Infinity), 'an exclusive lock restored twice');
  const b = new Owner();
  assert.is(t.get(b, 'x'), 0, 'held, to everyone but its reclaimer');
  assert.is(t.get(b, 'y'), 5001);
  const reclaimer = new Owner();
  const moved = t.transfer(t.exclusive.get('x'), reclaimer);
  assert.equal([moved.token, t.holder('x') === reclaimer, t.heldBy(reserved), t.heldBy(reclaimer)], [5000, true, 0, 1]);
  assert.is(t.transfer(moved, reclaimer), null, 'already its own');
});

table('a shared lock with a reserved holder admits nobody new until it is reclaimed', () => {
  const t = new LockTable();
  const [r1, r2] = [new Owner(), new Owner()].map((o) => Object.assign(o, { reserved: true }));
  t.restore(r1, 'pool', true, 10, 1, 3);
  t.restore(r2, 'pool', true, 11, 1, 3);
  const [a, b, c] = [new Owner(), new Owner(), new Owner()];
  assert.is(t.sharedGet(a, 'pool'), 0, 'not even the old sg');
  assert.is(t.sharedTryGet(a, 'pool', 3), 0, 'not under its maximum either');
  const w = t.enqueue(a, 'pool', true, 3);
  t.transfer(t.shared.get('pool').get(r1), b);
  assert.equal(t.granted, [], 'one reserved holder is left');
  t.transfer(t.shared.get('pool').get(r2), c);
  assert.equal(t.granted, [w], 'every reserved holder is back: the waiter is admitted');
  assert.is(w.count, 3);
});

table('dropping a reserved owner (the grace is over) serves the waiters in order', () => {
  const t = new LockTable();
  const r = Object.assign(new Owner(), { reserved: true });
  t.restore(r, 'x', false, 10, 1, Infinity);
  t.restore(r, 'pool', true, 11, 1, 1);
  const [a, b] = [new Owner(), new Owner()];
  const wx = t.enqueue(a, 'x', false);
  const wp = t.enqueue(b, 'pool', true, 1);
  assert.equal(t.drop(r), { orphans: 1, sharedOrphans: 1 });
  assert.equal(t.granted, [wx, wp]);
  assert.ok(wx.token > 11 && wp.token > wx.token);
});

table.run();

const cli = suite('parseCommandLine');
const SPEC = {
  program: 'tool',
  version: '1.2.3',
  usage: '[options] command',
  command: true,
  options: [
    { flags: '-l, --lock <name>', description: 'lock' },
    { flags: '-n, --nonblock', description: 'no wait' },
    { flags: '-w, --wait [duration]', description: 'wait', isValue: (w) => /^\d+s$/.test(w) },
    { flags: '--auth-token-file <path>', description: 'token' },
  ],
};
const words = (line) => (line === '' ? [] : line.split(' '));
const parsed = (line) => {
  const { options, rest, printed } = parseCommandLine(SPEC, words(line));
  assert.is(printed, false);
  return { options, rest };
};
const refused = (line) => {
  try {
    parseCommandLine(SPEC, words(line));
  } catch (err) {
    assert.instance(err, CliError);
    return err.message;
  }
  assert.unreachable(`"${line}" was accepted`);
};

cli('an option whose name begins another\'s is told apart from it', () => {
  const spec = {
    ...SPEC,
    options: [
      { flags: '--tls', description: 'tls' },
      { flags: '--tls-ca <path>', description: 'ca' },
      { flags: '-c, --tls-cert <path>', description: 'cert' },
    ],
  };
  assert.equal(parseCommandLine(spec, ['--tls-ca', 'a', '--tls', '--tls-cert=b', 'cmd']).options, { tlsCa: 'a', tls: true, tlsCert: 'b' });
  assert.equal(parseCommandLine(spec, ['-cb', 'cmd']).options, { tlsCert: 'b' });
  assert.throws(() => parseCommandLine(spec, ['--tl', 'cmd']), /unknown option --tl/);
  assert.throws(() => parseCommandLine(spec, ['--tls-c', 'x', 'cmd']), /unknown option --tls-c/);
});

cli('values: separate, after =, camelCase keys; options end at the command or at --', () => {
  assert.equal(parsed('-l x --auth-token-file=/t cmd -l y'), { options: { lock: 'x', authTokenFile: '/t' }, rest: ['cmd', '-l', 'y'] });
  assert.equal(parsed('--lock=a=b -- -n'), { options: { lock: 'a=b' }, rest: ['-n'] });
  assert.equal(parsed('-l -dash cmd'), { options: { lock: '-dash' }, rest: ['cmd'] });
  // Values stay the words given: not numbers, not trimmed.
  assert.equal(parsed('-l 007 --auth-token-file 1e3 cmd').options, { lock: '007', authTokenFile: '1e3' });
  assert.equal(parseCommandLine(SPEC, ['-l', '', '--auth-token-file= x ', 'cmd']).options, { lock: '', authTokenFile: ' x ' });
});

cli('short options as getopt reads them: clusters, and values in the same word', () => {
  assert.equal(parsed('-nl x cmd'), { options: { nonblock: true, lock: 'x' }, rest: ['cmd'] });
  assert.equal(parsed('-lx cmd'), { options: { lock: 'x' }, rest: ['cmd'] });
  assert.equal(parsed('-l=x cmd'), { options: { lock: 'x' }, rest: ['cmd'] });
  assert.equal(parsed('-nw5s cmd'), { options: { nonblock: true, wait: '5s' }, rest: ['cmd'] });
  assert.equal(parsed('-ln x'), { options: { lock: 'n' }, rest: ['x'] });
  assert.equal(parsed('-wn cmd').options, { wait: 'n' }, 'an optional value in the same word is taken as it is');
});

cli('an optional value: taken if it is one, or if it comes before an explicit --', () => {
  assert.equal(parsed('-w 5s cmd').options.wait, '5s');
  assert.equal(parsed('-w cmd').options.wait, true);
  assert.equal(parsed('-w cmd').rest, ['cmd']);
  assert.equal(parsed('-w soon -- cmd').options.wait, 'soon');
  assert.equal(parsed('-w -n -- cmd').options, { wait: true, nonblock: true });
});

cli('misuse: unknown, repeated, missing or unwanted values', () => {
  assert.is(refused('--frobnicate'), "unknown option --frobnicate; try 'tool --help'");
  assert.is(refused('-nx'), "unknown option -x; try 'tool --help'");
  assert.is(refused('-l a --lock b cmd'), '--lock may be given only once');
  assert.equal(parsed('-n --nonblock -nn cmd').options, { nonblock: true }, 'a flag may be repeated');
  assert.is(refused('-l'), '--lock needs a value');
  assert.is(refused('-l --'), '--lock needs a value');
  assert.is(refused('--nonblock=yes'), '--nonblock takes no value');
  assert.is(parseCommandLine({ ...SPEC, command: false }, ['-n']).rest.length, 0);
  assert.throws(() => parseCommandLine({ ...SPEC, command: false }, ['-n', 'x']), /unexpected argument "x"; try 'tool --help'/);
});

cli('--help and --version are printed by cac, with -v left free for --verbose', () => {
  // In a child process: cac prints them to stdout itself.
  const url = new URL('../dist/util/command-line.js', import.meta.url).href;
  const spec = { ...SPEC, options: [...SPEC.options, { flags: '-v, --verbose', description: 'verbose' }] };
  const print = (...argv) => execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { parseCommandLine } from ${JSON.stringify(url)}; const r = parseCommandLine(${JSON.stringify(spec)}, ${JSON.stringify(argv)}); if (!r.printed) process.stdout.write(JSON.stringify(r));`], { encoding: 'utf8' });
  const help = print('--help');
  assert.match(help, /^tool\/1\.2\.3\n\nUsage:\n  \$ tool \[options\] command\n\nOptions:\n/);
  assert.match(help, /\n  -w, --wait \[duration\]\s+wait\n/);
  assert.match(help, /\n  -h, --help\s+Display this message\n/);
  assert.match(help, /\n  --version\s+Display version number\n/);
  assert.not.match(help, / \n/, 'no line ends in a space');
  assert.is(print('-nh'), help);
  assert.match(print('--version'), /^tool\/1\.2\.3 /);
  assert.equal(JSON.parse(print('-v', 'cmd')).options, { verbose: true });
});

cli.run();

const more = suite('durations and the table clock');

more('formatDuration: the one short form, up to days', async () => {
  const { formatDuration } = await import('../dist/util/duration.js');
  assert.equal([850, 1200, 185_000, 7_500_000, 273_600_000].map(formatDuration), ['850ms', '1.2s', '3m05s', '2h05m', '3d04h']);
});

more('the lock table stamps grants and waits with its clock, and counts grants and releases', () => {
  let now = 1000;
  const table = new LockTable(1, () => now);
  const [a, b] = [new Owner(), new Owner()];
  const seen = [];
  table.observer = { granted: (held, waited) => seen.push(['granted', held.name, waited]), freed: (held, orphaned) => seen.push(['freed', held.name, orphaned]) };
  table.get(a, 'x');
  now = 1500;
  table.enqueue(b, 'x', false);
  assert.is(table.waiters, 1);
  now = 4000;
  table.release(a, 'x');
  assert.is(table.exclusive.get('x').since, 4000);
  assert.is(table.waiters, 0);
  table.sharedTryGet(a, 'pool', 3);
  assert.is(table.shared.get('pool').get(a).max, 3);
  table.drop(b);
  assert.equal(table.counts, { grantsAtOnce: 2, grantsAfterWait: 1, releases: 1 });
  assert.equal(seen, [['granted', 'x', 0], ['freed', 'x', false], ['granted', 'x', 2500], ['granted', 'pool', 0], ['freed', 'x', true]]);
});

more.run();
