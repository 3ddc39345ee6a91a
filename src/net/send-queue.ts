/**
 * A bounded outgoing queue for one connection, drained by one writer task: the piece every
 * fan-out server needs (a chat room, a broker, a pub/sub hub) so that a client that stops
 * reading costs at most `limit` bytes instead of stalling the others or growing without bound.
 *
 * @module
 */
import type { Conn } from "./conn.js";

/**
 * What a {@link SendQueue} writes to: a {@link Conn}, or anything with a promise-returning write.
 * @example `const target: SendTarget = { write: async (b) => b.length }; // a sink, for a test`
 */
export type SendTarget = Pick<Conn, "write">;

/**
 * Options of a {@link SendQueue}.
 * @example `new SendQueue(conn, 1 << 20, { onError: () => conn.abort(), coalesceBytes: 16 * 1024 })`
 */
export interface SendQueueOptions {
  /**
   * Called once when a write fails (the queue has stopped; the error is also kept in
   * {@link SendQueue.error}). Typical use: abort the connection.
   */
  readonly onError?: ((err: unknown) => void) | undefined;
  /** Queued items are joined into writes of up to this many bytes (default 64 KiB). */
  readonly coalesceBytes?: number | undefined;
}

/**
 * A per-connection outgoing queue with a byte bound, drained by one writer task with
 * `await target.write()`. Bytes count from `push` until the write that carries them resolves
 * (they have reached the kernel), so the queue holds at most `limit` bytes — or one item, if a
 * single item is larger than the bound. Strings are written as latin1 (one byte per char: the
 * form line protocols such as IRC keep bytes in); consecutive items are joined into one write.
 *
 * @example
 * ```ts
 * import { SendQueue } from "sockit/net";
 * const q = new SendQueue(conn, 1 << 20, { onError: () => conn.abort() });
 * if (!q.push("hello\r\n")) conn.abort(); // over the bound: drop the slow client
 * await q.end(); // waits for the queue to drain (or fail); never rejects
 * ```
 */
export class SendQueue {
  readonly #target: SendTarget;
  readonly #limit: number;
  readonly #coalesce: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  #items: Array<Buffer | string> = [];
  #head = 0;
  #queued = 0;
  #peak = 0;
  #running: Promise<void> | undefined;
  #dead = false;
  #error: unknown;

  /** A queue writing to `target`, holding at most `limit` bytes. */
  constructor(target: SendTarget, limit: number, options: SendQueueOptions = {}) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`send queue bound must be ≥ 1 byte, got ${limit}`);
    const coalesce = options.coalesceBytes ?? COALESCE_BYTES;
    if (!Number.isSafeInteger(coalesce) || coalesce < 1)
      throw new RangeError(`coalesceBytes must be ≥ 1, got ${coalesce}`);
    this.#target = target;
    this.#limit = limit;
    this.#coalesce = coalesce;
    this.#onError = options.onError;
  }

  /** Bytes queued or being written now. */
  get queued(): number {
    return this.#queued;
  }

  /** The most bytes ever held at once (for tests and reports). */
  get peak(): number {
    return this.#peak;
  }

  /** The bound in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** True once the queue was stopped or a write failed: nothing more is written. */
  get stopped(): boolean {
    return this.#dead;
  }

  /** The write error that stopped the queue, if any. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Queues `item` (a Buffer must not be modified afterwards; a string is sent as latin1).
   * Returns false, queueing nothing, if that would exceed the bound (the caller drops the
   * client) or if the queue is stopped (see {@link stopped}).
   */
  push(item: Buffer | string): boolean {
    if (this.#dead) return false;
    const n = item.length;
    if (n === 0) return true;
    if (this.#queued > 0 && this.#queued + n > this.#limit) return false;
    this.#items.push(item);
    this.#queued += n;
    if (this.#queued > this.#peak) this.#peak = this.#queued;
    this.#running ??= this.#drain();
    return true;
  }

  /** Stops the queue: nothing more is written or accepted, queued bytes are released. */
  stop(): void {
    this.#dead = true;
    this.#items = [];
    this.#head = 0;
    this.#queued = 0;
  }

  /** Waits until everything queued has been written, or the queue stopped or failed. Never rejects. */
  async end(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#dead && this.#head < this.#items.length) {
        const b = this.#next();
        try {
          await this.#target.write(b);
        } catch (err) {
          this.#error = err;
          this.stop();
          this.#onError?.(err);
          return;
        }
        if (!this.#dead) this.#queued -= b.length;
      }
      this.#items = [];
      this.#head = 0;
    } finally {
      this.#running = undefined;
    }
  }

  /** The next item, joined with the ones after it up to the coalescing size: one write for many lines. */
  #next(): Buffer {
    const items = this.#items;
    const start = this.#head;
    let end = start + 1;
    let size = items[start]!.length;
    while (end < items.length && size + items[end]!.length <= this.#coalesce) size += items[end++]!.length;
    let out: Buffer;
    const first = items[start]!;
    if (end === start + 1) out = typeof first === "string" ? Buffer.from(first, "latin1") : first;
    else {
      out = Buffer.allocUnsafe(size);
      let off = 0;
      for (let i = start; i < end; i++) {
        const it = items[i]!;
        off += typeof it === "string" ? out.write(it, off, "latin1") : it.copy(out, off);
      }
    }
    items.fill(EMPTY, start, end);
    this.#head = end;
    if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
}

/** Queued items are joined into writes of up to this many bytes, by default. */
const COALESCE_BYTES = 64 * 1024;

const EMPTY = "";
