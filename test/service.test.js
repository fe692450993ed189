// contrib/systemd/lockd-server.service, checked by systemd's own verifier.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const unit = fs.readFileSync(path.join(root, 'contrib/systemd/lockd-server.service'), 'utf8');

test('the unit has what the issue asks of it', () => {
  for (const line of [
    'DynamicUser=yes', 'Restart=on-failure', 'StateDirectory=lockd', 'NoNewPrivileges=yes',
    'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'EnvironmentFile=-/etc/default/lockd-server',
  ]) assert.ok(unit.split('\n').includes(line), line);
  const files = Number(/^LimitNOFILE=(\d+)$/m.exec(unit)[1]);
  assert.ok(files >= 10_000 + 32, 'room for the default --max-connections and the server\'s own files');
});

test('systemd-analyze verify: no warning at all', async () => {
  // The verifier checks that ExecStart exists and that Documentation= resolves:
  // point them at this checkout's command and man page.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-unit-'));
  fs.mkdirSync(path.join(dir, 'man/man8'), { recursive: true });
  fs.copyFileSync(path.join(root, 'man/lockd-server.8'), path.join(dir, 'man/man8/lockd-server.8'));
  const file = path.join(dir, 'lockd-server.service');
  fs.writeFileSync(file, unit.replace('ExecStart=/usr/local/bin/lockd-server', `ExecStart=${path.join(root, 'bin/lockd-server')}`));
  const r = await new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', file], { env: { ...process.env, MANPATH: path.join(dir, 'man') } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.is(r.stderr, '');
  assert.is(r.stdout, '');
  assert.is(r.code, 0);
});

test.run();
