/**
 * `framed(stream, codec)`: frames over a byte stream — the only codec file that touches a
 * connection. It knows nothing of sockets: any object with `read`/`write` will do, sockit's
 * `Conn` included.
 *
 * @module
 */
import { argTypeError, checkInt } from "../errors/index.js";
import type { Codec, Decoder } from "./types.js";

/**
 * The byte stream {@link framed} needs: the shape of sockit's `Conn` (`dial`/`accept`), declared
 * here so the codec layer does not depend on the socket layers.
 *
 * @example
 * ```ts
 * const stream: ByteStream = await dial("tcp", "127.0.0.1:7000"); // a Conn is a ByteStream
 * ```
 */
export interface ByteStream {
  /** Resolves 1..n bytes as soon as any arrive, or null at EOF. */
  read(n?: number): Promise<Uint8Array | null>;
  /** Writes all of `data` (waiting while the peer is slow). */
  write(data: Uint8Array): Promise<unknown>;
  /** Half-closes: the peer reads EOF. */
  closeWrite?(): Promise<void>;
  /** Closes the stream. */
  close?(): Promise<void>;
}

/**
 * Options of {@link framed}.
 *
 * @example
 * ```ts
 * framed(conn, lines({ maxLine: 1024 }), { readSize: 16384 })
 * ```
 */
export interface FramedOptions {
  /** Most bytes asked of `stream.read()` at a time (default 64 KiB). */
  readonly readSize?: number;
}

const DEFAULT_READ = 64 * 1024;
const noop = (): void => {};
const NOTHING = new Uint8Array(0);

/**
 * Frames over a byte stream, from {@link framed}. Iterating yields frames one at a time until EOF;
 * the stream is read only when the consumer wants a frame and none is queued, so a consumer that
 * stops pulling stops the reading (TCP flow control then slows the peer). Decode errors reject
 * the iteration (and every later read); errors of the stream itself pass through unchanged.
 * Breaking out of a `for await` loop does not close the stream: its owner closes it.
 *
 * @example
 * ```ts
 * const f = framed(conn, lines({ maxLine: 1024 }));
 * await f.send("HELLO");
 * for await (const line of f) if (line === "BYE") break;
 * ```
 */
export class Framed<T> implements AsyncIterable<T> {
  readonly #stream: ByteStream;
  readonly #codec: Codec<T>;
  readonly #decoder: Decoder<T>;
  readonly #readSize: number;
  #queue: T[] = [];
  #head = 0;
  #eof = false;
  #failed = false;
  #error: unknown;
  #tail: Promise<unknown> = Promise.resolve();

  /** Use {@link framed}. */
  constructor(stream: ByteStream, codec: Codec<T>, opts: FramedOptions = {}) {
    if (typeof stream?.read !== "function" || typeof stream.write !== "function")
      throw argTypeError("stream", "an object with read() and write() (e.g. a Conn)", stream);
    if (typeof codec?.decoder !== "function")
      throw argTypeError("codec", "a Codec (lines(), ndjson()…)", codec);
    this.#stream = stream;
    this.#codec = codec;
    this.#decoder = codec.decoder();
    this.#readSize = checkInt("readSize", opts.readSize ?? DEFAULT_READ, 1, 2 ** 30);
  }

  /** The codec in use. */
  get codec(): Codec<T> {
    return this.#codec;
  }

  /** Bytes held by the decoder waiting for a frame to complete. */
  get buffered(): number {
    return this.#decoder.buffered;
  }

  /**
   * The next frame, or `undefined` at EOF (no codec decodes to `undefined`). Concurrent calls
   * are served in call order.
   */
  read(): Promise<T | undefined> {
    return this.next().then((r) => (r.done === true ? undefined : r.value));
  }

  /** The iterator step: `{ done: false, value }` per frame, `{ done: true }` at EOF. */
  next(): Promise<IteratorResult<T, undefined>> {
    const p = this.#tail.then(() => this.#next());
    this.#tail = p.then(noop, noop);
    return p;
  }

  async #next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#failed) throw this.#error;
      if (this.#head < this.#queue.length) {
        const value = this.#queue[this.#head] as T;
        this.#queue[this.#head++] = undefined as T; // let the frame be collected
        return { done: false, value };
      }
      if (this.#eof) return { done: true, value: undefined };
      try {
        // an error found after the frames of the last chunk is thrown by the next call: surface
        // it now rather than wait for bytes the peer may never send
        this.#enqueue(this.#decoder.push(NOTHING));
      } catch (err) {
        this.#failed = true;
        this.#error = err;
        throw err;
      }
      if (this.#head < this.#queue.length) continue;
      const chunk = await this.#stream.read(this.#readSize);
      try {
        if (chunk === null) {
          this.#eof = true;
          this.#enqueue(this.#decoder.end());
        } else this.#enqueue(this.#decoder.push(chunk));
      } catch (err) {
        this.#failed = true;
        this.#error = err;
        throw err;
      }
    }
  }

  #enqueue(frames: T[]): void {
    if (this.#head >= this.#queue.length) {
      this.#queue = frames;
      this.#head = 0;
    } else this.#queue.push(...frames);
  }

  /** Encodes `frame` and writes it; resolves once the stream accepted it. */
  async send(frame: T): Promise<void> {
    await this.#stream.write(this.#codec.encode(frame));
  }

  /** Half-closes the stream (the peer's iteration ends); reading goes on. */
  async closeWrite(): Promise<void> {
    if (this.#stream.closeWrite === undefined) throw new TypeError("this stream has no closeWrite()");
    await this.#stream.closeWrite();
  }

  /** Closes the stream, if it can be closed. */
  async close(): Promise<void> {
    await this.#stream.close?.();
  }

  /** `for await (const frame of framed(conn, codec))`. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return { next: () => this.next(), return: async () => ({ done: true, value: undefined }) };
  }
}

/**
 * Frames over `stream` with `codec`: `for await` to receive, `send()` to transmit.
 *
 * @example
 * ```ts
 * import { dial } from "sockit/net";
 * import { framed, ndjson } from "sockit/codec";
 * const conn = await dial("tcp", "127.0.0.1:4000");
 * const rpc = framed(conn, ndjson({ maxFrame: 1 << 20 }));
 * await rpc.send({ jsonrpc: "2.0", id: 1, method: "ping" });
 * const reply = await rpc.read(); // undefined if the server closed
 * await conn.close();
 * ```
 */
export function framed<T>(stream: ByteStream, codec: Codec<T>, opts?: FramedOptions): Framed<T> {
  return new Framed(stream, codec, opts);
}
