import fs from 'node:fs';
import path from 'node:path';
import { parseHandOver, type HandOver } from './handover.js';

// The state file of a planned restart, in --state-dir: written atomically at
// shutdown, taken (read, then removed) at the next start, so that no later
// start reuses it.

const FILE = 'lockd-state.json';

/** Makes sure the state directory exists and can take the file, so that a shutdown does not find out too late. */
export function checkStateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
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

export type Taken =
  | { kind: 'none' }
  | { kind: 'state'; state: HandOver; consume: () => void }
  /** Unreadable as a state file: set aside as FILE.bad for a look, not used. */
  | { kind: 'bad'; why: string; setAside: string };

/**
 * Reads the state file left by a planned shutdown, if any. The caller calls
 * consume() once it serves clients: a start that failed before (its port in
 * use, say) leaves the file for the next one.
 */
export function readStateFile(dir: string): Taken {
  const file = path.join(dir, FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw err;
  }
  const state = parseHandOver(text);
  if (typeof state === 'string') {
    const setAside = `${file}.bad`;
    fs.renameSync(file, setAside);
    syncDir(dir);
    return { kind: 'bad', why: state, setAside };
  }
  return {
    kind: 'state',
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
