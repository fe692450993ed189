// Test doubles of the old servers: the classic commands only, no reply to
// unknown commands, no end marker on multi-line replies.
//
// kind 'node' is like the original Node lockd: it reads lines as a stream
// (pipelining works), ends every reply with "\n", ignores empty lines and
// counts a line of only spaces as an unknown command.
//
// kind 'glockd' is like glockd as it really behaves (docs/protocol.md,
// "Against an old server"):
// - each request is read by a fresh 4096-byte reader that acts on the first
//   line of what one read returned and drops the rest of it; a line longer
//   than the buffer is cut there, and its rest is read as the next request;
// - `g`, `sg`, `si`, `sr`, and `i` asked by a non-holder end with "\r\n";
// - `dump` prints Go maps: map[job:ADDR] and map[pool:[ADDR ADDR]];
// - with the registry off it never answers `me`, `d`, `sd` or `dump`, and
//   the connection is stuck on that request for good;
// - names are folded: runs of white space (a no-break space included)
//   become one space;
// - the command word ends at the first space (`g\tx` is unknown), and a
//   line left empty by trimming is an unknown command too;
// - `q` shows the counts from before the `q` it answers.
import net from 'node:net';
import { once } from 'node:events';

const GLOCKD_READ = 4096;
// Go's unicode.IsSpace, which strings.Fields and TrimSpace use.
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

/**
 * @param {{ kind?: 'node' | 'glockd', registry?: boolean, blankLines?: boolean }} [options]
 *   blankLines: put an empty line after every line of a multi-line reply.
 */
