/**
 * `Accumulator`: the bytes of one partial frame, held in a single growable buffer so memory is
 * one allocation whatever the chunking (1-byte reads do not cost an object per byte).
 *
 * @module
 */

/** Capacity kept for reuse after `clear()`; anything larger is released (idle streams stay cheap). */
const KEEP = 4096;

/**
 * A growable byte buffer for a partial frame. Capacity doubles up to `cap`, then grows exactly,
 * so it never exceeds max(2 × length, cap); decoders check their limit before appending.
 *
 * @example
 * ```ts
 * const acc = new Accumulator(8192);
 * acc.append(Buffer.from("hel"));
 * acc.concat(Buffer.from("lo!"), 0, 2); // <Buffer 68 65 6c 6c 6f> (a fresh copy); acc is empty again
 * ```
 */
export class Accumulator {
  #buf: Buffer = Buffer.alloc(0);
  #len = 0;
  readonly #cap: number;

  /** `cap`: a capacity the buffer never doubles past (the decoder's hold limit). */
  constructor(cap: number) {
    this.#cap = cap;
  }

  /** Bytes held. */
  get length(): number {
    return this.#len;
  }

  /** Appends a copy of `src[start..end)`. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    const need = this.#len + n;
    if (need > this.#buf.length) {
      const grown = Math.min(Math.max(this.#buf.length * 2, 64), this.#cap);
      const next = Buffer.allocUnsafe(Math.max(need, grown));
      this.#buf.copy(next, 0, 0, this.#len);
      this.#buf = next;
    }
    this.#buf.set(src.subarray(start, end), this.#len);
    this.#len = need;
  }

  /** The held bytes (a view, valid until the next append or clear). */
  view(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }

  /** The byte at `i` (0 ≤ i < length). */
  at(i: number): number {
    return this.#buf[i]!;
  }

  /** A fresh buffer of the held bytes followed by `src[start..end)`; then empties. */
  concat(src: Uint8Array, start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(this.#len + end - start);
    this.#buf.copy(out, 0, 0, this.#len);
    out.set(src.subarray(start, end), this.#len);
    this.clear();
    return out;
  }

  /** Empties (keeps a small buffer for reuse, releases a large one). */
  clear(): void {
    this.#len = 0;
    if (this.#buf.length > KEEP) this.#buf = Buffer.alloc(0);
  }

  /** Empties and releases the memory. */
  release(): void {
    this.#len = 0;
    this.#buf = Buffer.alloc(0);
  }
}
