/**
 * `pipe()`: an in-memory connection pair whose ends implement {@link ConnLike}, so codec, service
 * and stdio logic can be tested without sockets. It behaves like a loopback stream connection:
 * - each direction buffers at most `highWaterMark` bytes (default 64 KiB): `write` waits while the
 *   reader does not read, as `sendall` does on a full socket buffer;
 * - `read(n)` returns at most n bytes as soon as any are there, `null` at EOF;
 * - `closeWrite()` is a FIN: the peer reads what is buffered, then EOF; writing after it is EPIPE;
 * - `close()` is a FIN too (buffered bytes still reach the peer); later calls here reject EBADF,
 *   and the peer's writes reject EPIPE;
 * - `abort()` is a reset: buffered bytes are dropped, the peer's next read rejects ECONNRESET
 *   (then EOF), its writes EPIPE;
 * - deadlines and `signal` work as on `Conn` (TimeoutError ETIMEDOUT, InterruptedError EINTR).
 *
 * @example
 * ```ts
 * const [a, b] = pipe();
 * await a.write("hello\n");
 * assert.equal((await b.readLine())?.toString(), "hello\n");
 * ```
 * @module
 */
import type { Endpoint } from "../../src/core/endpoint.js";
import {
  argTypeError,
  checkInt,
  FrameTooLargeError,
  makeOSError,
  type OSError,
  UnexpectedEOFError,
} from "../../src/errors/index.js";
import { DEFAULT_MAX_LINE, MAX_RECV } from "../../src/limits.js";
import type { CallOptions, ConnLike, Deadline } from "../../src/net/conn.js";
import { DeadlineTimer } from "../../src/net/deadline.js";

/**
 * One direction of a {@link pipe}: bytes written by one end, read by the other (internal; exported
 * for the type of {@link PipeEnd}'s constructor).
 * @example `new PipeEnd(new Channel(16), new Channel(16), "a", "b")`
 */
export class Channel {
  readonly chunks: Buffer[] = [];
  size = 0;
  /** The writer sent FIN. */
  eof = false;
  /** The writer reset the connection; the reader has not seen it yet. */
  reset = false;
  /** The reader is gone (closed or reset): writes fail EPIPE. */
  readerGone = false;
  /** Woken on every change. */
  waiters = new Set<() => void>();

  constructor(readonly highWaterMark: number) {}

  changed(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    this.changed();
  }

  /** Takes up to `n` bytes from the front. */
  take(n: number): Buffer {
    const parts: Buffer[] = [];
    let want = n;
    while (want > 0 && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      if (c.length <= want) {
        parts.push(c);
        this.chunks.shift();
        want -= c.length;
      } else {
        parts.push(c.subarray(0, want));
        this.chunks[0] = c.subarray(want);
        want = 0;
      }
    }
    const b = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.size -= b.length;
    this.changed();
    return b;
  }

  /** Puts bytes back at the front (a call that collected them failed). */
  unshift(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.unshift(b);
    this.size += b.length;
  }

  /** Offset of the first "\n" within the first `limit` bytes, or -1. */
  indexOfNewline(limit: number): number {
    let off = 0;
    for (const c of this.chunks) {
      if (off >= limit) break;
      const i = c.subarray(0, limit - off).indexOf(0x0a);
      if (i >= 0) return off + i;
      off += c.length;
    }
    return -1;
  }

  clear(): void {
    this.chunks.length = 0;
    this.size = 0;
  }
}

interface Pending {
  readonly kind: "read" | "write";
  readonly reject: (e: OSError) => void;
}

/** One end of a {@link pipe}: a {@link ConnLike} over two in-memory channels. */
export class PipeEnd implements ConnLike {
  readonly #in: Channel;
  readonly #out: Channel;
  readonly #name: string;
  readonly #peerName: string;
  readonly #rd = new DeadlineTimer();
  readonly #wr = new DeadlineTimer();
  readonly #pending = new Set<Pending>();
  #closed = false;

  /** Made by {@link pipe}. */
  constructor(inbound: Channel, outbound: Channel, name: string, peerName: string) {
    this.#in = inbound;
    this.#out = outbound;
    this.#name = name;
    this.#peerName = peerName;
  }

  /** `"pipe:a"` or `"pipe:b"`. */
  get localAddress(): string {
    return this.#name;
  }

  /** The other end's name. */
  get remoteAddress(): string {
    return this.#peerName;
  }

  /** There is no socket endpoint: undefined. */
  get localEndpoint(): Endpoint | undefined {
    return undefined;
  }

