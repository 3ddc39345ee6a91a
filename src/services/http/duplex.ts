/**
 * A sockit connection seen as a Node `Duplex`, so that `node:http` (its llhttp parser, its
 * request and response objects) can run over a connection sockit accepted or dialled: every
 * recv/send stays sockit's own call (limits, deadlines, `--trace`), and the service never touches
 * `node:net`.
 *
 * Backpressure both ways: one read is pending at a time and none while Node's readable buffer is
 * above its mark (then the core pauses the socket and TCP flow control slows the peer); a write
 * calls back only when sockit's `write` resolved, so Node's writable buffer stays bounded too.
 *
 * @module
 */
import { Duplex } from "node:stream";
import type { ConnLike } from "../../net/index.js";
import { OSError } from "../../net/index.js";

/**
 * What the adapter needs of a connection (sockit's `Conn` has it; so does a test pipe).
 * @example `const c: DuplexConn = conn; // a Conn from dial() or accept()`
 */
export type DuplexConn = Pick<
  ConnLike,
  "read" | "write" | "close" | "abort" | "closeWrite" | "remoteEndpoint" | "localEndpoint" | "setNoDelay"
> &
  Partial<Pick<ConnLike, "setKeepAlive" | "setWriteDeadline">>;

/** Options of {@link ConnDuplex}. */
export interface ConnDuplexOptions {
  /**
   * A write the peer does not take within this (ms) fails and the connection is reset: a client
   * that stops reading cannot hold its connection for ever (default: no limit).
   */
  readonly writeTimeoutMs?: number;
  /** After `destroySoon()`, how long the peer has to close before the connection is reset (ms). */
  readonly lingerMs?: number;
}

const READ_SIZE = 64 * 1024;
/** Buffered writes up to this many bytes in all are joined into one send; bigger ones are not copied. */
const WRITEV_JOIN = 64 * 1024;

/**
 * A `Duplex` over a sockit connection (or over a connection still being dialled), with the
 * members `node:http` asks of a socket: `setTimeout` (an idle timer), `setNoDelay`,
 * `setKeepAlive`, `remoteAddress`/`remotePort`, `localAddress`/`localPort`, `bytesWritten`.
 *
 * Ending the writable side half-closes the connection; destroying it closes it (with an error:
 * resets it).
 *
 * @example
 * ```ts
 * const server = (await import("node:http")).createServer((req, res) => res.end("hi\n"));
 * for await (const conn of await listen("tcp", "127.0.0.1:0")) {
 *   server.emit("connection", new ConnDuplex(conn));
 * }
 * ```
 */
export class ConnDuplex extends Duplex {
  #conn: DuplexConn | undefined;
  readonly #ready: Promise<DuplexConn>;
  #reading = false;
  #idleMs = 0;
  #idle: NodeJS.Timeout | undefined;
  #written = 0;
  #read = 0;
  readonly #writeTimeoutMs: number;
  readonly #lingerMs: number;

