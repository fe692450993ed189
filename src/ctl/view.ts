import type { Client } from '../client/client.js';
import { LockdError } from '../client/errors.js';

// What lockd-ctl shows, from lockd-server's operator commands, or built from
// `d`, `sd`, `who` and `q` on an old server. null: the server cannot know.

export interface HolderView {
  name: string;
  address: string | null;
  since: number | null;
  age: number | null;
  token: number | null;
  max: number | null;
  /** Kept from before a planned restart, for its holder to reclaim. */
  reserved?: true;
}

export interface LockView {
  name: string;
  shared: boolean;
  holderCount: number;
  /** null from an old server, which does not show waiters. */
  waiterCount: number | null;
  /** The first 50 (from lockd-server), or all. */
  holders: HolderView[];
  /** In queue order, the first 50; null from an old server. */
  waiters: WaiterView[] | null;
}

export interface WaiterView {
  name: string;
  address: string;
  since: number | null;
  age: number | null;
  max: number | null;
}

/** What was shown, and how many the server left out of a reply cut for its size. */
export interface Listing<T> {
  records: T[];
  omitted: number;
}

export interface ClientView {
  name: string;
  address: string;
  since: number | null;
  age: number | null;
  locks: number;
  waiting: string | null;
}

/**
 * An old server whose registry is off: `who` is refused, and glockd would
 * then never answer `d` or `sd` while locks are held (docs/protocol.md), so
 * they are not asked.
 */
export class HoldersUnknown extends Error {}

const extended = async (client: Client) => (await client.connected()).extended;

/** Every lock whose name starts with prefix, sorted by name, exclusive before shared. */
export async function listLocks(client: Client, prefix = ''): Promise<Listing<LockView>> {
  const listing: Listing<LockView> = (await extended(client))
    ? await client.locks(prefix)
    : { records: await oldLocks(client, prefix), omitted: 0 };
  listing.records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : Number(a.shared) - Number(b.shared)));
  return listing;
}

/** One lock (exclusive, or shared), or null when nobody holds it. */
export async function showLock(client: Client, name: string, shared: boolean): Promise<LockView | null> {
  return findLock((await listLocks(client, name)).records, name, shared);
}

/** The lock of that name and mode in a listing, or null. */
export function findLock(records: LockView[], name: string, shared: boolean): LockView | null {
  return records.find((lock) => lock.name === name && lock.shared === shared) ?? null;
}

/** Live connections; from an old server only those that registered a name. */
export async function listClients(client: Client): Promise<Listing<ClientView>> {
  if (await extended(client)) return client.clients();
  const names = await registered(client);
  const held = new Map<string, number>();
  for (const lock of await oldLocks(client, '', names)) {
    for (const h of lock.holders) held.set(h.name, (held.get(h.name) ?? 0) + 1);
  }
  const records = Array.from(names, ([name, address]) => ({ name, address, since: null, age: null, locks: held.get(name) ?? 0, waiting: null }));
  return { records, omitted: 0 };
}

/** lockd-server's `stats`, or an old server's `q`. */
export async function serverStats(client: Client): Promise<Record<string, number>> {
  return (await extended(client)) ? client.stats() : client.getStats();
}

/** Registered names to addresses (`who`); HoldersUnknown when the registry is off. */
async function registered(client: Client): Promise<Map<string, string>> {
  try {
    return new Map(Object.entries(await client.listClients()));
  } catch (err) {
    if ((err as LockdError).code === 'EDISABLED') throw new HoldersUnknown();
    throw err;
  }
}

async function oldLocks(client: Client, prefix: string, names?: Map<string, string>): Promise<LockView[]> {
  names ??= await registered(client);
  const holder = (label: string): HolderView => ({
    name: label,
    // A holder without a registered name shows as its address.
    address: names.get(label) ?? (/:\d+$/.test(label) ? label : null),
    since: null,
    age: null,
    token: null,
    max: null,
  });
  const views: LockView[] = [];
  for (const [name, label] of Object.entries(await client.dump())) {
    if (name.startsWith(prefix)) views.push({ name, shared: false, holderCount: 1, waiterCount: null, holders: [holder(label)], waiters: null });
  }
  for (const [name, labels] of Object.entries(await client.dumpShared())) {
    if (name.startsWith(prefix)) {
      views.push({ name, shared: true, holderCount: labels.length, waiterCount: null, holders: labels.map(holder), waiters: null });
    }
  }
  return views;
}
