// A doubly linked list through its items' own fields, with O(1) append and
// removal from anywhere: the lock table's wait queues (a waiter that times
// out or disconnects leaves from wherever it stands) and each owner's list
// of what it holds (a lock is freed from wherever it was taken).

export interface Linked<T> {
  prev: T | null;
  next: T | null;
  /** The list the item is in, if any. */
  list: unknown;
}

export class LinkedList<T extends Linked<T>> {
  head: T | null = null;
  tail: T | null = null;
  size = 0;

  push(item: T): void {
    item.list = this;
    item.prev = this.tail;
    item.next = null;
    if (this.tail) this.tail.next = item;
    else this.head = item;
    this.tail = item;
    this.size++;
  }

  remove(item: T): void {
    if (item.list !== this) return;
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = item.next = null;
    item.list = null;
    this.size--;
  }

  get empty(): boolean {
    return this.head === null;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let item = this.head; item; item = item.next) yield item;
  }
}