export async function startOldServer({ kind = 'node', registry = true, blankLines = false } = {}) {
  const glockd = kind === 'glockd';
  const ex = new Map(); // name → holder address
  const sh = new Map(); // name → Set of holder addresses, in join order
  const names = new Map(); // address → registered name, oldest first
  const counts = new Map([['invalid_commands', 0]]);
  const sockets = new Set();
  let dropped = 0; // glockd: request lines lost because they came in the same read as another
  const bump = (key) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const label = (address) => names.get(address) ?? address;
  const CRLF = glockd ? '\r\n' : '\n';

  const server = net.createServer((socket) => {
    sockets.add(socket);
    const me = socket.remoteAddress.startsWith('::ffff:')
      ? `${socket.remoteAddress.slice(7)}:${socket.remotePort}`
      : `${socket.remoteAddress}:${socket.remotePort}`;
    let input = Buffer.alloc(0);
    let stuck = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      for (const [k, v] of ex) if (v === me) ex.delete(k);
      for (const [k, v] of sh) {
        v.delete(me);
        if (v.size === 0) sh.delete(k);
      }
      names.delete(me);
    });
    socket.on('data', (chunk) => {
      input = Buffer.concat([input, chunk]);
      return glockd ? readLikeGlockd() : readLines();
    });

    function readLines() {
      let nl;
      while ((nl = input.indexOf(0x0a)) >= 0) {
        const line = input.subarray(0, nl).toString('utf8');
        input = input.subarray(nl + 1);
        const reply = run(line);
        if (reply) socket.write(reply);
      }
    }

    // Everything received so far is what one read would return, up to 4096 bytes.
    function readLikeGlockd() {
      while (!stuck && input.length > 0) {
        const read = input.subarray(0, GLOCKD_READ);
        const nl = read.indexOf(0x0a);
        if (nl < 0 && read.length < GLOCKD_READ) return; // the reader waits for more
        const line = read.subarray(0, nl < 0 ? GLOCKD_READ : nl).toString('utf8');
        input = input.subarray(read.length); // the rest of the read is dropped
        if (nl >= 0) dropped += read.subarray(nl + 1).toString('latin1').split('\n').filter((l) => l.trim()).length;
        const reply = run(line);
        if (reply === null) stuck = true;
        else if (reply) socket.write(reply);
      }
    }

    /** The reply to one line: '' for none, null when glockd would block on it for ever. */
    function run(raw) {
      let cmd, name;
      if (glockd) {
        const line = raw.replace(/^[\s\u0085]+|[\s\u0085]+$/g, '');
        const i = line.indexOf(' ');
        cmd = i < 0 ? line : line.slice(0, i);
        name = i < 0 ? '' : line.slice(i + 1).split(GO_SPACE).filter(Boolean).join(' ');
      } else {
        if (raw === '' || raw === '\r') return ''; // an empty line: ignored, not counted
        const line = raw.trim();
        const i = line.indexOf(' ');
        cmd = i < 0 ? line : line.slice(0, i);
        name = i < 0 ? '' : line.slice(i + 1).trim();
      }
      const answer = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
      if (!answer) {
        bump('invalid_commands');
        return '';
      }
      const q = cmd === 'q' ? stats() : null; // counted after, as both old servers do
      bump(`command_${cmd}`);
      if (q !== null) return q;
      const reply = answer(name);
      if (reply === null || !blankLines || !MULTI.has(cmd)) return reply;
      return reply.replace(/\n/g, '\n\n');
    }

    const COMMANDS = {
      g(name) {
        if (ex.get(name) === me) return `1 Lock Get Success: ${name}\n`;
        if (ex.has(name)) return `0 Lock Get Failure: ${name}${CRLF}`;
        ex.set(name, me);
        return `1 Lock Get Success: ${name}${CRLF}`;
      },
      r(name) {
        if (ex.get(name) !== me) return `0 Lock Release Failure: ${name}\n`;
        ex.delete(name);
        return `1 Lock Release Success: ${name}\n`;
      },
      i(name) {
        if (ex.get(name) === me) return `1 Lock Is Locked: ${name}\n`;
        return ex.has(name) ? `1 Lock Is Locked: ${name}${CRLF}` : `0 Lock Not Locked: ${name}${CRLF}`;
      },
      d(name) {
        if (glockd && !registry && ex.size > 0) return null;
        return [...ex].filter(([k]) => name === '' || k === name).map(([k, v]) => `${k}: ${label(v)}\n`).join('');
      },
      sg(name) {
        if (!sh.has(name)) sh.set(name, new Set());
        sh.get(name).add(me);
        return `${sh.get(name).size} Shared Lock Get Success: ${name}${CRLF}`;
      },
      sr(name) {
        if (!sh.get(name)?.delete(me)) return `0 Shared Lock Release Failure: ${name}${CRLF}`;
        if (sh.get(name).size === 0) sh.delete(name);
        return `1 Shared Lock Release Success: ${name}${CRLF}`;
      },
      si(name) {
        const n = sh.get(name)?.size ?? 0;
        return n > 0 ? `${n} Shared Lock Is Locked: ${name}${CRLF}` : `0 Shared Lock Not Locked: ${name}${CRLF}`;
      },
      sd(name) {
        if (glockd && !registry && sh.size > 0) return null;
        return [...sh].filter(([k]) => name === '' || k === name)
          .flatMap(([k, v]) => [...v].map((h) => `${k}: ${label(h)}\n`)).join('');
      },
      dump(name) {
        if (!glockd) {
          return `${JSON.stringify(name === 'shared'
            ? Object.fromEntries([...sh].map(([k, v]) => [k, [...v].map(label)]))
            : Object.fromEntries([...ex].map(([k, v]) => [k, label(v)])))}\n`;
        }
        if (!registry) return null;
        // Go prints a map with its keys sorted; glockd shows addresses here, not names.
        const keys = [...(name === 'shared' ? sh : ex).keys()].sort();
        const show = (k) => (name === 'shared' ? `[${[...sh.get(k)].join(' ')}]` : ex.get(k));
        return `map[${keys.map((k) => `${k}:${show(k)}`).join(' ')}]\n`;
      },
      me() {
        if (glockd && !registry) return null;
        return `1 ${me} ${label(me)}\n`;
      },
      iam(name) {
        if (!registry) return '0 disabled\n';
        names.delete(me);
        if (name) names.set(me, name);
        return '1 ok\n';
      },
      who(name) {
        if (!registry) return '0 disabled\n';
        return [...names].filter(([, n]) => name === '' || n === name).map(([a, n]) => `${a}: ${n}\n`).join('');
      },
      q: () => '',
    };
  });

  function stats() {
    const rows = new Map([
      ...['d', 'dump', 'g', 'i', 'q', 'r', 'sd', 'sg', 'si', 'sr'].map((c) => [`command_${c}`, 0]),
      ...counts,
      ['connections', sockets.size],
      ['locks', ex.size],
      ['orphans', 0],
      ['shared_locks', sh.size],
      ['shared_orphans', 0],
    ]);
    return [...rows.keys()].sort().map((k) => `${k}: ${rows.get(k)}\n`).join('');
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    /** The server's counters, read in this process. */
    count: (key) => counts.get(key) ?? 0,
    get dropped() {
      return dropped;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const MULTI = new Set(['d', 'sd', 'who', 'q']);
