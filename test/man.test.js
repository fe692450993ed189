// The man pages against the tools: same options as --help, every exit status, and clean rendering.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../dist/util/exit-codes.js';

const test = suite('man pages');
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const TOOLS = [
  {
    name: 'lockd-run',
    bin: here('../bin/lockd-run'),
    page: here('../man/lockd-run.1'),
    exits: [
      EXIT.USAGE, EXIT.SOFTWARE, EXIT.UNAVAILABLE, EXIT.NOPERM, EXIT.CONFIG,
      EXIT.LOST, EXIT.BUSY, EXIT.CANNOT_EXECUTE, EXIT.NOT_FOUND,
    ],
  },
  {
    name: 'lockd-ctl',
    bin: here('../bin/lockd-ctl'),
    page: here('../man/lockd-ctl.1'),
    exits: [1, EXIT.USAGE, EXIT.UNAVAILABLE, EXIT.NOPERM, EXIT.CONFIG],
    // Each command's --help shows its own options with the global ones.
    subcommands: ['list', 'show', 'check', 'clients', 'stats'],
  },
  {
    name: 'lockd-server',
    bin: here('../bin/lockd-server'),
    page: here('../man/lockd-server.8'),
    exits: [EXIT.USAGE, EXIT.SOFTWARE, EXIT.OSERR, EXIT.CONFIG],
  },
];

function run(file, args, env = process.env) {
  return new Promise((resolve) => {
    execFile(file, args, { env }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}

/** Long options (--name) in text; `(?![a-z-])` keeps --max from matching inside --max-line. */
function longOptions(text) {
  return new Set(text.match(/--[a-z][a-z-]+(?![a-z-])/g) ?? []);
}

/** The option lines of --help: from "Options:" to the next blank line. */
function helpOptionLines(help) {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => /^Options:\s*$/.test(l));
  assert.ok(start >= 0, 'no "Options:" section in --help');
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Roff source with the escapes that can sit inside an option name removed: \- is -, \% and \& are nothing. */
function plain(roff) {
  return roff.replace(/\\-/g, '-').replace(/\\[%&]/g, '');
}

/** The lines of one .SH section, up to the next .SH. */
function section(roff, title) {
  const lines = roff.split('\n');
  const start = lines.findIndex((l) => l.replace(/"/g, '').trim() === `.SH ${title}`);
  assert.ok(start >= 0, `no .SH ${title} section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH'));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

test('every exit status in src/util/exit-codes.ts belongs to a tool', () => {
  const listed = new Set(TOOLS.flatMap((t) => t.exits));
  for (const [key, code] of Object.entries(EXIT)) {
    if (key === 'OK' || key === 'SIGNAL_BASE') continue;
    assert.ok(listed.has(code), `EXIT.${key} (${code}) is not assigned to lockd-run or lockd-server in this test`);
  }
});

for (const tool of TOOLS) {
  test(`${tool.name}: --help and the man page list the same long options`, async () => {
    const inHelp = new Set();
    for (const args of [['--help'], ...(tool.subcommands ?? []).map((sub) => [sub, '--help'])]) {
      const help = await run(tool.bin, args);
      assert.is(help.code, 0);
      for (const opt of longOptions(helpOptionLines(help.stdout))) inHelp.add(opt);
    }
    assert.ok(inHelp.size > 3, `too few options found in ${tool.name} --help`);
    const roff = plain(fs.readFileSync(tool.page, 'utf8'));
    const inPage = longOptions(roff);
    for (const opt of inHelp) assert.ok(inPage.has(opt), `${opt} is in ${tool.name} --help but not in its man page`);
    for (const opt of longOptions(section(roff, 'OPTIONS'))) {
      assert.ok(inHelp.has(opt), `${opt} is in the OPTIONS of ${tool.name}'s man page but not in its --help`);
    }
  });

  test(`${tool.name}: the man page's EXIT STATUS lists every status of the tool`, () => {
    const exits = section(fs.readFileSync(tool.page, 'utf8'), 'EXIT STATUS');
    for (const code of tool.exits) {
      assert.match(exits, new RegExp(`(^|[^0-9])${code}([^0-9]|$)`), `exit status ${code} missing`);
    }
  });
}

test('man renders every page without warnings', async () => {
  const man = await run('man', ['--version']);
  if (man.code !== 0) {
    console.log('  (man is not installed: skipping the man page rendering check)');
    return;
  }
  const groff = await run('groff', ['--version']);
  const env = { ...process.env, MANWIDTH: '80' };
  for (const tool of TOOLS) {
    const checks = [
      ['man', ['-l', '-Tutf8', tool.page]],
      ['man', ['--warnings', '-l', tool.page]],
    ];
    if (groff.code === 0) checks.push(['groff', ['-man', '-ww', '-z', tool.page]]);
    for (const [cmd, args] of checks) {
      const r = await run(cmd, args, env);
      const what = `${cmd} ${args.join(' ')}`;
      assert.is(r.code, 0, `${what} failed: ${r.stderr}`);
      assert.is(r.stderr, '', `${what} warned`);
      if (cmd === 'man') assert.ok(r.stdout.includes(tool.name.toUpperCase()), `${what} printed no page`);
    }
  }
});

test.run();
