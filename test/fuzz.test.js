// A bounded fuzz run: random bytes and random mixes of valid and broken lines
// from many connections. The server stays up, its memory stays bounded, and a
// well-behaved client meanwhile gets correct answers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import net from 'node:net';
import { Raw } from './helpers/raw.js';
import { seeded } from './helpers/random.js';
import { startServerProcess } from './helpers/run.js';

const SECONDS = Number(process.env.LOCKD_FUZZ_SECONDS ?? 3);
const FUZZERS = 8;
const test = suite('fuzz');


const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

test(`${FUZZERS} fuzzing connections for ${SECONDS}s beside a well-behaved client`, async () => {
  const srv = await startServerProcess(['--max-line', '4096', '--line-timeout', '1s']);
  srv.proc = srv;
  const rand = seeded(Number(process.env.LOCKD_FUZZ_SEED ?? 7));
  const words = ['g', 'r', 'i', 'd', 'sg', 'sr', 'si', 'sd', 'q', 'me', 'iam', 'who', 'dump', 'hello', 'ping', 'wg', 'wsg', 'auth', 'x', ''];
  const junk = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const piece = () => {
    const r = rand();
    if (r < 0.3) return junk(1 + Math.floor(rand() * 200));
    if (r < 0.35) return Buffer.alloc(5000, 0x41); // over --max-line
    const w = words[Math.floor(rand() * words.length)];
    const args = [' ', '  ', '\t', ' -1 ', ' 0 ', ' 99999999999 ', ' 2 -1 '][Math.floor(rand() * 7)];
    const name = rand() < 0.5 ? `n${Math.floor(rand() * 5)}` : junk(1 + Math.floor(rand() * 10)).toString('latin1');
    const end = ['\n', '\r\n', '', '\n\n'][Math.floor(rand() * 4)];
    return Buffer.from(`${w}${args}${name}${end}`, 'latin1');
  };
  const deadline = Date.now() + SECONDS * 1000;
  // Fuzzers can wait on each other's locks (a random `wg n1` behind a random
  // `g n2`, both ways) and the server then stops reading them: no 'drain'
  // comes, so every wait also ends at the deadline.
  let timer;
  const over = new Promise((r) => (timer = setTimeout(r, SECONDS * 1000)));
  let sent = 0, reconnects = 0;
  const fuzzer = async () => {
    while (Date.now() < deadline) {
      const socket = net.connect(srv.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.resume(); // read and drop replies
      await new Promise((r) => socket.once('connect', r).once('close', r));
      while (!socket.destroyed && Date.now() < deadline) {
        const chunk = Buffer.concat(Array.from({ length: 1 + Math.floor(rand() * 20) }, piece));
        sent += chunk.length;
        if (!socket.write(chunk)) await Promise.race([over, new Promise((r) => socket.once('drain', r).once('close', r))]);
        await new Promise((r) => setImmediate(r));
      }
      socket.destroy();
      reconnects++;
    }
  };
  const rssBefore = rssKb(srv.child.pid);
  const good = await Raw.open(srv.port);
  const wellBehaved = async () => {
    let cycles = 0;
    while (Date.now() < deadline) {
      const name = `good${cycles % 3}`;
      assert.is(await good.ask(`g ${name}`), `1 Lock Get Success: ${name}`);
      assert.is(await good.ask(`i ${name}`), `1 Lock Is Locked: ${name}`);
      assert.is(await good.ask(`r ${name}`), `1 Lock Release Success: ${name}`);
      cycles++;
    }
    return cycles;
  };
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKb(srv.child.pid))), 100);
  try {
    const [cycles] = await Promise.all([wellBehaved(), ...Array.from({ length: FUZZERS }, fuzzer)]);
    assert.ok(cycles > 50, `the well-behaved client completed ${cycles} cycles`);
    assert.ok(sent > 100_000, `fuzzers sent ${sent} bytes`);
    // Still up and answering.
    const after = await Raw.open(srv.port);
    assert.is(await after.ask('me').then((l) => l.startsWith('1 ')), true);
    const growthMb = (peakRss - rssBefore) / 1024;
    assert.ok(growthMb < 150, `server RSS grew by ${growthMb.toFixed(1)} MB`);
    console.log(`  fuzz: ${(sent / 1e6).toFixed(1)} MB sent over ${reconnects} connections; well-behaved client ${cycles} cycles; server RSS +${growthMb.toFixed(1)} MB`);
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
    srv.child.kill();
    await srv.exited;
  }
  assert.is(srv.stderr.includes('internal error'), false, srv.stderr);
});

test.run();
