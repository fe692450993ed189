// A real three-member etcd cluster on loopback ports of its own, in a temporary
// directory: Debian's etcd-server (etcd 3.4).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from './ports.js';

/**
 * Starts the members and resolves once the cluster has a leader and answers.
 * The result: { endpoints: 'etcd://127.0.0.1:P,...', members: [{ name, clientPort, proc }], stop(i), start(i), leader(), close() }.
 * With tls: { certFile, keyFile }, each member also serves clients over TLS,
 * at tlsEndpoints ('etcds://...'); this helper keeps to the plain ports.
 */
export async function startEtcdCluster({ size = 3, tls = null } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockd-etcd-'));
  const ports = await freePorts(size * 3);
  const members = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    clientPort: ports[3 * i],
    peerPort: ports[3 * i + 1],
    tlsPort: ports[3 * i + 2],
    proc: null,
  }));
  const clientUrls = (m) => [`http://127.0.0.1:${m.clientPort}`, ...(tls ? [`https://127.0.0.1:${m.tlsPort}`] : [])].join(',');
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  const args = (m, state) => [
    '--name', m.name,
    '--data-dir', path.join(dir, m.name),
    '--listen-client-urls', clientUrls(m),
    '--advertise-client-urls', clientUrls(m),
    ...(tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile] : []),
    '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-cluster', initial,
    '--initial-cluster-state', state,
    '--initial-cluster-token', path.basename(dir),
    // Loopback: short heartbeats, so that elections take a second, not ten.
    '--heartbeat-interval', '50',
    '--election-timeout', '500',
    '--logger', 'zap',
    '--log-outputs', path.join(dir, `${m.name}.log`),
  ];
  const launch = (m, state) => {
    m.proc = spawn('etcd', args(m, state), { stdio: 'ignore' });
    m.exited = once(m.proc, 'exit');
  };
  for (const m of members) launch(m, 'new');
  const cluster = {
    dir,
    members,
    endpoints: `etcd://${members.map((m) => `127.0.0.1:${m.clientPort}`).join(',')}`,
    tlsEndpoints: tls ? `etcds://${members.map((m) => `127.0.0.1:${m.tlsPort}`).join(',')}` : null,
    /** Kills member i (SIGKILL: a host that dies). */
    async stop(i, signal = 'SIGKILL') {
      const m = members[i];
      if (!m.proc) return;
      m.proc.kill(signal);
      await m.exited;
      m.proc = null;
    },
    /** Starts member i again, with its data. */
    async start(i) {
      launch(members[i], 'existing');
      await cluster.healthy(i);
    },
    /** Resolves once member i says it is healthy (it has a leader and answers reads). */
    async healthy(i, limitMs = 20_000) {
      const started = Date.now();
      for (;;) {
        try {
          const r = await fetch(`http://127.0.0.1:${members[i].clientPort}/health`);
          if (r.ok && (await r.json()).health === 'true') return;
        } catch {
          // not up yet
        }
        if (Date.now() - started > limitMs) throw new Error(`etcd member ${members[i].name} not healthy after ${limitMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** The index of the leader, asked of a live member. */
    async leader() {
      for (const [i, m] of members.entries()) {
        if (!m.proc) continue;
        const status = await (await fetch(`http://127.0.0.1:${m.clientPort}/v3/maintenance/status`, { method: 'POST', body: '{}' })).json();
        const leaderId = status.leader;
        for (const [j, other] of members.entries()) {
          if (!other.proc) continue;
          const s = await (await fetch(`http://127.0.0.1:${other.clientPort}/v3/maintenance/status`, { method: 'POST', body: '{}' })).json();
          if (s.header.member_id === leaderId) return j;
        }
        return i;
      }
      throw new Error('no live member');
    },
    /** How many keys start with prefix, read through a live member's JSON gateway. */
    async count(prefix) {
      const m = members.find((x) => x.proc);
      const key = Buffer.from(prefix).toString('base64');
      // range_end: the prefix with its last byte plus one, as etcdctl --prefix.
      const end = Buffer.from(prefix);
      end[end.length - 1]++;
      const body = JSON.stringify({ key, range_end: end.toString('base64'), count_only: true });
      const r = await (await fetch(`http://127.0.0.1:${m.clientPort}/v3/kv/range`, { method: 'POST', body })).json();
      return Number(r.count ?? 0);
    },
    async close() {
      await Promise.all(members.map((_, i) => cluster.stop(i)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((_, i) => cluster.healthy(i)));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
