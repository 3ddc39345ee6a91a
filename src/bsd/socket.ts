/**
 * The Berkeley face: `socket(family, type)` returns a {@link Socket} whose methods are named and
 * behave as in Python's `socket` module (and so as in C), delegating all I/O to the core.
 *
 * State machine: created → bound → listening, or created/bound → connected; any → closed.
 *
 * @module
 */
import type { SockAddr } from "../addr/address.js";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  familyName,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  typeName,
} from "../addr/constants.js";
import { type Endpoint, endpointTrace, formatEndpoint } from "../core/endpoint.js";
import { allocFd, releaseFd } from "../core/fd.js";
import { StreamListener } from "../core/listener.js";
import { connectStream, type StreamSocket } from "../core/stream.js";
import type { Wait } from "../core/wait.js";
import { argRangeError, argTypeError, checkInt, makeOSError, OSError } from "../errors/index.js";
import { MAX_RECV } from "../limits.js";
import { sym, traceDone, traceNow, tracing } from "../trace.js";
import { MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SHUT_WR } from "./constants.js";
import { SocketOptions } from "./options.js";
import { fromEndpoint, toEndpoint } from "./sockaddr.js";
import { getdefaulttimeout } from "./timeout.js";

type State = "created" | "bound" | "listening" | "connecting" | "connected" | "closed";

const KNOWN_FLAGS = MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT | 0x4000; /* MSG_NOSIGNAL */

