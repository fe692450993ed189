// The records of the operator's commands `locks` and `clients` (docs/protocol.md,
// "Operator commands"): one JSON object per reply line, so that a name may hold
// any character, spaces and ": " included. Pure, no I/O.

/** A holder of a lock. Times are ms since the epoch, on the server's clock. */
export interface HolderRecord {
  /** Its registered name, or its address when it has none. */
  name: string;
  address: string;
  since: number;
  /** ms since `since` when the server answered: an age that owes nothing to the reader's clock. */
  age: number;
  token: number;
  /** Shared: the maximum it asked for, or null for none. */
  max: number | null;
  /** Present (true) only for a holder from before a planned restart that has not reclaimed it yet. */
  reserved?: true;
}

/** A connection queued for a lock, in queue order. */
export interface WaiterRecord {
  name: string;
  address: string;
  since: number;
  age: number;
  max: number | null;
}

export interface LockRecord {
  name: string;
  shared: boolean;
  /** All of them; `holders` and `waiters` list the first 50, so that a record stays a readable line. */
  holderCount: number;
  waiterCount: number;
  holders: HolderRecord[];
  waiters: WaiterRecord[];
}

export interface ClientRecord {
  name: string;
  address: string;
  /** When it connected. */
  since: number;
  age: number;
  /** Locks it holds, exclusive and shared. */
  locks: number;
  /** The lock it waits for, or null. */
  waiting: string | null;
}

/** One reply line. Infinity (no maximum) is sent as null. */
export function formatRecord(record: LockRecord | ClientRecord): string {
  return `${JSON.stringify(record, (_key, value: unknown) => (value === Infinity ? null : value))}\n`;
}

/** The last line of a reply cut for its size: how many records it left out. */
export function formatOmitted(omitted: number): string {
  return `${JSON.stringify({ omitted })}\n`;
}

/** The count of a reply line made by formatOmitted(), or null. */
export function parseOmitted(line: string): number | null {
  const m = /^\{"omitted":(\d+)\}$/.exec(line);
  return m ? Number(m[1]) : null;
}

/** A reply line back into its record; null when it is not one. */
export function parseRecord<T extends LockRecord | ClientRecord>(line: string): T | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && typeof (value as T).name === 'string' ? (value as T) : null;
  } catch {
    return null;
  }
}