  /** There is no socket endpoint: undefined. */
  get remoteEndpoint(): Endpoint | undefined {
    return undefined;
  }

  /** No descriptor: -1. */
  get fd(): number {
    return -1;
  }

  /** Bytes the peer wrote that this end has not read yet. */
  get bufferedBytes(): number {
    return this.#in.size;
  }

  /** Reads at most `n` bytes as soon as any are there; `null` at EOF. */
  async read(n = 64 * 1024, opts?: CallOptions): Promise<Buffer | null> {
    checkInt("n", n, 1, MAX_RECV);
    for (;;) {
      this.#check("recv", this.#rd, "read");
      if (this.#in.size > 0) return this.#in.take(n);
      if (this.#in.eof) return null;
      await this.#wait(this.#in, "read", "recv", opts);
    }
  }

  /** Reads exactly `n` bytes; rejects UnexpectedEOFError if EOF comes first. */
  async readExactly(n: number, opts?: CallOptions): Promise<Buffer> {
    checkInt("n", n, 0, MAX_RECV);
    const parts: Buffer[] = [];
    let got = 0;
    try {
      while (got < n) {
        this.#check("recv", this.#rd, "read");
        if (this.#in.size > 0) {
          const b = this.#in.take(n - got);
          parts.push(b);
          got += b.length;
        } else if (this.#in.eof) {
          throw new UnexpectedEOFError("readExactly", Buffer.concat(parts), n);
        } else await this.#wait(this.#in, "read", "recv", opts);
      }
    } catch (e) {
      if (!(e instanceof UnexpectedEOFError)) this.#in.unshift(Buffer.concat(parts));
      throw e;
    }
    return Buffer.concat(parts, n);
  }

  /** Reads one line with its "\n"; at EOF what is left, then `null`; FrameTooLargeError past `max`. */
  async readLine(opts: CallOptions & { max?: number } = {}): Promise<Buffer | null> {
    const max = checkInt("max", opts.max ?? DEFAULT_MAX_LINE, 1, MAX_RECV);
    const parts: Buffer[] = [];
    let got = 0;
    try {
      for (;;) {
        this.#check("recv", this.#rd, "read");
        const i = this.#in.indexOfNewline(max - got);
        if (i >= 0) {
          parts.push(this.#in.take(i + 1));
          return Buffer.concat(parts);
        }
        if (this.#in.size > 0) {
          const b = this.#in.take(Math.min(this.#in.size, max - got));
          parts.push(b);
          got += b.length;
          if (got >= max)
            throw new FrameTooLargeError(
              `line longer than ${max} bytes — raise max or check that the peer sends newlines`,
              max,
            );
          continue;
        }
        if (this.#in.eof) return got === 0 ? null : Buffer.concat(parts);
        await this.#wait(this.#in, "read", "recv", opts);
      }
    } catch (e) {
      if (!(e instanceof FrameTooLargeError)) this.#in.unshift(Buffer.concat(parts));
      throw e;
    }
  }

  /** Writes all of `data`, waiting while the peer's buffer is full; resolves the byte count. */
  async write(data: Uint8Array | string, opts?: CallOptions): Promise<number> {
    let buf: Buffer;
    if (typeof data === "string") buf = Buffer.from(data);
    else if (data instanceof Uint8Array) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else throw argTypeError("data", "a Buffer, Uint8Array or string", data);
    const copy = Buffer.from(buf); // the caller may reuse its buffer once write resolves
    let off = 0;
    do {
      this.#check("send", this.#wr, "write");
      if (this.#out.eof)
        throw makeOSError("EPIPE", { op: "send", hint: "closeWrite() was called on this end" });
      if (this.#out.readerGone) throw makeOSError("EPIPE", { op: "send", address: this.#peerName });
      const room = this.#out.highWaterMark - this.#out.size;
      if (room > 0) {
        const n = Math.min(room, copy.length - off);
        if (n > 0) this.#out.push(copy.subarray(off, off + n));
        off += n;
      }
      if (off < copy.length) await this.#wait(this.#out, "write", "send", opts);
    } while (off < copy.length);
    return copy.length;
  }

  /** Half-closes: the peer reads what is buffered, then EOF. */
  async closeWrite(): Promise<void> {
    if (this.#closed) throw makeOSError("EBADF", { op: "shutdown", hint: "the socket is closed" });
    this.#out.eof = true;
    this.#out.changed();
  }

  /** Closes: buffered bytes still reach the peer, then EOF; pending calls here reject EBADF. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#end();
    this.#out.eof = true;
    this.#out.changed();
  }

  /** Resets: both directions' buffered bytes are dropped; the peer's next read rejects ECONNRESET. */
  abort(): void {
    if (this.#closed) return;
    this.#end();
    this.#out.clear();
    this.#out.reset = true;
    this.#out.eof = true;
    this.#out.changed();
  }

  /** Sets both deadlines. */
  setDeadline(t: Deadline): void {
    this.setReadDeadline(t);
    this.setWriteDeadline(t);
  }

  /** After `t`, pending and future reads reject TimeoutError. */
  setReadDeadline(t: Deadline): void {
    this.#rd.set(t, () => this.#interrupt("read", this.#timeout("recv")));
  }

  /** After `t`, pending and future writes reject TimeoutError. */
  setWriteDeadline(t: Deadline): void {
    this.#wr.set(t, () => this.#interrupt("write", this.#timeout("send")));
  }

  /** Accepted and ignored (there is no Nagle here). */
  setNoDelay(on = true): void {
    if (typeof on !== "boolean") throw argTypeError("on", "a boolean", on);
  }

  /** Accepted and ignored (there is no keepalive here). */
  setKeepAlive(on = true, initialDelayMs = 0): void {
    if (typeof on !== "boolean") throw argTypeError("on", "a boolean", on);
    checkInt("initialDelayMs", initialDelayMs, 0, 2 ** 31 - 1);
  }

  /** Iterates over incoming chunks until EOF. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const b = await this.read();
      if (b === null) return;
      yield b;
    }
  }

  /** `await using`: closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #end(): void {
    this.#closed = true;
    this.#rd.clear();
    this.#wr.clear();
    this.#in.readerGone = true;
    this.#in.clear();
    this.#in.changed(); // the peer's waiting writers see EPIPE
    const e = (): OSError => makeOSError("EBADF", { op: "recv", hint: "the socket is closed" });
    for (const p of [...this.#pending]) p.reject(e());
  }

  #timeout(op: string): OSError {
    return makeOSError("ETIMEDOUT", {
      op,
      address: this.#peerName,
      hint: "the deadline passed; move it to go on",
    });
  }

  /** Throws what a call on this end must throw now, if anything. */
  #check(op: string, d: DeadlineTimer, kind: "read" | "write"): void {
    if (this.#closed) throw makeOSError("EBADF", { op, hint: "the socket is closed" });
    if (d.expired) throw this.#timeout(op);
    if (kind === "read" && this.#in.reset) {
      this.#in.reset = false; // reported once, then EOF (as a socket after a reset)
      throw makeOSError("ECONNRESET", { op, address: this.#peerName });
    }
  }

  #interrupt(kind: "read" | "write", e: OSError): void {
    for (const p of [...this.#pending]) if (p.kind === kind) p.reject(e);
  }

  /** Waits for the next change on `ch`, or rejects on close, deadline or signal. */
  #wait(ch: Channel, kind: "read" | "write", op: string, opts: CallOptions | undefined): Promise<void> {
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(makeOSError("EINTR", { op, hint: "the call was aborted" }));
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        ch.waiters.delete(wake);
        this.#pending.delete(p);
        signal?.removeEventListener("abort", onAbort);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const p: Pending = {
        kind,
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = (): void => p.reject(makeOSError("EINTR", { op, hint: "the call was aborted" }));
      ch.waiters.add(wake);
      this.#pending.add(p);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** Options of {@link pipe}. */
export interface PipeOptions {
  /** Bytes each direction buffers before `write` waits (default 64 KiB). */
  readonly highWaterMark?: number;
}

/**
 * An in-memory connected pair: what `a` writes, `b` reads, and back. See the module comment for
 * how closing, resets, deadlines and backpressure behave.
 *
 * @example
 * ```ts
 * const [client, server] = pipe({ highWaterMark: 16 });
 * const served = echoTcp(server); // a service over a ConnLike, no socket involved
 * ```
 */
export function pipe(opts: PipeOptions = {}): [PipeEnd, PipeEnd] {
  const hwm = checkInt("highWaterMark", opts.highWaterMark ?? 64 * 1024, 1, 2 ** 31 - 1);
  const ab = new Channel(hwm);
  const ba = new Channel(hwm);
  return [new PipeEnd(ba, ab, "pipe:a", "pipe:b"), new PipeEnd(ab, ba, "pipe:b", "pipe:a")];
}
