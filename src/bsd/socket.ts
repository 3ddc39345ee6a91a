/**
 * The Berkeley face: `socket(family, type)` returns a {@link Socket} whose methods are named and
 * behave as in Python's `socket` module (and so as in C), delegating all I/O to the core.
 *
 * The socket itself checks arguments, keeps the timeout and the descriptor, and hands every call
 * to its half: a stream half (stream-half.ts) or a datagram half (dgram.ts), each following its
 * state table (states.ts; docs/api.md, "States").
 *
 * Why this file is a little over the ~450 lines of the others: it is the one `Socket` class, one
 * short method per Berkeley call (each checks its arguments and hands the call to the stream or
 * datagram half), with the doc comment each public call needs; the halves, the state tables,
 * the options and the argument checks live in their own files.
 *
 * @module
 */
import type { SockAddr } from "../addr/address.js";
import { AF_INET, AF_UNSPEC, familyName, SOCK_DGRAM, SOCK_STREAM, typeName } from "../addr/constants.js";
import { endpointTrace, formatEndpoint } from "../core/endpoint.js";
import { allocFd } from "../core/fd.js";
import type { StreamListener } from "../core/listener.js";
import type { StreamSocket } from "../core/stream.js";
import { type Wait, Watchers } from "../core/wait.js";
import { argTypeError, checkInt, closedError, OSError } from "../errors/index.js";
import { DEFAULT_MAX_LINE, MAX_RECV } from "../limits.js";
import { span, sym } from "../trace.js";
import { checkFlags, toBytes } from "./args.js";
import { MSG_DONTWAIT } from "./constants.js";
import { checkSocketArgs } from "./create.js";
import { DatagramHalf } from "./dgram.js";
import type { Membership } from "./dgram-options.js";
import type { Half, Readiness } from "./half.js";
import {
  type Family,
  fromEndpoint,
  type SenderOf,
  type SockAddrArg,
  type SockAddrOf,
  type SockType,
} from "./sockaddr.js";
import type { SocketState } from "./states.js";
import { StreamHalf } from "./stream-half.js";
import { checkTimeout, getdefaulttimeout } from "./timeout.js";

export type { Readiness } from "./half.js";

/**
 * A socket, as in Python: `socket(AF_INET, SOCK_STREAM)`. Everything that can wait returns a
 * Promise and honours {@link Socket.settimeout}; getters and option setters are synchronous.
 *
 * The type carries the family `F` and the socket type `T` that {@link socket} was called with, so
 * the addresses are typed: a `Socket<typeof AF_INET>` gives `[host, port]` from getsockname,
 * getpeername, accept and recvfrom, an AF_INET6 one the 4-tuple, an AF_UNIX one a path, and
 * recvfrom on a `SOCK_DGRAM` socket never gives `null`. A plain `Socket` is any of them (the
 * addresses are then the union {@link SockAddr}).
 *
 * @example
 * ```ts
 * const s = socket(AF_INET, SOCK_STREAM);
 * await s.connect(["127.0.0.1", 8000]);
 * await s.sendall(Buffer.from("hello"));
 * console.log((await s.recv(1024)).toString());
 * await s.close();
 * ```
 */
export class Socket<F extends number = Family, T extends number = SockType> {
  /** Address family: AF_INET, AF_INET6 or AF_UNIX. */
  readonly family: F;
  /** Socket type: SOCK_STREAM or SOCK_DGRAM. */
  readonly type: T;
  /** Protocol number (0 = default for the type). */
  readonly proto: number;
  readonly #fd: number;
  readonly #half: Half;
  #timeout: number | null;
  #waitObj: Wait | undefined;
  #watchersObj: Watchers | undefined;

