// Throwaway certificates made with openssl, for the TLS tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Why TLS tests cannot run here, or null. */
export function opensslMissing() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'openssl not installed';
  }
}

/**
 * A throwaway CA, a server certificate for 127.0.0.1 and a client
 * certificate, in a temporary directory: { ca, cert, key, clientCert,
 * clientKey } as PEM buffers, f(name) for their paths, remove().
 */
export function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-tls-'));
  const f = (name) => path.join(dir, name);
  const ssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=lockd test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  for (const [who, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], ['client', 'extendedKeyUsage=clientAuth']]) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=lockd ${who}`, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`));
    fs.writeFileSync(f(`${who}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f(`${who}.ext`), '-out', f(`${who}.pem`));
  }
  const read = (name) => fs.readFileSync(f(name));
  return {
    ca: read('ca.pem'), cert: read('server.pem'), key: read('server.key'), clientCert: read('client.pem'), clientKey: read('client.key'),
    f,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
