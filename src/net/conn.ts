/**
 * `Conn`: a Go-style stream connection over the shared core. Deadlines are absolute times that
 * apply to pending and future calls (extending one before it passes lets a pending read go on).
 *
 * @module
 */
import { type Endpoint, formatEndpoint } from "../core/endpoint.js";
import type { StreamSocket } from "../core/stream.js";
import { type TLSInfo, tlsHandshake, tlsInfo, tlsSession } from "../core/tls.js";
import type { Wait } from "../core/wait.js";
import { argTypeError, checkInt, type OSError, TimeoutError, UnexpectedEOFError } from "../errors/index.js";
import { DEFAULT_MAX_LINE, MAX_RECV } from "../limits.js";
import { type Deadline, DeadlineTimer } from "./deadline.js";
import { checkOptions, optSignal, toBytes } from "./options.js";

export type { Deadline } from "./deadline.js";

/**
 * Per-call options: an AbortSignal (the deadlines apply as well).
 *
 * @example
 * ```ts
 * const opts: CallOptions = { signal: AbortSignal.timeout(5000) };
 * const line = await conn.readLine(opts); // InterruptedError after 5 s without a line
 * ```
 */
export interface CallOptions {
  /** Abort this call (rejects InterruptedError). */
  readonly signal?: AbortSignal | undefined;
}

const DEFAULT_READ = 64 * 1024;

/**
 * The public surface of {@link Conn}: what code that only moves bytes over a connection needs.
 * {@link Conn} implements it; so can an in-memory stream (tests of codecs and services use one),
 * which lets such code take a `ConnLike` (or a `Pick` of it) instead of a socket.
 *
 * @example
 * ```ts
 * async function echoOnce(c: Pick<ConnLike, "read" | "write">): Promise<void> {
 *   const b = await c.read();
 *   if (b !== null) await c.write(b);
 * }
 * await echoOnce(await dial("tcp", "127.0.0.1:7"));
 * ```
 */
export interface ConnLike extends AsyncIterable<Buffer>, AsyncDisposable {
  /** The local address, formatted (`"127.0.0.1:54321"`, a path…). */
  readonly localAddress: string;
  /** The peer's address, formatted. */
  readonly remoteAddress: string;
  /** The local endpoint as a structure, when there is one. */
  readonly localEndpoint: Endpoint | undefined;
  /** The peer's endpoint as a structure, when there is one. */
  readonly remoteEndpoint: Endpoint | undefined;
  /** The descriptor number shown in traces. */
  readonly fd: number;
  /** Bytes received but not yet read. */
  readonly bufferedBytes: number;
  /** Reads at most `n` bytes as soon as any arrive; `null` at EOF. */
  read(n?: number, opts?: CallOptions): Promise<Buffer | null>;
  /** Reads exactly `n` bytes; rejects UnexpectedEOFError if the stream ends first. */
  readExactly(n: number, opts?: CallOptions): Promise<Buffer>;
  /** Reads one line with its "\n"; at EOF what is left, then `null`. */
  readLine(opts?: CallOptions & { max?: number }): Promise<Buffer | null>;
  /** Writes all of `data`, waiting while the peer is not reading; resolves the byte count. */
  write(data: Uint8Array | string, opts?: CallOptions): Promise<number>;
  /** Half-closes: the peer reads EOF and can still answer. */
  closeWrite(): Promise<void>;
  /** Closes (queued writes still go out); pending calls reject EBADF. Idempotent. */
  close(): Promise<void>;
  /** Resets the connection at once, discarding queued data. */
  abort(): void;
  /** Sets both deadlines. */
  setDeadline(t: Deadline): void;
  /** After `t`, pending and future reads reject TimeoutError. */
  setReadDeadline(t: Deadline): void;
  /** After `t`, pending and future writes reject TimeoutError. */
  setWriteDeadline(t: Deadline): void;
  /** Sets TCP_NODELAY (where there is such a thing). */
  setNoDelay(on?: boolean): void;
  /** Sets SO_KEEPALIVE (where there is such a thing). */
  setKeepAlive(on?: boolean, initialDelayMs?: number): void;
}