  /** Use {@link socket}; `stream` wraps an accepted connection. */
  constructor(family: F, type: T, proto = 0, stream?: StreamSocket) {
    this.family = family;
    this.type = type;
    this.proto = proto;
    this.#timeout = getdefaulttimeout();
    if (stream) this.#fd = stream.fd;
    else {
      this.#fd = allocFd();
      span(this.#fd, "socket", [sym(familyName(family)), sym(typeName(type))])?.ok(this.#fd);
    }
    // the socket is its halves' host: no per-socket closures (idle memory, docs/performance.md)
    this.#half = type === SOCK_DGRAM ? new DatagramHalf(this) : new StreamHalf(this, stream);
  }

  /** @internal The descriptor number, also once closed (the halves' host, half.ts). */
  get _fd(): number {
    return this.#fd;
  }

  /** @internal The timeout (the halves' host, half.ts). */
  _timeout(): number | null {
    return this.#timeout;
  }

  /** @internal The wait for one call (the halves' host, half.ts). */
  _wait(flags?: number): Wait | undefined {
    return this.#wait(flags);
  }

  /** @internal Readiness may have changed (the halves' host, half.ts). */
  _notify(): void {
    this.#watchersObj?.notify();
  }

  /** The descriptor number (small, per process, as the trace shows it); -1 once closed. */
  fileno(): number {
    return this.#half.state === "closed" ? -1 : this.#fd;
  }

  /**
   * The state: created, bound, listening, connecting, connected or closed (docs/api.md, "States",
   * shows which calls each allows).
   */
  get state(): SocketState {
    return this.#half.state;
  }

  /** The core connection, once connected (used by select() and the options). @internal */
  get stream(): StreamSocket | undefined {
    return this.#half instanceof StreamHalf ? this.#half.stream : undefined;
  }

  /** The core listener, once bound or listening. @internal */
  get listener(): StreamListener | undefined {
    return this.#half instanceof StreamHalf ? this.#half.listener : undefined;
  }

  /** Datagram sockets: datagrams dropped because the receive queue was full. */
  get drops(): number {
    return this.#half instanceof DatagramHalf ? this.#half.drops : 0;
  }

  /** Datagram sockets: sends still queued (and so discarded) when the socket was closed. */
  get discardedSends(): number {
    return this.#half instanceof DatagramHalf ? this.#half.discardedSends : 0;
  }

  /**
   * Readiness for select()/poll(), as Linux's tcp_poll computes it: readable = data, EOF, a
   * pending connection or an error; writable = connected (or a datagram socket) and below the
   * send high-water mark; error = a pending error (POLLERR); hangup = both directions shut (the
   * peer's FIN received, or SHUT_RD, and our write side shut) or the connection reset (POLLHUP);
   * rdhup = the read direction shut (POLLRDHUP). Throws EBADF on a closed socket.
   */
  readiness(): Readiness {
    if (this.#half.state === "closed") throw closedError("select");
    return this.#half.readiness();
  }

  /** Calls `cb` whenever {@link readiness} may have changed; returns the remover. For select(). */
  watch(cb: () => void): () => void {
    const offs = [this.#watchers.add(cb)];
    const core = this.#half.watchTarget();
    if (core) offs.push(core.watch(cb));
    return () => {
      for (const off of offs) off();
    };
  }

  // ---- timeouts -------------------------------------------------------------------------------

  /**
   * Sets the timeout in seconds for every call that waits: `null` blocks forever, `0` makes the
   * socket non-blocking (BlockingIOError instead of waiting), `t > 0` raises TimeoutError after t
   * seconds (the socket stays usable and no data is lost).
   */
  settimeout(value: number | null): void {
    this.#timeout = checkTimeout("timeout", value);
  }

  /** The timeout in seconds, or null for blocking. */
  gettimeout(): number | null {
    return this.#timeout;
  }

  /** `setblocking(false)` = `settimeout(0)`; `setblocking(true)` = `settimeout(null)`. */
  setblocking(flag: boolean): void {
    this.settimeout(flag ? null : 0);
  }

  /** False when the timeout is 0 (non-blocking). */
  getblocking(): boolean {
    return this.#timeout !== 0;
  }

  #wait(flags = 0): Wait | undefined {
    const t = this.#timeout;
    if (flags & MSG_DONTWAIT || t === 0) return NONBLOCKING;
    if (t === null) return undefined;
    // one object per timeout value, not one per call
    if (this.#waitObj?.timeout !== t * 1000) this.#waitObj = { timeout: t * 1000 };
    return this.#waitObj;
  }

  get #watchers(): Watchers {
    this.#watchersObj ??= new Watchers();
    return this.#watchersObj;
  }

  // ---- binding, listening, accepting ---------------------------------------------------------

  /**
   * Binds to a local address: `["", 8000]` (any), `["127.0.0.1", 0]` (a free port), a path for
   * AF_UNIX. EADDRINUSE surfaces here; `getsockname()` then gives the real port.
   */
  bind(address: SockAddrArg<F>): Promise<void> {
    return this.#half.bind(address as SockAddr);
  }

  /**
   * Starts accepting connections; at most `backlog` wait for {@link accept} (the rest are
   * reset). An unbound socket is bound to a free port first, as Linux does.
   */
  async listen(backlog?: number): Promise<void> {
    if (backlog !== undefined) checkInt("backlog", backlog, -(2 ** 31), 2 ** 31 - 1);
    return this.#half.listen(backlog);
  }

  /** Waits for a connection; resolves `[newSocket, peerAddress]`. */
  async accept(): Promise<[Socket<F, T>, SockAddrOf<F>]> {
    const stream = await this.#half.accept();
    const conn = new Socket(this.family, this.type, this.proto, stream);
    if (this.#half instanceof StreamHalf) this.#half.inherit(conn);
    return [conn, fromEndpoint(this.family, stream.remoteEndpoint()) as SockAddrOf<F>];
  }

  // ---- connecting ------------------------------------------------------------------------------

  /**
   * Connects to a server. A bound socket connects from its bound address and port. Rejects
   * ConnectionRefusedError, TimeoutError (after `settimeout`), FileNotFoundError (no Unix path),
   * gaierror (unknown name). Non-blocking: BlockingIOError (EINPROGRESS) while it completes,
   * EALREADY when called again meanwhile.
   *
   * As on Linux, after a connect that did not wait for the result (non-blocking, or with a
   * timeout) the next `connect()` reports it: it resolves once the connection is up (any
   * address; EISCONN after that), or rejects the failure once (ECONNABORTED if the error was
   * already read with SO_ERROR or recv), after which the socket can connect anew.
   *
   * Datagram sockets: sets the default peer (`AF_UNSPEC` removes it). Port 0 fails with
   * EOPNOTSUPP: Linux accepts it, but Node.js 20 cannot connect a UDP socket to port 0.
   */
  connect(address: SockAddrArg<F> | typeof AF_UNSPEC): Promise<void> {
    return this.#half.connect(address as SockAddr | typeof AF_UNSPEC);
  }

  /** Like {@link connect} but resolves the errno (0 on success) instead of throwing OSError. */
  async connect_ex(address: SockAddrArg<F> | typeof AF_UNSPEC): Promise<number> {
    try {
      await this.connect(address);
      return 0;
    } catch (err) {
      if (err instanceof OSError) return err.errno;
      throw err;
    }
  }

  // ---- data ------------------------------------------------------------------------------------

  /**
   * Receives at most `bufsize` bytes as soon as any are available; an empty Buffer at orderly EOF
   * (and on every later call). Flags: MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT.
   */
  recv(bufsize: number, flags = 0): Promise<Buffer> {
    try {
      checkInt("bufsize", bufsize, 0, MAX_RECV);
      if (flags !== 0) checkFlags(flags);
      return this.#half.recv(bufsize, flags, "recv");
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Datagram sockets: one datagram, at most `bufsize` bytes of it (the rest is discarded, as
   * the kernel does), and the sender's address. Stream sockets: `[await recv(bufsize), null]`.
   */
  recvfrom(bufsize: number, flags = 0): Promise<[Buffer, SenderOf<F, T>]> {
    try {
      checkInt("bufsize", bufsize, 0, MAX_RECV);
      if (flags !== 0) checkFlags(flags);
      return this.#half.recvfrom(bufsize, flags) as Promise<[Buffer, SenderOf<F, T>]>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Like {@link recvfrom} into your buffer: `[count, address]`. */
  async recvfrom_into(buffer: Uint8Array, nbytes = 0, flags = 0): Promise<[number, SenderOf<F, T>]> {
    if (!(buffer instanceof Uint8Array)) throw argTypeError("buffer", "a Buffer or Uint8Array", buffer);
    checkInt("nbytes", nbytes, 0, buffer.length);
    const [data, addr] = await this.recvfrom(nbytes === 0 ? buffer.length : nbytes, flags);
    buffer.set(data, 0);
    return [data.length, addr];
  }

  /**
   * Receives into `buffer` (at most `nbytes`, default its length); resolves the byte count, 0 at
   * EOF.
   */
  async recv_into(buffer: Uint8Array, nbytes = 0, flags = 0): Promise<number> {
    if (!(buffer instanceof Uint8Array)) throw argTypeError("buffer", "a Buffer or Uint8Array", buffer);
    checkInt("nbytes", nbytes, 0, buffer.length);
    checkFlags(flags);
    return this.#half.recvInto(buffer, nbytes === 0 ? buffer.length : nbytes, flags);
  }

  /**
   * Receives exactly `n` bytes (waiting as needed); rejects UnexpectedEOFError (with `partial`)
   * if the stream ends first. Python spells this `recv(n, MSG_WAITALL)` plus a length check.
   */
  async recv_exactly(n: number): Promise<Buffer> {
    checkInt("n", n, 0, MAX_RECV);
    return this.#half.recvExactly(n);
  }

  /**
   * Receives one line, up to and including "\n" (as Python's `makefile().readline()`); at EOF
   * what is left, then empty Buffers. Rejects FrameTooLargeError when `max` bytes (default
   * 64 KiB) arrive without a newline.
   */
  async readline(opts: { max?: number } = {}): Promise<Buffer> {
    if (opts === null || typeof opts !== "object")
      throw argTypeError("opts", "an object such as { max: 1024 }", opts);
    const max = checkInt("max", opts.max ?? DEFAULT_MAX_LINE, 1, MAX_RECV);
    return this.#half.readline(max);
  }

  /**
   * Sends `data`, waiting while the peer is not reading (memory stays bounded); resolves the
   * number of bytes sent (all of them).
   */
  send(data: Uint8Array | string, flags = 0): Promise<number> {
    try {
      const buf = toBytes(data);
      if (flags !== 0) checkFlags(flags);
      return this.#half.send(buf, flags, "send");
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends all of `data` (waits as {@link send} does); resolves undefined, like Python's None. */
  async sendall(data: Uint8Array | string, flags = 0): Promise<void> {
    const buf = toBytes(data);
    if (flags !== 0) checkFlags(flags);
    await this.#half.send(buf, flags, "sendall");
  }

  /**
   * Sends one datagram to `address`: `sendto(data, address)` or `sendto(data, flags, address)`.
   * An unbound socket is bound to a free port first. EMSGSIZE (before sending) for a payload that
   * cannot fit in one datagram; PermissionError for a broadcast address without SO_BROADCAST;
   * EINVAL for port 0, as Linux. A literal address needs no lookup (and, once the socket is bound,
   * no extra promise); a name is resolved with getaddrinfo on every call.
   */
  sendto(data: Uint8Array | string, address: SockAddrArg<F>): Promise<number>;
  sendto(data: Uint8Array | string, flags: number, address: SockAddrArg<F>): Promise<number>;
  sendto(
    data: Uint8Array | string,
    flagsOrAddress: number | SockAddrArg<F>,
    address?: SockAddrArg<F>,
  ): Promise<number> {
    try {
      const buf = toBytes(data);
      const flags = address === undefined ? 0 : (flagsOrAddress as number);
      const to = (address === undefined ? flagsOrAddress : address) as SockAddr;
      checkFlags(flags);
      return this.#half.sendto(buf, flags, to);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Half-closes: SHUT_WR sends FIN (the peer reads EOF and may answer), SHUT_RD stops reading. */
  shutdown(how: number): void {
    checkInt("how", how, 0, 2);
    this.#half.shutdown(how);
  }

  /**
   * Closes the socket: calls now waiting and every later call reject with EBADF; queued outgoing
   * data is still delivered; a listening Unix socket's path is removed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#half.state === "closed") return;
    await this.#half.close();
  }

  /** `await using s = socket()`: flushes queued sends (bounded), then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#half.state !== "closed") await this.#half.dispose();
  }

  // ---- addresses and options -------------------------------------------------------------------

  /** The local address: `[host, port]`, `[host, port, flowinfo, scope_id]` or a path. */
  getsockname(): SockAddrOf<F> {
    if (this.#half.state === "closed") throw closedError("getsockname");
    const ep = this.#half.localEndpoint();
    const r = fromEndpoint(this.family, ep) as SockAddrOf<F>;
    span(this.#fd, "getsockname", [])?.ok(endpointTrace(ep));
    return r;
  }

  /** The peer's address; OSError ENOTCONN when not connected. */
  getpeername(): SockAddrOf<F> {
    return this.#half.getpeername() as SockAddrOf<F>;
  }

  /** Sets an option (see docs/api.md for what each does in Node 20). */
  setsockopt(
    level: number,
    optname: number,
    value: number | boolean | Uint8Array | Membership | string,
  ): void {
    checkInt("level", level, -(2 ** 31), 2 ** 31 - 1);
    checkInt("optname", optname, -(2 ** 31), 2 ** 31 - 1);
    if (this.#half.state === "closed") throw closedError("setsockopt");
    this.#half.setsockopt(level, optname, value);
  }

  /** Reads an option; SO_ERROR reads and clears the pending error. */
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    checkInt("level", level, -(2 ** 31), 2 ** 31 - 1);
    checkInt("optname", optname, -(2 ** 31), 2 ** 31 - 1);
    if (buflen !== undefined) checkInt("buflen", buflen, 0, 1024);
    if (this.#half.state === "closed") throw closedError("getsockopt");
    return this.#half.getsockopt(level, optname, buflen);
  }

  /** Python-like description: `<socket fd=3, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=…>`. */
  toString(): string {
    const parts = [
      `fd=${this.fileno()}`,
      `family=${familyName(this.family)}`,
      `type=${typeName(this.type)}`,
      `proto=${this.proto}`,
    ];
    const state = this.#half.state;
    if (state !== "closed" && state !== "created")
      parts.push(`laddr=${formatEndpoint(this.#half.localEndpoint())}`);
    const peer = state === "closed" ? undefined : this.#half.peerEndpoint();
    if (peer) parts.push(`raddr=${formatEndpoint(peer)}`);
    return `<socket ${parts.join(", ")}${state === "closed" ? " [closed]" : ""}>`;
  }
}

const NONBLOCKING: Wait = { nonblocking: true };

/**
 * Creates a socket, as C's and Python's `socket(family, type, proto)`: AF_INET, AF_INET6 or
 * AF_UNIX with SOCK_STREAM, or AF_INET/AF_INET6 with SOCK_DGRAM; `SOCK_NONBLOCK` in `type` makes
 * it non-blocking (timeout 0), `SOCK_CLOEXEC` is ignored. What Linux refuses fails with Linux's
 * errno, as in Python (`socket(12345)`: EAFNOSUPPORT; `socket(AF_INET, 12345)`: EINVAL;
 * `socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)`: EPROTONOSUPPORT); what Linux allows but Node cannot
 * open (SOCK_RAW, AF_UNIX datagrams) fails with an OSError that says so.
 *
 * The result's type carries the family and type given as constants: `socket(AF_INET, SOCK_DGRAM)`
 * is a `Socket<typeof AF_INET, typeof SOCK_DGRAM>`, whose getsockname() is `[host, port]` and whose
 * recvfrom() sender is never `null`. A family or type only known at run time gives a plain
 * `Socket` (addresses: the union `SockAddr`). The behaviour is the same either way.
 *
 * @example
 * ```ts
 * const srv = socket(AF_INET, SOCK_STREAM);
 * await srv.bind(["", 8000]);
 * await srv.listen(5);
 * ```
 */
export function socket<F extends Family = typeof AF_INET, T extends SockType = typeof SOCK_STREAM>(
  family?: F,
  type?: T,
  proto?: number,
): Socket<F, T>;
export function socket<F extends Family>(family: F, type?: number, proto?: number): Socket<F>;
export function socket(family?: number, type?: number, proto?: number): Socket;
export function socket(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
  const a = checkSocketArgs(family, type, proto);
  const s = new Socket(a.family as Family, a.type as SockType, a.proto);
  if (a.nonblocking) s.settimeout(0);
  return s;
}