  /** Wraps `conn` (or the promise of one: writes wait for it, a rejection destroys the stream). */
  constructor(conn: DuplexConn | Promise<DuplexConn>, opts: ConnDuplexOptions = {}) {
    super({ allowHalfOpen: true, decodeStrings: true });
    this.#writeTimeoutMs = opts.writeTimeoutMs ?? 0;
    this.#lingerMs = opts.lingerMs ?? 1000;
    if (conn instanceof Promise) {
      this.#ready = conn.then((c) => {
        this.#conn = c;
        if (this.destroyed) c.abort();
        else this.emit("connect");
        return c;
      });
      this.#ready.catch((err: unknown) => this.destroy(err as Error));
    } else {
      this.#conn = conn;
      this.#ready = Promise.resolve(conn);
    }
  }

  /** The connection, once there is one. */
  get conn(): DuplexConn | undefined {
    return this.#conn;
  }

  /** The peer's IP address (as `net.Socket` names it). */
  get remoteAddress(): string | undefined {
    const e = this.#conn?.remoteEndpoint;
    return e !== undefined && "address" in e ? e.address : undefined;
  }

  /** The peer's port. */
  get remotePort(): number | undefined {
    const e = this.#conn?.remoteEndpoint;
    return e !== undefined && "port" in e ? e.port : undefined;
  }

  /** The local IP address. */
  get localAddress(): string | undefined {
    const e = this.#conn?.localEndpoint;
    return e !== undefined && "address" in e ? e.address : undefined;
  }

  /** The local port. */
  get localPort(): number | undefined {
    const e = this.#conn?.localEndpoint;
    return e !== undefined && "port" in e ? e.port : undefined;
  }

  /** Bytes handed to the connection and written. */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Bytes read from the connection. */
  get bytesRead(): number {
    return this.#read;
  }

  /** An idle timer as `net.Socket#setTimeout`: 'timeout' after `ms` without reads or writes (0: off). */
  setTimeout(ms: number, cb?: () => void): this {
    this.#idleMs = ms;
    if (cb) this.once("timeout", cb);
    this.#touch();
    return this;
  }

  /** TCP_NODELAY on the connection. */
  setNoDelay(on = true): this {
    try {
      this.#conn?.setNoDelay(on);
    } catch {
      // a Unix socket has no such thing
    }
    return this;
  }

  /** SO_KEEPALIVE on the connection. */
  setKeepAlive(on = false, delay = 0): this {
    try {
      this.#conn?.setKeepAlive?.(on, delay);
    } catch {
      // a Unix socket has no such thing
    }
    return this;
  }

  /**
   * Ends the writable side (FIN after what is queued); the connection closes when the peer has
   * closed too, or is reset when it has not within the linger time (`net.Socket#destroySoon`
   * closes at once, which resets a connection whose peer still sends and can lose the answer).
   */
  destroySoon(): void {
    this.end();
    this.once("finish", () => {
      const t = setTimeout(() => this.destroy(), this.#lingerMs);
      t.unref();
      this.once("close", () => clearTimeout(t));
    });
  }

  #touch(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.#idleMs > 0 && !this.destroyed) {
      this.#idle = setTimeout(() => this.emit("timeout"), this.#idleMs);
      this.#idle.unref();
    }
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#pull();
  }

  async #pull(): Promise<void> {
    try {
      const c = this.#conn ?? (await this.#ready);
      for (;;) {
        const b = await c.read(READ_SIZE);
        if (this.destroyed) return;
        if (b === null) {
          this.push(null);
          return;
        }
        this.#read += b.length;
        this.#touch();
        if (!this.push(b)) return;
      }
    } catch (err) {
      if (!this.destroyed) {
        // EBADF: closed here meanwhile; anything else (a reset) ends the stream with the error
        if (err instanceof OSError && err.code === "EBADF") this.push(null);
        else this.destroy(err as Error);
      }
    } finally {
      this.#reading = false;
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (chunk.length === 0) {
      cb(); // node:http ends a response with an empty write: no send() for it
      return;
    }
    const c = this.#conn;
    const go = (conn: DuplexConn) => {
      if (this.#writeTimeoutMs > 0) conn.setWriteDeadline?.(Date.now() + this.#writeTimeoutMs);
      return conn.write(chunk).then(
        (n) => {
          this.#written += n;
          this.#touch();
          cb();
        },
        (err: unknown) => cb(err as Error),
      );
    };
    if (c !== undefined) void go(c);
    else this.#ready.then(go, (err: unknown) => cb(err as Error));
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    let total = 0;
    for (const c of chunks) total += c.chunk.length;
    if (total <= WRITEV_JOIN) {
      // small pieces (headers and a small body): one send
      this._write(
        Buffer.concat(
          chunks.map((c) => c.chunk),
          total,
        ),
        "latin1",
        cb,
      );
      return;
    }
    // a big body piece is not copied to be joined to its headers: the pieces go out in order
    let i = 0;
    const next = (err?: Error | null): void => {
      if (err) cb(err);
      else if (i === chunks.length) cb();
      else this._write(chunks[i++]!.chunk, "latin1", next);
    };
    next();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#ready.then(
      (c) => c.closeWrite().then(() => cb(), cb),
      (err: unknown) => cb(err as Error),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    const c = this.#conn;
    if (c !== undefined) {
      if (err) c.abort();
      else void c.close();
    }
    cb(err);
  }
}
