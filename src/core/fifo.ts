/**
 * The one queue type of the core: a first-in first-out list with a read index (no `Array.shift`,
 * which copies the whole array), used for a stream's received chunks, a datagram socket's
 * received messages and a listener's accepted connections. Each user bounds it: the stream by
 * bytes (it pauses the socket above its high-water mark), the others by count (they refuse or
 * drop, and count what they refused).
 *
 * @module
 */

/** Compact once this many slots at the front are spent (and they are over half the array). */
const COMPACT_AT = 1024;

/**
 * A FIFO queue.
 *
 * @example
 * ```ts
 * const q = new Fifo<string>();
 * q.push("a");
 * q.push("b");
 * q.shift(); // "a"
 * q.length; // 1
 * ```
 */
export class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  /** Items queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an item at the end. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The item `i` places from the front (0 = the next one out), or undefined. */
  at(i = 0): T | undefined {
    return this.#items[this.#head + i];
  }

  /** Removes and returns the front item (undefined when empty). */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Replaces the front item (what is left of a partly consumed chunk). */
  replaceFront(item: T): void {
    if (this.#head < this.#items.length) this.#items[this.#head] = item;
  }

  /** Removes everything; returns what was queued, front first. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}
