// A randomized model test: many clients doing random get/release/inspect/
// shared/max/wait/disconnect against a real server, every answer checked
// against a simple model of the lock table kept here. Seeded and bounded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { start, until, statsOf } from './helpers/server.js';
import { Raw } from './helpers/raw.js';
import { seeded } from './helpers/random.js';

const SEED = Number(process.env.LOCKD_MODEL_SEED ?? 20261123);
const OPS = Number(process.env.LOCKD_MODEL_OPS ?? 2500);
const TIME_LIMIT_MS = 15_000;
const CLIENTS = 6;
const NAMES = ['a', 'b', 'c'];


const test = suite('model');

test(`random operations from ${CLIENTS} clients match the model (seed ${SEED}, ${OPS} ops)`, async () => {
  const rand = seeded(SEED);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const server = await start();
  const port = server.tcp.port;

  // ---- the model ----
  const ex = new Map(); // name -> client
  const sh = new Map(); // name -> clients, in arrival order
  const exQ = new Map(); // name -> waiting clients
  const shQ = new Map(); // name -> [{ c, max }]
  const counts = { g: 0, r: 0, i: 0, sg: 0, sr: 0, si: 0, q: 0 };
  let orphans = 0, sharedOrphans = 0, invalid = 0, lastToken = 0;
  const clients = [];
  const expectedGrants = []; // [client, predicate] to read after the operation that caused them

  const open = async () => {
    const c = await Raw.openExt(port);
    c.blocked = false;
    c.id = `${c.socket.localPort}`;
    c.sharedHeld = []; // its shared locks, in the order it got them
    return c;
  };
  for (let i = 0; i < CLIENTS; i++) clients.push(await open());

  const holders = (name) => sh.get(name) ?? [];
  const grantShared = (c, name) => {
    if (!sh.has(name)) sh.set(name, []);
    sh.get(name).push(c);
    c.sharedHeld.push(name);
    return sh.get(name).length;
  };
  const admit = (name) => {
    const q = shQ.get(name) ?? [];
    while (q.length && holders(name).length < q[0].max) {
      const { c } = q.shift();
      const n = grantShared(c, name);
      c.blocked = false;
      expectedGrants.push([c, new RegExp(`^${n} (\\d+) Shared Lock Get Success: ${name}$`), `sh:${name}:${c.id}`]);
    }
  };
  const handOver = (name) => {
    ex.delete(name);
    const q = exQ.get(name) ?? [];
    if (q.length) {
      const c = q.shift();
      ex.set(name, c);
      c.blocked = false;
      expectedGrants.push([c, new RegExp(`^1 (\\d+) Lock Get Success: ${name}$`), `ex:${name}:${c.id}`]);
    }
  };
  const checkGrants = async () => {
    // One operation may grant several waiters (a disconnect frees many
    // locks): each gets a new token, larger than any before the operation,
    // in whatever order the server freed them.
    const before = lastToken;
    let highest = lastToken;
    const seen = new Set();
    for (const [c, re, key] of expectedGrants.splice(0)) {
      const [line] = await c.read(1);
      const m = re.exec(line);
      assert.ok(m, `waiter expected ${re}, got ${line}`);
      const t = Number(m[1]);
      assert.ok(t > before && !seen.has(t), `token ${t} after ${before}`);
      seen.add(t);
      tokens.set(key, t);
      highest = Math.max(highest, t);
    }
    lastToken = highest;
  };
  // Fencing tokens: every new grant's is larger than all before it; asking
  // again for a lock already held returns the token of that grant.
  const tokens = new Map(); // `${ex|sh}:${name}:${client id}` -> token
  const checkToken = (t, key) => {
    if (key && tokens.has(key)) {
      const known = tokens.get(key);
      // null: granted by plain g/sg, whose replies show no token.
      if (known === null) tokens.set(key, Number(t));
      else assert.is(Number(t), known, `re-grant of ${key} keeps its token`);
      return;
    }
    assert.ok(Number(t) > lastToken, `token ${t} after ${lastToken}`);
    lastToken = Number(t);
    if (key) tokens.set(key, Number(t));
  };
  const expectLine = async (c, request, expected) => {
    const reply = await c.ask(request);
    if (expected instanceof RegExp) {
      const m = expected.exec(reply);
      assert.ok(m, `${request}: expected ${expected}, got ${reply}`);
      return m;
    }
    assert.is(reply, expected, request);
    return null;
  };

  const ops = {
    async g(c, name) {
      counts.g++;
      const free = !ex.has(name) || ex.get(name) === c;
      if (free && ex.get(name) !== c) tokens.set(`ex:${name}:${c.id}`, null);
      if (free) ex.set(name, c);
      await expectLine(c, `g ${name}`, `${free ? 1 : 0} Lock ${free ? 'Get Success' : 'Get Failure'}: ${name}`);
    },
    async r(c, name) {
      counts.r++;
      const mine = ex.get(name) === c;
      await expectLine(c, `r ${name}`, `${mine ? 1 : 0} Lock Release ${mine ? 'Success' : 'Failure'}: ${name}`);
      if (mine) {
        tokens.delete(`ex:${name}:${c.id}`);
        handOver(name);
      }
    },
    async i(c, name) {
      counts.i++;
      await expectLine(c, `i ${name}`, ex.has(name) ? `1 Lock Is Locked: ${name}` : `0 Lock Not Locked: ${name}`);
    },
    async sg(c, name) {
      counts.sg++;
      if (!holders(name).includes(c)) tokens.set(`sh:${name}:${c.id}`, null);
      const n = holders(name).includes(c) ? holders(name).length : grantShared(c, name);
      await expectLine(c, `sg ${name}`, `${n} Shared Lock Get Success: ${name}`);
    },
    async sr(c, name) {
      counts.sr++;
      const list = holders(name);
      const mine = list.includes(c);
      if (mine) {
        tokens.delete(`sh:${name}:${c.id}`);
        list.splice(list.indexOf(c), 1);
        c.sharedHeld.splice(c.sharedHeld.indexOf(name), 1);
        if (!list.length) sh.delete(name);
      }
      await expectLine(c, `sr ${name}`, `${mine ? 1 : 0} Shared Lock Release ${mine ? 'Success' : 'Failure'}: ${name}`);
      if (mine) admit(name);
    },
    async si(c, name) {
      counts.si++;
      const n = holders(name).length;
      await expectLine(c, `si ${name}`, n ? `${n} Shared Lock Is Locked: ${name}` : `0 Shared Lock Not Locked: ${name}`);
    },
    async wg(c, name) {
      const wait = rand() < 0.7;
      if (!ex.has(name) || ex.get(name) === c) {
        ex.set(name, c);
        checkToken((await expectLine(c, `wg ${wait ? -1 : 0} ${name}`, new RegExp(`^1 (\\d+) Lock Get Success: ${name}$`)))[1], `ex:${name}:${c.id}`);
      } else if (!wait) {
        await expectLine(c, `wg 0 ${name}`, `0 Lock Get Failure: ${name}`);
      } else {
        c.send(`wg -1 ${name}\n`);
        c.blocked = true;
        if (!exQ.has(name)) exQ.set(name, []);
        exQ.get(name).push(c);
      }
    },
    async wsg(c, name) {
      const wait = rand() < 0.7;
      const max = 1 + Math.floor(rand() * 3);
      const list = holders(name);
      const queued = (shQ.get(name) ?? []).length > 0;
      if (list.includes(c) || (!queued && list.length < max)) {
        const n = list.includes(c) ? list.length : grantShared(c, name);
        checkToken((await expectLine(c, `wsg ${max} ${wait ? -1 : 0} ${name}`, new RegExp(`^${n} (\\d+) Shared Lock Get Success: ${name}$`)))[1], `sh:${name}:${c.id}`);
      } else if (!wait) {
        await expectLine(c, `wsg ${max} 0 ${name}`, `0 Shared Lock Get Failure: ${name}`);
      } else {
        c.send(`wsg ${max} -1 ${name}\n`);
        c.blocked = true;
        if (!shQ.has(name)) shQ.set(name, []);
        shQ.get(name).push({ c, max });
      }
    },
    async bogus(c) {
      invalid++;
      await expectLine(c, 'frobnicate x', '0 Unknown command: frobnicate');
    },
    async disconnect(c) {
      // The server drops the waiter first, then exclusive locks, then shared
      // ones, each in the order it got them (which decides the dumps' order).
      for (const q of exQ.values()) if (q.includes(c)) q.splice(q.indexOf(c), 1);
      for (const [name, q] of shQ) {
        const at = q.findIndex((w) => w.c === c);
        if (at >= 0) {
          q.splice(at, 1);
          admit(name);
        }
      }
      for (const [name, holder] of [...ex]) {
        if (holder === c) {
          orphans++;
          handOver(name);
        }
      }
      for (const name of c.sharedHeld) {
        const list = sh.get(name);
        sharedOrphans++;
        list.splice(list.indexOf(c), 1);
        if (!list.length) sh.delete(name);
        admit(name);
      }
      c.sharedHeld = [];
      const idx = clients.indexOf(c);
      const expectedConnections = clients.length;
      await (rand() < 0.5 ? c.end() : c.reset());
      clients[idx] = await open();
      // Wait until the server has seen the close (counted `q`s are in the model).
      await until(async () => {
        counts.q++;
        return statsOf(await clients[idx].askAll('q')).connections === expectedConnections;
      }, 'the disconnect to be processed');
    },
    async q(c) {
      counts.q++;
      const s = statsOf(await c.askAll('q'));
      const expected = {
        command_d: 0, command_dump: 0, command_g: counts.g, command_i: counts.i, command_q: counts.q - 1,
        command_r: counts.r, command_sd: 0, command_sg: counts.sg, command_si: counts.si, command_sr: counts.sr,
        connections: clients.length, invalid_commands: invalid, locks: ex.size, orphans,
        shared_locks: sh.size, shared_orphans: sharedOrphans,
      };
      assert.equal(s, expected, 'stats equal the model');
    },
  };

  const weights = [['g', 12], ['r', 10], ['i', 5], ['sg', 8], ['sr', 8], ['si', 4], ['wg', 8], ['wsg', 8], ['bogus', 1], ['disconnect', 2], ['q', 2]];
  const bag = weights.flatMap(([op, w]) => Array(w).fill(op));
  const started = Date.now();
  let done = 0;
  for (; done < OPS && Date.now() - started < TIME_LIMIT_MS; done++) {
    const free = clients.filter((c) => !c.blocked);
    const op = pick(bag);
    // Everyone waiting: somebody must release or leave.
    const c = free.length ? pick(free) : pick(clients);
    if (c.blocked) await ops.disconnect(c);
    else await ops[op](c, pick(NAMES));
    await checkGrants();
  }
  assert.ok(done >= Math.min(OPS, 500), `ran ${done} operations`);
  // Every waiter is either still queued in the model or was answered: none forgotten.
  for (const c of clients) if (c.blocked) await ops.disconnect(c);
  await checkGrants();
  const checker = clients.find((c) => !c.blocked);
  await ops.q(checker);
  // The tables themselves, holder by holder.
  const exDump = JSON.parse(await checker.ask('dump'));
  assert.equal(exDump, Object.fromEntries([...ex].map(([n, c]) => [n, `127.0.0.1:${c.id}`])));
  assert.equal(Object.keys(exDump), [...ex.keys()], 'the dump lists the locks in the same order');
  const shDump = JSON.parse(await checker.ask('dump shared'));
  assert.equal(shDump, Object.fromEntries([...sh].map(([n, list]) => [n, list.map((c) => `127.0.0.1:${c.id}`)])));
  assert.equal(Object.keys(shDump), [...sh.keys()], 'the dump lists the locks in the same order');
  await server.destroy();
});

test.run();
