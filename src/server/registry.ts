import { entryBytes, ownCopy } from '../locks/lock-table.js';
import type { Session } from './session.js';

/** Registered client names, oldest registration first (a Map keeps insertion order). */
export class Registry {
  private readonly names = new Map<Session, string>();
  /** The memory the registrations are counted as, for the server's budget. */
  bytes = 0;

  register(session: Session, name: string): void {
    // Re-registering counts as a new registration: it moves to the end.
    this.forget(session);
    if (name === '') {
      session.name = null;
      return;
    }
    session.name = name = ownCopy(name);
    this.names.set(session, name);
    this.bytes += entryBytes(name);
  }

  forget(session: Session): void {
    const name = this.names.get(session);
    if (name === undefined) return;
    this.names.delete(session);
    this.bytes -= entryBytes(name);
  }

  entries(): IterableIterator<[Session, string]> {
    return this.names.entries();
  }
}
