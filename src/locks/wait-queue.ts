// A FIFO of waiters with O(1) append, pop and removal from the middle
// (a waiter that times out or disconnects leaves from wherever it stands).

export interface Linked<T> {
  prev: T | null;
  next: T | null;
  queue: unknown;
}

export class WaitQueue<T extends Linked<T>> {
  head: T | null = null;
  tail: T | null = null;

  push(item: T): void {
    item.queue = this;
    item.prev = this.tail;
    item.next = null;
    if (this.tail) this.tail.next = item;
    else this.head = item;
    this.tail = item;
  }

  remove(item: T): void {
    if (item.queue !== this) return;
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = item.next = null;
    item.queue = null;
  }

  get empty(): boolean {
    return this.head === null;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let w = this.head; w; w = w.next) yield w;
  }
}
