import type { Session } from './session.js';

/** Registered client names, oldest registration first (a Map keeps insertion order). */
export class Registry {
  private readonly names = new Map<Session, string>();

  register(session: Session, name: string): void {
    // Re-registering counts as a new registration: it moves to the end.
    this.names.delete(session);
    if (name === '') {
      session.name = null;
      return;
    }
    session.name = name;
    this.names.set(session, name);
  }

  forget(session: Session): void {
    this.names.delete(session);
  }

  entries(): IterableIterator<[Session, string]> {
    return this.names.entries();
  }
}