/**
 * A stream connection (TCP or Unix), from {@link dial} or {@link Listener.accept}.
 *
 * Berkeley equivalent: a connected `socket()`; `read` is `recv`, `write` is `sendall`,
 * `closeWrite` is `shutdown(SHUT_WR)`.
 *
 * @example
 * ```ts
 * const conn = await dial("tcp", "127.0.0.1:7");
 * await conn.write(Buffer.from("hello\n"));
 * for await (const chunk of conn) process.stdout.write(chunk);
 * ```
 */
export class Conn implements ConnLike {
  readonly #s: StreamSocket;
  readonly #rd = new DeadlineTimer();
  readonly #wr = new DeadlineTimer();

  /** Wraps a core connection (made by dial/accept). */
  constructor(s: StreamSocket) {
    this.#s = s;
  }

  /** @internal The core socket under a Conn (upgradeTLS hands it to TLS). */
  static _core(c: Conn): StreamSocket {
    return c.#s;
  }

  /**
   * The TLS facts (protocol, cipher, ALPN, the peer's chain) once the handshake is done;
   * undefined for a plain connection or while an accepted one is still shaking hands.
   * @example `console.log(conn.tls?.protocol, conn.tls?.cipher); // TLSv1.3 TLS_AES_256_GCM_SHA384`
   */
  get tls(): TLSInfo | undefined {
    return tlsInfo(this.#s);
  }

  /**
   * The TLS session of a client connection, to resume on another connection to the same
   * server (the `session` TLS option; FTPS data connections resume the control connection's);
   * undefined for a plain connection or before the server sent one.
   * @example `const data = await upgradeTLS(plain, { serverName: "ftp.example", session: control.tlsSession });`
   */
  get tlsSession(): Buffer | undefined {
    return tlsSession(this.#s);
  }

  /**
   * Waits for the TLS handshake (an accepted TLS connection does it in the background; the
   * first read or write waits for it too); rejects its SSLError. EINVAL on a plain connection.
   * @example `const info = await conn.handshake();`
   */
  handshake(): Promise<TLSInfo> {
    return tlsHandshake(this.#s);
  }

  /** The local address: `"127.0.0.1:54321"`, `"[::1]:54321"` or a path. */
  get localAddress(): string {
    return formatEndpoint(this.#s.localEndpoint());
  }

  /** The peer's address, formatted as {@link localAddress}. */
  get remoteAddress(): string {
    return formatEndpoint(this.#s.remoteEndpoint());
  }

  /** The local endpoint as a structure (`{ address, port, family }` or `{ path }`). */
  get localEndpoint(): Endpoint | undefined {
    return this.#s.localEndpoint();
  }

  /** The peer's endpoint as a structure. */
  get remoteEndpoint(): Endpoint | undefined {
    return this.#s.remoteEndpoint();
  }

  /** The descriptor number shown in traces. */
  get fd(): number {
    return this.#s.fd;
  }

  /** Bytes received but not yet read (bounded by the receive high-water mark). */
  get bufferedBytes(): number {
    return this.#s.bufferedBytes;
  }

  /** Reads at most `n` bytes (default 64 KiB) as soon as any arrive; `null` at EOF. */
  async read(n = DEFAULT_READ, opts?: CallOptions): Promise<Buffer | null> {
    checkInt("n", n, 1, MAX_RECV);
    const b = await this.#s.recv(n, undefined, this.#waitFor(this.#rd, "recv", opts));
    return b.length === 0 ? null : b;
  }

  /** Reads exactly `n` bytes; rejects {@link UnexpectedEOFError} if the stream ends first. */
  async readExactly(n: number, opts?: CallOptions): Promise<Buffer> {
    checkInt("n", n, 0, MAX_RECV);
    if (n === 0) return Buffer.alloc(0);
    const b = await this.#s.recv(n, { waitall: true }, this.#waitFor(this.#rd, "recv", opts));
    if (b.length < n) throw new UnexpectedEOFError("readExactly", b, n);
    return b;
  }

  /**
   * Reads one line up to and including "\n"; at EOF what is left, then `null`. Rejects
   * FrameTooLargeError when `max` bytes (default 64 KiB) arrive without a newline.
   */
  async readLine(opts: CallOptions & { max?: number } = {}): Promise<Buffer | null> {
    const max = checkInt("max", checkOptions("opts", opts).max ?? DEFAULT_MAX_LINE, 1, MAX_RECV);
    const b = await this.#s.recvLine(max, this.#waitFor(this.#rd, "recv", opts));
    return b.length === 0 ? null : b;
  }

  /** Writes all of `data` (waits while the peer is not reading); resolves the byte count. */
  async write(data: Uint8Array | string, opts?: CallOptions): Promise<number> {
    const buf = toBytes(data);
    return this.#s.send(buf, this.#waitFor(this.#wr, "send", opts), "send");
  }

  /** Half-closes: the peer reads EOF and can still answer; reading goes on here. */
  async closeWrite(): Promise<void> {
    this.#s.shutdown(false, true);
  }

  /** Closes the connection (queued writes still go out); pending calls reject EBADF. Idempotent. */
  async close(): Promise<void> {
    this.#rd.clear();
    this.#wr.clear();
    this.#s.close();
  }

  /** Resets the connection (RST) at once, discarding queued data. */
  abort(): void {
    this.#rd.clear();
    this.#wr.clear();
    this.#s.abort();
  }

  /** Sets both deadlines. */
  setDeadline(t: Deadline): void {
    this.setReadDeadline(t);
    this.setWriteDeadline(t);
  }

  /** After `t`, pending and future reads reject TimeoutError until the deadline is moved. */
  setReadDeadline(t: Deadline): void {
    this.#rd.set(t, () => this.#s.interrupt("read", (op) => timeoutError(op, this.remoteAddress)));
  }

  /** After `t`, pending and future writes reject TimeoutError until the deadline is moved. */
  setWriteDeadline(t: Deadline): void {
    this.#wr.set(t, () => this.#s.interrupt("write", (op) => timeoutError(op, this.remoteAddress)));
  }

  /** Sets TCP_NODELAY. */
  setNoDelay(on = true): void {
    if (typeof on !== "boolean") throw argTypeError("on", "a boolean", on);
    this.#s.setNoDelay(on);
  }

  /** Sets SO_KEEPALIVE, with the first probe after `initialDelayMs`. */
  setKeepAlive(on = true, initialDelayMs = 0): void {
    if (typeof on !== "boolean") throw argTypeError("on", "a boolean", on);
    checkInt("initialDelayMs", initialDelayMs, 0, 2 ** 31 - 1);
    this.#s.setKeepAlive(on, initialDelayMs);
  }

  /** Iterates over incoming chunks until EOF. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const b = await this.read();
      if (b === null) return;
      yield b;
    }
  }

  /** `await using conn = await dial(…)`: flushes queued writes (bounded), then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#rd.clear();
    this.#wr.clear();
    await this.#s.flushAndClose();
  }

  #waitFor(d: DeadlineTimer, op: string, opts: CallOptions | undefined): Wait | undefined {
    if (d.expired) throw timeoutError(op, this.remoteAddress);
    const signal = optSignal(checkOptions("opts", opts).signal);
    return signal === undefined ? undefined : { signal };
  }
}

function timeoutError(op: string, address: string): OSError {
  return new TimeoutError("ETIMEDOUT", { op, address, hint: "the deadline passed; move it to go on" });
}
