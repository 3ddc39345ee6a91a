/**
 * The one reader of byte streams the command line pulls from: stdin (shared by the loops of a
 * session, one at a time) and a child's stdout (relay `exec:`).
 *
 * @module
 */
import type { Readable } from "node:stream";

/**
 * A pull reader over stdin (or any Readable) that several loops can share one at a time:
 * `read()` resolves the next chunk, or null at EOF. Nothing is read before the first `read()`,
 * and nothing more than one chunk ahead (backpressure reaches the writer of the pipe).
 *
 * A read error calls {@link onError} and then reads as EOF; without an `onError` the error is
 * thrown by the pending (or next) `read()` instead, once, and EOF follows.
 *
 * @example
 * ```ts
 * const r = new StdinReader(process.stdin);
 * for (let b = await r.read(); b !== null; b = await r.read()) await conn.write(b);
 * ```
 */
export class StdinReader {
  readonly #r: Readable;
  #started = false;
  #ended = false;
  #error: { err: unknown } | undefined;
  #wake: (() => void) | undefined;
  /** Called (once) if reading fails; the reader then reports EOF. */
  onError: ((err: unknown) => void) | undefined;

  constructor(r: Readable) {
    this.#r = r;
  }

  /** True once EOF was seen (or {@link stop} was called). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next chunk, or null at EOF (also after a read error, see `onError`). */
  async read(): Promise<Buffer | null> {
    this.#start();
    for (;;) {
      if (this.#error !== undefined) {
        const { err } = this.#error;
        this.#error = undefined;
        throw err;
      }
      if (this.#ended) return null;
      const c = this.#r.read() as Buffer | string | null;
      if (c !== null) return typeof c === "string" ? Buffer.from(c) : c;
      if (this.#r.readableEnded) this.#ended = true;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /**
   * No more reading: a pending `read()` resolves null, and the stream is destroyed (a child
   * writing to it gets EPIPE). Idempotent.
   */
  stop(): void {
    if (this.#ended && this.#r.destroyed) return;
    this.#ended = true;
    this.#r.destroy();
    this.#wakeUp();
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const end = () => {
      this.#ended = true;
      this.#wakeUp();
    };
    this.#r.on("readable", () => this.#wakeUp());
    this.#r.on("end", end);
    this.#r.on("close", end);
    this.#r.on("error", (err) => {
      if (this.onError) this.onError(err);
      else if (!this.#ended) this.#error = { err };
      end();
    });
  }
}