/**
 * A socket, as in Python: `socket(AF_INET, SOCK_STREAM)`. Everything that can wait returns a
 * Promise and honours {@link Socket.settimeout}; getters and option setters are synchronous.
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
export class Socket {
  /** Address family: AF_INET, AF_INET6 or AF_UNIX. */
  readonly family: number;
  /** Socket type: SOCK_STREAM. */
  readonly type: number;
  /** Protocol number (0 = default for the type). */
  readonly proto: number;
  #fd: number;
  #state: State = "created";
  #listener: StreamListener | undefined;
  #stream: StreamSocket | undefined;
  #connecting: Promise<void> | undefined;
  #connectError: OSError | undefined;
  #abortConnect: AbortController | undefined;
  #timeout: number | null;
  readonly #opts: SocketOptions;

  /** Use {@link socket}; `stream` wraps an accepted connection. */
  constructor(family: number, type: number, proto = 0, stream?: StreamSocket) {
    this.family = family;
    this.type = type;
    this.proto = proto;
    this.#timeout = getdefaulttimeout();
    this.#opts = new SocketOptions(this);
    if (stream) {
      this.#stream = stream;
      this.#fd = stream.fd;
      this.#state = "connected";
    } else {
      const t0 = tracing() ? traceNow() : 0;
      this.#fd = allocFd();
      if (t0) traceDone(this.#fd, "socket", [sym(familyName(family)), sym(typeName(type))], t0, this.#fd);
    }
  }

  /** The descriptor number (small, per process, as the trace shows it); -1 once closed. */
  fileno(): number {
    return this.#state === "closed" ? -1 : this.#fd;
  }

  /** The state: created, bound, listening, connecting, connected or closed. */
  get state(): State {
    return this.#state;
  }

  /** The core connection, once connected (used by select() and the options). @internal */
  get stream(): StreamSocket | undefined {
    return this.#stream;
  }

  /** The core listener, once bound or listening. @internal */
  get listener(): StreamListener | undefined {
    return this.#listener;
  }

  // ---- timeouts -------------------------------------------------------------------------------

  /**
   * Sets the timeout in seconds for every call that waits: `null` blocks forever, `0` makes the
   * socket non-blocking (BlockingIOError instead of waiting), `t > 0` raises TimeoutError after t
   * seconds (the socket stays usable and no data is lost).
   */
  settimeout(value: number | null): void {
    if (value !== null && (typeof value !== "number" || Number.isNaN(value))) {
      throw argTypeError("timeout", "a number of seconds or null", value);
    }
    if (value !== null && value < 0) throw argRangeError("timeout", "non-negative (or null)", value);
    this.#timeout = value;
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
    if (flags & MSG_DONTWAIT || this.#timeout === 0) return { nonblocking: true };
    return this.#timeout === null ? undefined : { timeout: this.#timeout * 1000 };
  }

  // ---- binding, listening, accepting ---------------------------------------------------------

  /**
   * Binds to a local address: `["", 8000]` (any), `["127.0.0.1", 0]` (a free port), a path for
   * AF_UNIX. EADDRINUSE surfaces here; `getsockname()` then gives the real port.
   */
  async bind(address: SockAddr): Promise<void> {
    this.#check("bind", "created", "the socket is already bound or connected");
    const ep = await this.#endpoint(address, "bind");
    this.#check("bind", "created", "the socket is already bound or connected");
    this.#listener = await StreamListener.bind(ep, { fd: this.#fd, ipv6Only: this.#opts.v6only });
    if (this.#state === "closed") {
      await this.#listener.close();
      throw this.#ebadf("bind");
    }
    this.#state = "bound";
  }

  /**
   * Starts accepting connections; at most `backlog` wait for {@link accept} (the rest are
   * reset). An unbound socket is bound to a free port first, as Linux does.
   */
  async listen(backlog?: number): Promise<void> {
    if (backlog !== undefined) checkInt("backlog", backlog, -(2 ** 31), 2 ** 31 - 1);
    if (this.#state === "created") {
      await this.bind(this.family === AF_UNIX ? `\0sockit-${process.pid}-${this.#fd}` : ["", 0]);
    }
    if (this.#state === "listening") return;
    this.#check("listen", "bound", "listen() needs a bound, unconnected socket");
    this.#listener!.listen(Math.min(Math.max(backlog ?? 128, 0), 4096));
    this.#state = "listening";
  }

  /** Waits for a connection; resolves `[newSocket, peerAddress]`. */
  async accept(): Promise<[Socket, SockAddr]> {
    this.#check("accept", "listening", "call listen() before accept()");
    const stream = await this.#listener!.accept(this.#wait());
    const conn = new Socket(this.family, this.type, this.proto, stream);
    this.#opts.inherit(conn);
    return [conn, fromEndpoint(this.family, stream.remoteEndpoint())];
  }

  // ---- connecting ------------------------------------------------------------------------------

  /**
   * Connects to a server. A bound socket connects from its bound address and port. Rejects
   * ConnectionRefusedError, TimeoutError (after `settimeout`), FileNotFoundError (no Unix path),
   * gaierror (unknown name). Non-blocking: BlockingIOError (EINPROGRESS) while it completes.
   */
  async connect(address: SockAddr): Promise<void> {
    if (this.#state === "connecting") {
      if (this.#connecting !== undefined && this.#timeout === 0) {
        throw makeOSError("EALREADY", { op: "connect", hint: "a non-blocking connect is in progress" });
      }
      await this.#connecting;
      return;
    }
    if (this.#state === "connected") {
      if (this.#connectError !== undefined) throw this.#connectError;
      throw makeOSError("EISCONN", { op: "connect" });
    }
    if (this.#state !== "created" && this.#state !== "bound") this.#check("connect", "created", "");
    const ep = await this.#endpoint(address, "connect");
    let local: Endpoint | undefined;
    if (this.#state === "bound") {
      local = this.#listener!.endpoint;
      if (this.family === AF_UNIX) {
        throw makeOSError("EOPNOTSUPP", {
          op: "connect",
          hint: "Node cannot connect from a bound AF_UNIX path; connect without bind()",
        });
      }
      await this.#listener!.close(false); // keep the descriptor: the connection takes it over
      this.#listener = undefined;
    }
    const nonblocking = this.#timeout === 0;
    this.#state = "connecting";
    const abort = new AbortController();
    this.#abortConnect = abort;
    const p = connectStream(ep, {
      fd: this.#fd,
      signal: abort.signal,
      ...(this.#timeout !== null && this.#timeout > 0 ? { timeout: this.#timeout * 1000 } : {}),
      ...(local && "address" in local ? { localAddress: local.address, localPort: local.port } : {}),
      noDelay: this.#opts.nodelay,
      keepAlive: this.#opts.keepalive,
    }).then(
      (stream) => {
        if (this.#state === "closed") {
          stream.close();
          return;
        }
        this.#stream = stream;
        this.#opts.apply(stream);
        this.#state = "connected";
        this.#connecting = undefined;
      },
      (err: OSError) => {
        this.#connecting = undefined;
        if (this.#state === "closed") {
          releaseFd(this.#fd);
          throw this.#ebadf("connect");
        }
        this.#state = "created";
        this.#connectError = err;
        throw err;
      },
    );
    if (nonblocking) {
      this.#connecting = p;
      p.catch(() => {});
      throw makeOSError("EINPROGRESS", { op: "connect", address: formatEndpoint(ep) });
    }
    this.#connecting = p;
    await p;
  }

  /** Like {@link connect} but resolves the errno (0 on success) instead of throwing OSError. */
  async connect_ex(address: SockAddr): Promise<number> {
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
  async recv(bufsize: number, flags = 0): Promise<Buffer> {
    checkInt("bufsize", bufsize, 0, MAX_RECV);
    this.#checkFlags(flags);
    const s = await this.#connected("recv");
    return s.recv(
      bufsize,
      { peek: (flags & MSG_PEEK) !== 0, waitall: (flags & MSG_WAITALL) !== 0 },
      this.#wait(flags),
    );
  }

  /** Stream sockets: `[await recv(bufsize), null]`, as Python returns for TCP. */
  async recvfrom(bufsize: number, flags = 0): Promise<[Buffer, null]> {
    return [await this.recv(bufsize, flags), null];
  }

  /**
   * Receives into `buffer` (at most `nbytes`, default its length); resolves the byte count, 0 at
   * EOF.
   */
  async recv_into(buffer: Uint8Array, nbytes = 0, flags = 0): Promise<number> {
    if (!(buffer instanceof Uint8Array)) throw argTypeError("buffer", "a Buffer or Uint8Array", buffer);
    checkInt("nbytes", nbytes, 0, buffer.length);
    this.#checkFlags(flags);
    const n = nbytes === 0 ? buffer.length : nbytes;
    const s = await this.#connected("recv_into");
    return s.recvInto(
      buffer,
      n,
      { peek: (flags & MSG_PEEK) !== 0, waitall: (flags & MSG_WAITALL) !== 0 },
      this.#wait(flags),
    );
  }

  /**
   * Sends `data`, waiting while the peer is not reading (memory stays bounded); resolves the
   * number of bytes sent (all of them).
   */
  async send(data: Uint8Array | string, flags = 0): Promise<number> {
    const buf = toBytes(data);
    this.#checkFlags(flags);
    const s = await this.#connected("send", "EPIPE");
    return s.send(buf, this.#wait(flags), "send");
  }

  /** Sends all of `data` (waits as {@link send} does); resolves undefined, like Python's None. */
  async sendall(data: Uint8Array | string, flags = 0): Promise<void> {
    const buf = toBytes(data);
    this.#checkFlags(flags);
    const s = await this.#connected("sendall", "EPIPE");
    await s.send(buf, this.#wait(flags), "sendall");
  }

  /** Half-closes: SHUT_WR sends FIN (the peer reads EOF and may answer), SHUT_RD stops reading. */
  shutdown(how: number): void {
    checkInt("how", how, 0, 2);
    if (this.#state === "closed") throw this.#ebadf("shutdown");
    if (this.#state !== "connected" || !this.#stream) throw makeOSError("ENOTCONN", { op: "shutdown" });
    this.#stream.shutdown(how === SHUT_RD || how === SHUT_RDWR, how === SHUT_WR || how === SHUT_RDWR);
  }

  /**
   * Closes the socket: calls now waiting and every later call reject with EBADF; queued outgoing
   * data is still delivered; a listening Unix socket's path is removed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const prev = this.#state;
    this.#state = "closed";
    if (this.#stream) this.#stream.close();
    else if (this.#listener) await this.#listener.close();
    else if (prev === "connecting") this.#abortConnect?.abort();
    else {
      const t0 = tracing() ? traceNow() : 0;
      releaseFd(this.#fd);
      if (t0) traceDone(this.#fd, "close", [], t0, 0);
    }
  }

  /** `await using s = socket()`: flushes queued sends (bounded), then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#stream && this.#state === "connected") {
      try {
        await this.#stream.flush({ timeout: 5000 });
      } catch {
        // closing anyway
      }
    }
    await this.close();
  }

  // ---- addresses and options -------------------------------------------------------------------

  /** The local address: `[host, port]`, `[host, port, flowinfo, scope_id]` or a path. */
  getsockname(): SockAddr {
    if (this.#state === "closed") throw this.#ebadf("getsockname");
    const ep = this.#stream?.localEndpoint() ?? this.#listener?.endpoint;
    const r = fromEndpoint(this.family, ep);
    if (tracing()) traceDone(this.#fd, "getsockname", [], traceNow(), endpointTrace(ep));
    return r;
  }

  /** The peer's address; OSError ENOTCONN when not connected. */
  getpeername(): SockAddr {
    if (this.#state === "closed") throw this.#ebadf("getpeername");
    if (!this.#stream) throw makeOSError("ENOTCONN", { op: "getpeername" });
    return fromEndpoint(this.family, this.#stream.remoteEndpoint());
  }

  /** Sets an option (see docs/api.md for what each does in Node 20). */
  setsockopt(level: number, optname: number, value: number | boolean | Uint8Array): void {
    if (this.#state === "closed") throw this.#ebadf("setsockopt");
    this.#opts.set(level, optname, value);
  }

  /** Reads an option; SO_ERROR reads and clears the pending error. */
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    if (this.#state === "closed") throw this.#ebadf("getsockopt");
    return this.#opts.get(level, optname, buflen);
  }

  /** Python-like description: `<socket fd=3, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=…>`. */
  toString(): string {
    const parts = [
      `fd=${this.fileno()}`,
      `family=${familyName(this.family)}`,
      `type=${typeName(this.type)}`,
      `proto=${this.proto}`,
    ];
    if (this.#state !== "closed" && this.#state !== "created") {
      parts.push(`laddr=${formatEndpoint(this.#stream?.localEndpoint() ?? this.#listener?.endpoint)}`);
    }
    if (this.#stream && this.#state === "connected")
      parts.push(`raddr=${formatEndpoint(this.#stream.remoteEndpoint())}`);
    return `<socket ${parts.join(", ")}${this.#state === "closed" ? " [closed]" : ""}>`;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #check(op: string, want: State, hint: string): void {
    if (this.#state === "closed") throw this.#ebadf(op);
    if (this.#state !== want) throw makeOSError("EINVAL", { op, ...(hint ? { hint } : {}) });
  }

  #ebadf(op: string): OSError {
    return makeOSError("EBADF", { op, hint: "the socket is closed" });
  }

  #checkFlags(flags: number): void {
    checkInt("flags", flags, 0, 2 ** 31 - 1);
    if (flags & ~KNOWN_FLAGS) {
      throw makeOSError("EOPNOTSUPP", {
        op: "recv",
        hint: `flags 0x${(flags & ~KNOWN_FLAGS).toString(16)} are not supported`,
      });
    }
  }

  async #connected(op: string, notConnected = "ENOTCONN"): Promise<StreamSocket> {
    if (this.#state === "connecting" && this.#connecting) {
      if (this.#timeout === 0)
        throw makeOSError("EAGAIN", { op, hint: "the non-blocking connect has not completed" });
      await this.#connecting;
    }
    if (this.#state === "closed") throw this.#ebadf(op);
    if (!this.#stream)
      throw makeOSError(notConnected, {
        op,
        hint: "the socket is not connected; connect() or accept() first",
      });
    return this.#stream;
  }

  async #endpoint(address: SockAddr, op: string): Promise<Endpoint> {
    return toEndpoint(this.family, address, op);
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return Buffer.from(data);
  throw argTypeError("data", "a Buffer, Uint8Array or string", data);
}

/**
 * Creates a socket, as C's and Python's `socket(family, type, proto)`: AF_INET, AF_INET6 or
 * AF_UNIX with SOCK_STREAM. What Node cannot provide (SOCK_RAW, AF_UNIX datagrams) fails with an
 * OSError that says so.
 *
 * @example
 * ```ts
 * const srv = socket(AF_INET, SOCK_STREAM);
 * await srv.bind(["", 8000]);
 * await srv.listen(5);
 * ```
 */
export function socket(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
  checkInt("family", family, 0, 255);
  checkInt("type", type, 0, 2 ** 31 - 1);
  checkInt("proto", proto, 0, 255);
  const baseType = type & 0xf; // SOCK_NONBLOCK / SOCK_CLOEXEC bits are accepted and ignored
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) {
    throw makeOSError("EAFNOSUPPORT", {
      op: "socket",
      hint: `family ${family} is not supported; use AF_INET, AF_INET6 or AF_UNIX`,
    });
  }
  if (baseType === SOCK_RAW) {
    throw makeOSError("ESOCKTNOSUPPORT", {
      op: "socket",
      hint: "Node.js cannot open raw sockets (SOCK_RAW)",
    });
  }
  if (baseType === SOCK_DGRAM) {
    throw makeOSError("ESOCKTNOSUPPORT", {
      op: "socket",
      hint:
        family === AF_UNIX
          ? "Node.js cannot open AF_UNIX datagram sockets"
          : "datagram sockets are not available in this version of sockit",
    });
  }
  if (baseType !== SOCK_STREAM) {
    throw makeOSError("ESOCKTNOSUPPORT", {
      op: "socket",
      hint: `type ${type} is not supported; use SOCK_STREAM`,
    });
  }
  if (proto !== 0 && proto !== 6) {
    throw makeOSError("EPROTONOSUPPORT", {
      op: "socket",
      hint: "stream sockets use proto 0 (or IPPROTO_TCP)",
    });
  }
  return new Socket(family, baseType, proto);
}
