import fs from 'node:fs';
import path from 'node:path';
import type { HandOver } from './handover.js';

// The state file of a planned restart, in --state-dir: written atomically at
// shutdown, taken (read, checked, then removed) at the next start, so that no
// later start reuses it.

const FILE = 'lockd-state.json';

/** The state directory or its file cannot be used: the server does not start. */
export class StateDirError extends Error {}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  ENOENT: 'no such directory',
};

/** Makes sure the state directory exists and can take the file, so that a shutdown does not find out too late. */
export function checkStateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StateDirError(`cannot use the state directory ${dir}: ${REASONS[e.code ?? ''] ?? e.message}`);
  }
}

/** Writes, fsyncs and renames into place, then fsyncs the directory: after a crash there is the old file or the new, never half of one. */
export function writeStateFile(dir: string, state: HandOver): void {
  const file = path.join(dir, FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, JSON.stringify(state));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(dir);
}

type Taken = { state: HandOver; consume: () => void } | null;

/**
 * Reads the state file left by a planned shutdown, if any. The caller calls
 * consume() once it serves clients: a start that failed before (its port in
 * use, say) leaves the file for the next one. A file that cannot be read is
 * a StateDirError: starting without the locks it lists could grant them to
 * others while their holders still run.
 */
export function readStateFile(dir: string): Taken {
  const file = path.join(dir, FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    throw new StateDirError(`cannot read the state file ${file}: ${REASONS[e.code ?? ''] ?? e.message}`);
  }
  const state = parseHandOver(text);
  if (typeof state === 'string') {
    throw new StateDirError(`the state file ${file} is unusable (${state}); the locks it lists may still be held by running jobs: move it away to start without them`);
  }
  return {
    state,
    consume: () => {
      fs.rmSync(file, { force: true });
      syncDir(dir);
    },
  };
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A state file's contents, checked field by field: the HandOver, or why it is not one. */
function parseHandOver(text: string): HandOver | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const o = v as HandOver;
  if (!isObject(o) || o.lockd !== 'state') return 'not a lockd state file';
  if (o.version !== 1) return `version ${String(o.version)}, this lockd-server reads version 1`;
  if (!isWhole(o.written) || !isWhole(o.grace) || !Array.isArray(o.holders)) return 'written, grace or holders missing';
  for (const h of o.holders) {
    if (!isObject(h) || typeof h.label !== 'string' || typeof h.address !== 'string' || !/^[0-9a-f]{64}$/.test(String(h.keyDigest)) || !Array.isArray(h.locks)) {
      return 'a holder without label, address, key or locks';
    }
    for (const l of h.locks) {
      const ok = isObject(l) && typeof l.name === 'string' && typeof l.shared === 'boolean' && isWhole(l.token) && l.token > 0
        && isWhole(l.since) && (l.max === null || (isWhole(l.max) && l.max > 0));
      if (!ok) return 'a lock without name, mode, token, time or maximum';
    }
  }
  return o;
}

function isObject(v: unknown): v is Record<string, never> {
  return typeof v === 'object' && v !== null;
}

function isWhole(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}
