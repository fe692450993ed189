// Feature switches: --disable-dump, --disable-registry.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { start } from './helpers/server.js';
import { Raw } from './helpers/raw.js';

const test = suite('features');

async function with_(options, fn) {
  const server = await start(options);
  try {
    const c = await Raw.open(server.tcp.port);
    await fn(c);
  } finally {
    await server.destroy();
  }
}

test('dump off: d, sd, dump, dump shared, who answer 0 disabled; locks still work', () =>
  with_({ disableDump: true }, async (c) => {
    assert.is(await c.ask('g x'), '1 Lock Get Success: x');
    for (const cmd of ['d', 'd x', 'sd', 'sd x', 'dump', 'dump shared', 'who', 'who x']) {
      assert.is(await c.ask(cmd), '0 disabled', cmd);
    }
    assert.is(await c.ask('iam n'), '1 ok');
    assert.is(await c.ask('me'), `1 ${c.address} n`);
    assert.is(await c.ask('i x'), '1 Lock Is Locked: x');
  }));

test('registry off: iam answers 0 disabled, me still works with NAME = ADDRESS, who disabled', () =>
  with_({ disableRegistry: true }, async (c) => {
    assert.is(await c.ask('iam someone'), '0 disabled');
    assert.is(await c.ask('me'), `1 ${c.address} ${c.address}`);
    assert.is(await c.ask('who'), '0 disabled');
    await c.ask('g x');
    assert.equal(await c.askAll('d x'), [`x: ${c.address}`]);
  }));

test('both off', () =>
  with_({ disableDump: true, disableRegistry: true }, async (c) => {
    assert.is(await c.ask('iam someone'), '0 disabled');
    assert.is(await c.ask('who'), '0 disabled');
    assert.is(await c.ask('d'), '0 disabled');
  }));

test('disabled commands are still counted', () =>
  with_({ disableDump: true, disableRegistry: true }, async (c) => {
    await c.ask('d');
    await c.ask('iam x');
    const q = await c.askAll('q');
    assert.ok(q.includes('command_d: 1'));
    assert.ok(q.includes('command_iam: 1'));
  }));

test.run();
