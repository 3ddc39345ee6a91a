/**
 * The receive queue of a stream socket: the chunks Node delivered, not yet read, and their byte
 * count. `StreamSocket` (stream.ts) extends it (rather than holding one) so an idle connection stays
 * one object: the queue's two fields live in the socket itself.
 *
 * Reads slice without copying when the bytes asked for lie in one chunk and copy once when they
 * span chunks; the chunk list is made when the first bytes arrive.
 *
 * @module
 */
import { Fifo } from "./fifo.js";

/**
 * Queued received bytes, read from the front.
 *
 * @example
 * ```ts
 * class Q extends ChunkQueue {
 *   add(b: Buffer) { this.pushChunk(b); }
 *   get(n: number) { return this.takeBytes(n, false); }
 * }
 * const q = new Q();
 * q.add(Buffer.from("hel")); q.add(Buffer.from("lo"));
 * q.get(4).toString(); // "hell"
 * ```
 */
export class ChunkQueue {
  #chunks: Fifo<Buffer> | undefined; // made when the first bytes arrive
  #buffered = 0;

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Appends a received chunk (kept as it is, not copied). */
  protected pushChunk(chunk: Buffer): void {
    (this.#chunks ??= new Fifo()).push(chunk);
    this.#buffered += chunk.length;
  }

  /** Drops everything queued (SHUT_RD, close). */
  protected clearChunks(): void {
    this.#chunks = undefined;
    this.#buffered = 0;
  }

  /**
   * Takes (or with `peek` only looks at) at most `n` bytes from the front; call it only with bytes
   * queued. One chunk's bytes come back as a view of it; bytes spanning chunks are copied once.
   */
  protected takeBytes(n: number, peek: boolean): Buffer {
    const chunks = this.#chunks!;
    const first = chunks.at()!;
    let out: Buffer;
    if (first.length >= n || chunks.length === 1) {
      out = first.length > n ? first.subarray(0, n) : first;
      if (!peek) {
        if (first.length > n) chunks.replaceFront(first.subarray(n));
        else chunks.shift();
      }
    } else {
      // the message spans chunks: copy at most n bytes into one buffer
      const total = Math.min(n, this.#buffered);
      out = Buffer.allocUnsafe(total);
      let off = 0;
      for (let i = 0; off < total;) {
        const c = chunks.at(peek ? i : 0)!;
        const k = Math.min(c.length, total - off);
        c.copy(out, off, 0, k);
        off += k;
        if (peek) i++;
        else if (k < c.length) chunks.replaceFront(c.subarray(k));
        else chunks.shift();
      }
    }
    if (!peek) this.#buffered -= out.length;
    return out;
  }

  /** Offset of the first `byte` queued at or after `from`, below `limit`; -1 if none. */
  protected findByte(byte: number, from: number, limit: number): number {
    let base = 0;
    const chunks = this.#chunks;
    if (chunks === undefined) return -1;
    for (let i = 0; i < chunks.length && base < limit; i++) {
      const c = chunks.at(i)!;
      if (from < base + c.length) {
        const k = c.indexOf(byte, Math.max(0, from - base));
        if (k >= 0 && base + k < limit) return base + k;
      }
      base += c.length;
    }
    return -1;
  }
}
