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
  AF_UNIX,
  AF_UNSPEC,
  familyName,
  SOCK_DGRAM,
  SOCK_STREAM,
  typeName,
} from "../addr/constants.js";
import type { Datagram } from "../core/datagram.js";
import { type Endpoint, endpointTrace, formatEndpoint, type IpEndpoint } from "../core/endpoint.js";
import { allocFd, releaseFd } from "../core/fd.js";
import { StreamListener } from "../core/listener.js";
import { connectStream } from "../core/connect-stream.js";
import type { StreamSocket } from "../core/stream.js";
import { type Wait, Watchers } from "../core/wait.js";
import {
  argTypeError,
  closedError,
  checkInt,
  makeOSError,
  OSError,
  UnexpectedEOFError,
} from "../errors/index.js";
import { DEFAULT_MAX_LINE, MAX_RECV } from "../limits.js";
import { sym, traceDone, traceNow, tracing } from "../trace.js";
import { MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SHUT_WR } from "./constants.js";
import { ipFamily } from "../addr/inet.js";
import { checkSocketArgs } from "./create.js";
import { DatagramPart, type Membership } from "./dgram.js";
import { SocketOptions } from "./options.js";
import { fromEndpoint, toEndpoint } from "./sockaddr.js";
import { checkTimeout, getdefaulttimeout } from "./timeout.js";

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
  // Linux keeps a socket whose connect() did not wait in SS_CONNECTING until connect() is called
  // again: that call returns 0 once the connection is up (then EISCONN), or the error once it
  // failed (ECONNABORTED if the error was already read); "ok"/"failed" say which is due
  #connectDue: "ok" | "failed" | undefined;
  #abortConnect: AbortController | undefined;
  #timeout: number | null;
  #optsObj: SocketOptions | undefined;
  #waitObj: Wait | undefined;
  readonly #dg: DatagramPart | undefined;
  #discarded = 0;
  #lastTo: { to: unknown[]; ep: IpEndpoint } | undefined;
  #watchersObj: Watchers | undefined;

  /** Use {@link socket}; `stream` wraps an accepted connection. */
  constructor(family: number, type: number, proto = 0, stream?: StreamSocket) {
    this.family = family;
    this.type = type;
    this.proto = proto;
    this.#timeout = getdefaulttimeout();
    if (stream) {
      this.#stream = stream;
      this.#fd = stream.fd;
      this.#state = "connected";
    } else {
      const t0 = tracing() ? traceNow() : 0;
      this.#fd = allocFd();
      if (t0) traceDone(this.#fd, "socket", [sym(familyName(family)), sym(typeName(type))], t0, this.#fd);
    }
    this.#dg = type === SOCK_DGRAM ? new DatagramPart(family, this.#fd) : undefined;
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

  /** Reads and clears the error of a failed non-blocking connect (SO_ERROR). @internal */
  takeConnectError(): OSError | undefined {
    const e = this.#connectError;
    this.#connectError = undefined;
    return e;
  }

  /** Datagram sockets: datagrams dropped because the receive queue was full. */
  get drops(): number {
    return this.#dg?.existing?.drops ?? 0;
  }

  /** Datagram sockets: sends still queued (and so discarded) when the socket was closed. */
  get discardedSends(): number {
    return this.#discarded;
  }

  /**
   * Readiness for select()/poll(), as Linux's tcp_poll computes it: readable = data, EOF, a
   * pending connection or an error; writable = connected (or a datagram socket) and below the
   * send high-water mark; error = a pending error (POLLERR); hangup = both directions shut (the
   * peer's FIN received, or SHUT_RD, and our write side shut) or the connection reset (POLLHUP);
   * rdhup = the read direction shut (POLLRDHUP). Throws EBADF on a closed socket.
   */
  readiness(): Readiness {
    if (this.#state === "closed") throw closedError("select");
    if (this.#dg) {
      const core = this.#dg.existing;
      return { readable: core?.readable ?? false, writable: true, error: false };
    }
    if (this.#state === "listening")
      return { readable: this.#listener!.readable, writable: false, error: false };
    const s = this.#stream;
    if (s) {
      const rdhup = s.finReceived || s.readShut;
      return {
        readable: s.readable,
        writable: s.writable,
        error: s.pendingError("select") !== undefined,
        hangup: (rdhup && s.writeShut) || s.broken,
        rdhup,
      };
    }
    // a failed non-blocking connect: the kernel has closed the socket (TCP_CLOSE) with an error
    const failed = this.#connectError !== undefined && this.#state === "created";
    return { readable: failed, writable: failed, error: failed, hangup: failed, rdhup: failed };
  }

  /** Calls `cb` whenever {@link readiness} may have changed; returns the remover. For select(). */
  watch(cb: () => void): () => void {
    const offs = [this.#watchers.add(cb)];
    const core = this.#dg ? this.#dg.core() : (this.#stream ?? this.#listener);
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

  /** Options are made on first use (most sockets never set one). */
  get #opts(): SocketOptions {
    this.#optsObj ??= new SocketOptions(this);
    return this.#optsObj;
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
  async bind(address: SockAddr): Promise<void> {
    this.#check("bind", "created", "the socket is already bound or connected");
    const ep = await this.#endpoint(address, "bind");
    this.#check("bind", "created", "the socket is already bound or connected");
    if (this.#dg) {
      await this.#dg.bind(ep as IpEndpoint);
      if (this.#state === "created") this.#state = "bound";
      return;
    }
    this.#listener = await StreamListener.bind(ep, { fd: this.#fd, ipv6Only: this.#opts.v6only });
    if (this.#state === "closed") {
      await this.#listener.close();
      throw closedError("bind");
    }
    this.#state = "bound";
  }

  /**
   * Starts accepting connections; at most `backlog` wait for {@link accept} (the rest are
   * reset). An unbound socket is bound to a free port first, as Linux does.
   */
  async listen(backlog?: number): Promise<void> {
    if (backlog !== undefined) checkInt("backlog", backlog, -(2 ** 31), 2 ** 31 - 1);
    if (this.#dg)
      throw makeOSError("EOPNOTSUPP", {
        op: "listen",
        hint: "datagram sockets do not listen; recvfrom() instead",
      });
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
    if (this.#dg)
      throw makeOSError("EOPNOTSUPP", {
        op: "accept",
        hint: "datagram sockets do not accept; recvfrom() instead",
      });
    this.#check("accept", "listening", "call listen() before accept()");
    const stream = await this.#listener!.accept(this.#wait());
    const conn = new Socket(this.family, this.type, this.proto, stream);
    this.#optsObj?.inherit(conn);
    return [conn, fromEndpoint(this.family, stream.remoteEndpoint())];
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
   * Datagram sockets: sets the default peer. Port 0 fails with EOPNOTSUPP: Linux accepts it, but
   * Node.js 20 cannot connect a UDP socket to port 0.
   */
  async connect(address: SockAddr | typeof AF_UNSPEC): Promise<void> {
    if (this.#dg) return this.#connectDatagram(address);
    if (address === AF_UNSPEC)
      throw argTypeError("address", "an address (AF_UNSPEC dissolves datagram associations only)", address);
    if (this.#state === "connecting") {
      if (this.#connecting !== undefined && this.#timeout === 0) {
        throw makeOSError("EALREADY", { op: "connect", hint: "a non-blocking connect is in progress" });
      }
      try {
        await this.#connecting; // this call reports the result, as a blocking connect would
      } finally {
        this.#connectDue = undefined;
        this.#connectError = undefined;
      }
      return;
    }
    if (this.#state === "connected") {
      if (this.#connectDue === "ok") {
        this.#connectDue = undefined;
        return;
      }
      throw makeOSError("EISCONN", { op: "connect" });
    }
    if (this.#connectDue === "failed" && this.#state === "created") {
      this.#connectDue = undefined;
      throw (
        this.takeConnectError() ??
        makeOSError("ECONNABORTED", {
          op: "connect",
          hint: "the earlier connect failed and its error was already read (SO_ERROR or recv); connect again to retry",
        })
      );
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
    const waits = this.#timeout === null; // a blocking connect reports its own result
    this.#connectDue = undefined;
    this.#connectError = undefined;
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
        this.#optsObj?.apply(stream);
        this.#state = "connected";
        this.#connecting = undefined;
        if (!waits) this.#connectDue = "ok";
        this.#watchers.notify();
      },
      (err: OSError) => {
        this.#connecting = undefined;
        if (this.#state === "closed") {
          releaseFd(this.#fd);
          throw closedError("connect");
        }
        this.#state = "created";
        // the error stays pending (SO_ERROR, select) only after a non-blocking connect: a
        // blocking one returns it, and one with a timeout reads it (SO_ERROR) to return it
        if (nonblocking) this.#connectError = err;
        // a timeout or an abort gives the attempt up: nothing is due
        if (!waits && err.code !== "ETIMEDOUT" && err.code !== "EINTR") this.#connectDue = "failed";
        this.#watchers.notify();
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
  async connect_ex(address: SockAddr | typeof AF_UNSPEC): Promise<number> {
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
      if (flags !== 0) this.#checkFlags(flags);
      const s = this.#stream;
      // the common case without an extra async layer: a connected stream socket
      if (s !== undefined && this.#state === "connected")
        return s.recv(bufsize, recvFlags(flags), this.#wait(flags));
      return this.#recvSlow(bufsize, flags);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #recvSlow(bufsize: number, flags: number): Promise<Buffer> {
    if (this.#dg) return (await this.#recvDatagram(bufsize, flags, "recv")).data;
    const s = await this.#connected("recv");
    return s.recv(bufsize, recvFlags(flags), this.#wait(flags));
  }

  /**
   * Datagram sockets: one datagram, at most `bufsize` bytes of it (the rest is discarded, as
   * the kernel does), and the sender's address. Stream sockets: `[await recv(bufsize), null]`.
   */
  recvfrom(bufsize: number, flags = 0): Promise<[Buffer, SockAddr | null]> {
    try {
      checkInt("bufsize", bufsize, 0, MAX_RECV);
      if (flags !== 0) this.#checkFlags(flags);
      if (!this.#dg) return this.recv(bufsize, flags).then((b) => [b, null]);
      const family = this.family;
      return this.#recvDatagram(bufsize, flags, "recvfrom").then((d) => [
        d.data,
        fromEndpoint(family, d.from),
      ]);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Like {@link recvfrom} into your buffer: `[count, address]`. */
  async recvfrom_into(buffer: Uint8Array, nbytes = 0, flags = 0): Promise<[number, SockAddr | null]> {
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
    this.#checkFlags(flags);
    const n = nbytes === 0 ? buffer.length : nbytes;
    if (this.#dg) {
      const d = await this.#recvDatagram(n, flags, "recv_into");
      buffer.set(d.data, 0);
      return d.data.length;
    }
    const s = await this.#connected("recv_into");
    return s.recvInto(
      buffer,
      n,
      { peek: (flags & MSG_PEEK) !== 0, waitall: (flags & MSG_WAITALL) !== 0 },
      this.#wait(flags),
    );
  }

  /**
   * Receives exactly `n` bytes (waiting as needed); rejects UnexpectedEOFError (with `partial`)
   * if the stream ends first. Python spells this `recv(n, MSG_WAITALL)` plus a length check.
   */
  async recv_exactly(n: number): Promise<Buffer> {
    checkInt("n", n, 0, MAX_RECV);
    if (this.#dg)
      throw makeOSError("EOPNOTSUPP", {
        op: "recv_exactly",
        hint: "datagram sockets receive whole datagrams",
      });
    const s = await this.#connected("recv_exactly");
    if (n === 0) return Buffer.alloc(0);
    const b = await s.recv(n, { waitall: true }, this.#wait());
    if (b.length < n) throw new UnexpectedEOFError("recv_exactly", b, n);
    return b;
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
    if (this.#dg)
      throw makeOSError("EOPNOTSUPP", { op: "readline", hint: "datagram sockets receive whole datagrams" });
    const s = await this.#connected("readline");
    return s.recvLine(max, this.#wait());
  }

  /**
   * Sends `data`, waiting while the peer is not reading (memory stays bounded); resolves the
   * number of bytes sent (all of them).
   */
  send(data: Uint8Array | string, flags = 0): Promise<number> {
    try {
      const buf = toBytes(data);
      if (flags !== 0) this.#checkFlags(flags);
      const s = this.#stream;
      if (s !== undefined && this.#state === "connected") return s.send(buf, this.#wait(flags), "send");
      return this.#sendSlow(buf, flags, "send");
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #sendSlow(buf: Uint8Array, flags: number, op: string): Promise<number> {
    if (this.#dg) return this.#sendDatagram(buf, undefined, flags);
    const s = await this.#connected(op, "EPIPE");
    return s.send(buf, this.#wait(flags), op);
  }

  /** Sends all of `data` (waits as {@link send} does); resolves undefined, like Python's None. */
  async sendall(data: Uint8Array | string, flags = 0): Promise<void> {
    const buf = toBytes(data);
    if (flags !== 0) this.#checkFlags(flags);
    const s = this.#stream;
    if (s !== undefined && this.#state === "connected") await s.send(buf, this.#wait(flags), "sendall");
    else await this.#sendSlow(buf, flags, "sendall");
  }

  /**
   * Sends one datagram to `address`: `sendto(data, address)` or `sendto(data, flags, address)`.
   * An unbound socket is bound to a free port first. EMSGSIZE (before sending) for a payload that
   * cannot fit in one datagram; PermissionError for a broadcast address without SO_BROADCAST;
   * EINVAL for port 0, as Linux.
   */
  async sendto(
    data: Uint8Array | string,
    flagsOrAddress: number | SockAddr,
    address?: SockAddr,
  ): Promise<number> {
    const buf = toBytes(data);
    const flags = address === undefined ? 0 : (flagsOrAddress as number);
    const to = address === undefined ? (flagsOrAddress as SockAddr) : address;
    this.#checkFlags(flags);
    if (!this.#dg) {
      if (this.#state === "connected")
        throw makeOSError("EISCONN", { op: "sendto", hint: "a connected stream socket uses send()" });
      throw makeOSError("EPIPE", { op: "sendto", hint: "stream sockets connect() first, then send()" });
    }
    if (this.#state === "closed") throw closedError("sendto");
    // fast path: the same literal address as last time, on a bound socket (a reply loop)
    const last = this.#lastTo;
    const core = this.#dg.existing;
    if (last !== undefined && core?.bound && sameAddress(last.to, to)) {
      return core.sendto(buf, last.ep, this.#wait(flags));
    }
    // counted as in flight from now on: a close() meanwhile waits for it
    const release = this.#dg.core().hold();
    try {
      const ep = (await this.#endpoint(to, "sendto")) as IpEndpoint;
      if (ep.port === 0) {
        // Linux's udp_sendmsg refuses a destination port of 0
        throw makeOSError("EINVAL", {
          op: "sendto",
          address: formatEndpoint(ep),
          hint: "port 0 is not a destination; give the receiver's port",
        });
      }
      if (Array.isArray(to) && typeof to[0] === "string" && ipFamily(to[0]) !== 0)
        this.#lastTo = { to: [...to], ep };
      return await this.#sendDatagram(buf, ep, flags, true);
    } finally {
      release();
    }
  }

  /** Half-closes: SHUT_WR sends FIN (the peer reads EOF and may answer), SHUT_RD stops reading. */
  shutdown(how: number): void {
    checkInt("how", how, 0, 2);
    if (this.#state === "closed") throw closedError("shutdown");
    if (this.#dg) {
      throw makeOSError(this.#state === "connected" ? "EOPNOTSUPP" : "ENOTCONN", {
        op: "shutdown",
        hint: "datagram sockets have no connection to shut down",
      });
    }
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
    this.#watchers.notify();
    if (this.#dg) {
      const core = this.#dg.existing;
      if (core) this.#discarded = await core.close();
      else {
        releaseFd(this.#fd);
        if (tracing()) traceDone(this.#fd, "close", [], traceNow(), 0);
      }
      return;
    }
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
    if (this.#state === "closed") throw closedError("getsockname");
    const ep = this.#dg
      ? this.#dg.existing?.localEndpoint()
      : (this.#stream?.localEndpoint() ?? this.#listener?.endpoint);
    const r = fromEndpoint(this.family, ep);
    if (tracing()) traceDone(this.#fd, "getsockname", [], traceNow(), endpointTrace(ep));
    return r;
  }

  /** The peer's address; OSError ENOTCONN when not connected. */
  getpeername(): SockAddr {
    if (this.#state === "closed") throw closedError("getpeername");
    if (this.#dg) {
      const peer = this.#dg.existing?.peer;
      if (!peer) throw makeOSError("ENOTCONN", { op: "getpeername" });
      return fromEndpoint(this.family, peer);
    }
    // after a reset (or both FINs) Linux has forgotten the peer: ENOTCONN, as getpeername(2)
    if (!this.#stream?.connected) throw makeOSError("ENOTCONN", { op: "getpeername" });
    return fromEndpoint(this.family, this.#stream.remoteEndpoint());
  }

  /** Sets an option (see docs/api.md for what each does in Node 20). */
  setsockopt(
    level: number,
    optname: number,
    value: number | boolean | Uint8Array | Membership | string,
  ): void {
    checkInt("level", level, -(2 ** 31), 2 ** 31 - 1);
    checkInt("optname", optname, -(2 ** 31), 2 ** 31 - 1);
    if (this.#state === "closed") throw closedError("setsockopt");
    if (this.#dg) {
      this.#dg.set(level, optname, value);
      return;
    }
    if (typeof value === "string" || (typeof value === "object" && !(value instanceof Uint8Array))) {
      throw argTypeError("value", "an integer, boolean or 4-byte buffer", value);
    }
    this.#opts.set(level, optname, value);
  }

  /** Reads an option; SO_ERROR reads and clears the pending error. */
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    checkInt("level", level, -(2 ** 31), 2 ** 31 - 1);
    checkInt("optname", optname, -(2 ** 31), 2 ** 31 - 1);
    if (buflen !== undefined) checkInt("buflen", buflen, 0, 1024);
    if (this.#state === "closed") throw closedError("getsockopt");
    if (this.#dg) return this.#dg.get(level, optname);
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
    if (this.#state === "closed") throw closedError(op);
    if (this.#state !== want) throw makeOSError("EINVAL", { op, ...(hint ? { hint } : {}) });
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

  async #connectDatagram(address: SockAddr | typeof AF_UNSPEC): Promise<void> {
    if (this.#state === "closed") throw closedError("connect");
    const dg = this.#dg!;
    if (address === AF_UNSPEC) {
      dg.existing?.disconnect();
      if (this.#state === "connected") this.#state = "bound";
      return;
    }
    const ep = (await this.#endpoint(address, "connect")) as IpEndpoint;
    if (ep.port === 0) {
      // Linux accepts it (and send() then fails); Node's dgram refuses port 0 outright
      throw makeOSError("EOPNOTSUPP", {
        op: "connect",
        address: formatEndpoint(ep),
        hint: "Node.js 20 cannot connect a UDP socket to port 0; give the peer's port",
      });
    }
    const core = await dg.ensureBound();
    await core.connect(ep);
    this.#state = "connected";
  }

  async #sendDatagram(
    buf: Uint8Array,
    to: IpEndpoint | undefined,
    flags: number,
    held = false,
  ): Promise<number> {
    if (this.#state === "closed" && !held) throw closedError(to ? "sendto" : "send");
    const dg = this.#dg!;
    const release = held ? undefined : dg.core().hold();
    try {
      const core = await dg.ensureBound();
      if (this.#state === "created") this.#state = "bound";
      return await core.sendto(buf, to, this.#wait(flags), true);
    } finally {
      release?.();
    }
  }

  #recvDatagram(n: number, flags: number, op: string): Promise<Datagram> {
    if (this.#state === "closed") return Promise.reject(closedError(op));
    return this.#dg!.core().recvfrom(n, (flags & MSG_PEEK) !== 0, this.#wait(flags));
  }

  async #connected(op: string, notConnected = "ENOTCONN"): Promise<StreamSocket> {
    if (this.#state === "connecting" && this.#connecting) {
      if (this.#timeout === 0)
        throw makeOSError("EAGAIN", { op, hint: "the non-blocking connect has not completed" });
      await this.#connecting;
    }
    if (this.#state === "closed") throw closedError(op);
    if (!this.#stream) {
      // a failed non-blocking connect's error is what the next recv/send meets, once (Linux)
      const failed = this.takeConnectError();
      if (failed !== undefined) throw failed;
      throw makeOSError(notConnected, {
        op,
        hint: "the socket is not connected; connect() or accept() first",
      });
    }
    return this.#stream;
  }

  async #endpoint(address: SockAddr, op: string): Promise<Endpoint> {
    return toEndpoint(this.family, address, op, this.#dg ? "udp" : "tcp");
  }
}

const NONBLOCKING: Wait = { nonblocking: true };

/**
 * What {@link Socket.readiness} reports.
 * @example `const r: Readiness = sock.readiness(); if (r.hangup) console.log("both directions shut")`
 */
export interface Readiness {
  /** A recv/accept would not wait (POLLIN). */
  readonly readable: boolean;
  /** A send would not wait (POLLOUT). */
  readonly writable: boolean;
  /** An error is pending (POLLERR). */
  readonly error: boolean;
  /** Both directions are shut, or the connection was reset (POLLHUP). */
  readonly hangup?: boolean;
  /** The read direction is shut: the peer's FIN, or SHUT_RD (POLLRDHUP). */
  readonly rdhup?: boolean;
}

/** True when `to` is the same [host, port(, flow, scope)] array as `prev` (numeric hosts only). */
function sameAddress(prev: unknown[], to: unknown): boolean {
  if (!Array.isArray(to) || to.length !== prev.length) return false;
  for (let i = 0; i < to.length; i++) if (to[i] !== prev[i]) return false;
  return true;
}
const PEEK = { peek: true } as const;
const WAITALL = { waitall: true } as const;

function recvFlags(flags: number): { peek?: boolean; waitall?: boolean } | undefined {
  if ((flags & (MSG_PEEK | MSG_WAITALL)) === 0) return undefined;
  if ((flags & (MSG_PEEK | MSG_WAITALL)) === MSG_PEEK) return PEEK;
  if ((flags & (MSG_PEEK | MSG_WAITALL)) === MSG_WAITALL) return WAITALL;
  return { peek: true, waitall: true };
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return Buffer.from(data);
  throw argTypeError("data", "a Buffer, Uint8Array or string", data);
}

/**
 * Creates a socket, as C's and Python's `socket(family, type, proto)`: AF_INET, AF_INET6 or
 * AF_UNIX with SOCK_STREAM, or AF_INET/AF_INET6 with SOCK_DGRAM; `SOCK_NONBLOCK` in `type` makes
 * it non-blocking (timeout 0), `SOCK_CLOEXEC` is ignored. What Linux refuses fails with Linux's
 * errno, as in Python (`socket(12345)`: EAFNOSUPPORT; `socket(AF_INET, 12345)`: EINVAL;
 * `socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)`: EPROTONOSUPPORT); what Linux allows but Node cannot
 * open (SOCK_RAW, AF_UNIX datagrams) fails with an OSError that says so.
 *
 * @example
 * ```ts
 * const srv = socket(AF_INET, SOCK_STREAM);
 * await srv.bind(["", 8000]);
 * await srv.listen(5);
 * ```
 */
export function socket(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
  const a = checkSocketArgs(family, type, proto);
  const s = new Socket(a.family, a.type, a.proto);
  if (a.nonblocking) s.settimeout(0);
  return s;
}
