/**
 * The stream half of the Berkeley `Socket` (TCP, Unix): a listener or a connection from the core,
 * and the states of {@link STREAM_STATES} — every call asks the table whether the current state
 * allows it and which state it leads to.
 *
 * @module
 */
import type { SockAddr } from "../addr/address.js";
import { AF_UNIX, AF_UNSPEC } from "../addr/constants.js";
import { type Endpoint, formatEndpoint } from "../core/endpoint.js";
import { releaseFd } from "../core/fd.js";
import { StreamListener } from "../core/listener.js";
import { connectStream } from "../core/connect-stream.js";
import type { StreamSocket } from "../core/stream.js";
import { argTypeError, closedError, makeOSError, type OSError, UnexpectedEOFError } from "../errors/index.js";
import { span } from "../trace.js";
import { MSG_PEEK, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SHUT_WR } from "./constants.js";
import type { OptValue } from "./dgram-options.js";
import type { Half, Readiness, SocketHost } from "./half.js";
import { SocketOptions } from "./options.js";
import { fromEndpoint, toEndpoint } from "./sockaddr.js";
import { type Call, enter, isRefusal, refusal, STREAM_STATES, type StreamState } from "./states.js";

/** A connect in progress or just done: what the next connect()/SO_ERROR reports. */
interface ConnectState {
  connecting?: Promise<void> | undefined;
  error?: OSError | undefined;
  due?: "ok" | "failed" | undefined;
  abort?: AbortController | undefined;
}

/**
 * A stream socket's state and core objects.
 * @example `const half = new StreamHalf(sock); await half.bind(["", 0])`
 */
export class StreamHalf implements Half {
  readonly #host: SocketHost;
  #state: StreamState = "created";
  #listener: StreamListener | undefined;
  #stream: StreamSocket | undefined;
  // what only a connecting socket needs, in one object made on first use (an accepted
  // connection never has it: idle memory, docs/performance.md)
  #c: ConnectState | undefined;

  get #connecting(): Promise<void> | undefined {
    return this.#c?.connecting;
  }
  set #connecting(v: Promise<void> | undefined) {
    if (v !== undefined || this.#c !== undefined) (this.#c ??= {}).connecting = v;
  }
  get #connectError(): OSError | undefined {
    return this.#c?.error;
  }
  set #connectError(v: OSError | undefined) {
    if (v !== undefined || this.#c !== undefined) (this.#c ??= {}).error = v;
  }
  // Linux keeps a socket whose connect() did not wait in SS_CONNECTING until connect() is called
  // again: that call returns 0 once the connection is up (then EISCONN), or the error once it
  // failed (ECONNABORTED if the error was already read); "ok"/"failed" say which is due
  get #connectDue(): "ok" | "failed" | undefined {
    return this.#c?.due;
  }
  set #connectDue(v: "ok" | "failed" | undefined) {
    if (v !== undefined || this.#c !== undefined) (this.#c ??= {}).due = v;
  }
  get #abortConnect(): AbortController | undefined {
    return this.#c?.abort;
  }
  set #abortConnect(v: AbortController | undefined) {
    if (v !== undefined || this.#c !== undefined) (this.#c ??= {}).abort = v;
  }
  #optsObj: SocketOptions | undefined;

  constructor(host: SocketHost, stream?: StreamSocket) {
    this.#host = host;
    if (stream) {
      this.#stream = stream;
      this.#state = "connected";
    }
  }

  /** Address family (for the options). */
  get family(): number {
    return this.#host.family;
  }

  /** Socket type (for the options). */
  get type(): number {
    return this.#host.type;
  }

  /** Protocol (for the options). */
  get proto(): number {
    return this.#host.proto;
  }

  /** The state, as {@link STREAM_STATES} names it. */
  get state(): StreamState {
    return this.#state;
  }

  /** The core connection, once connected. */
  get stream(): StreamSocket | undefined {
    return this.#stream;
  }

  /** The core listener, once bound or listening. */
  get listener(): StreamListener | undefined {
    return this.#listener;
  }

  /** Reads and clears the error of a failed non-blocking connect (SO_ERROR). */
  takeConnectError(): OSError | undefined {
    const e = this.#connectError;
    this.#connectError = undefined;
    return e;
  }

  /** Options are made on first use (most sockets never set one). */
  get #opts(): SocketOptions {
    this.#optsObj ??= new SocketOptions(this);
    return this.#optsObj;
  }

  /** The state `call` leads to, or throws the table's refusal. */
  #enter(call: Call, op: string = call): StreamState {
    return enter(STREAM_STATES, this.#state, call, op);
  }

  // ---- binding, listening, accepting ---------------------------------------------------------

  async bind(address: SockAddr): Promise<void> {
    this.#enter("bind");
    const ep = await toEndpoint(this.family, address, "bind", "tcp");
    const next = this.#enter("bind");
    this.#listener = await StreamListener.bind(ep, { fd: this.#host._fd, ipv6Only: this.#opts.v6only });
    if (this.#state === "closed") {
      await this.#listener.close();
      throw closedError("bind");
    }
    this.#state = next;
  }

  async listen(backlog: number | undefined): Promise<void> {
    this.#enter("listen");
    if (this.#state === "created") {
      // Linux binds an unbound socket to a free port first
      await this.bind(this.family === AF_UNIX ? `\0sockit-${process.pid}-${this.#host._fd}` : ["", 0]);
    }
    if (this.#state === "listening") return;
    const next = this.#enter("listen");
    this.#listener!.listen(Math.min(Math.max(backlog ?? 128, 0), 4096));
    this.#state = next;
  }

  async accept(): Promise<StreamSocket> {
    this.#enter("accept");
    return this.#listener!.accept(this.#host._wait());
  }

  /** An accepted socket inherits the listener's options, as on Linux. */
  inherit(conn: { setsockopt(level: number, optname: number, value: number): void }): void {
    this.#optsObj?.inherit(conn);
  }

  // ---- connecting ------------------------------------------------------------------------------

  async connect(address: SockAddr | typeof AF_UNSPEC): Promise<void> {
    if (address === AF_UNSPEC)
      throw argTypeError("address", "an address (AF_UNSPEC dissolves datagram associations only)", address);
    if (this.#connectDue === "failed" && this.#state === "created") {
      // the earlier connect that did not wait failed: this call reports it, once
      this.#connectDue = undefined;
      throw (
        this.takeConnectError() ??
        makeOSError("ECONNABORTED", {
          op: "connect",
          hint: "the earlier connect failed and its error was already read (SO_ERROR or recv); connect again to retry",
        })
      );
    }
    const cell = STREAM_STATES[this.#state].connect;
    if (cell === "EALREADY" && this.#host._timeout() !== 0) {
      // a blocking call (or one with a timeout) reports the result of the connect in progress
      try {
        await this.#connecting;
      } finally {
        this.#connectDue = undefined;
        this.#connectError = undefined;
      }
      return;
    }
    if (cell === "EISCONN" && this.#connectDue === "ok") {
      this.#connectDue = undefined; // the connect that did not wait succeeded: reported once
      return;
    }
    this.#enter("connect");
    const ep = await toEndpoint(this.family, address, "connect", "tcp");
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
    const timeout = this.#host._timeout();
    const nonblocking = timeout === 0;
    const waits = timeout === null; // a blocking connect reports its own result
    this.#connectDue = undefined;
    this.#connectError = undefined;
    this.#state = "connecting";
    const abort = new AbortController();
    this.#abortConnect = abort;
    const p = connectStream(ep, {
      fd: this.#host._fd,
      signal: abort.signal,
      ...(timeout !== null && timeout > 0 ? { timeout: timeout * 1000 } : {}),
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
        this.#host._notify();
      },
      (err: OSError) => {
        this.#connecting = undefined;
        if (this.#state === "closed") {
          releaseFd(this.#host._fd);
          throw closedError("connect");
        }
        this.#state = "created";
        // the error stays pending (SO_ERROR, select) only after a non-blocking connect: a
        // blocking one returns it, and one with a timeout reads it (SO_ERROR) to return it
        if (nonblocking) this.#connectError = err;
        // a timeout or an abort gives the attempt up: nothing is due
        if (!waits && err.code !== "ETIMEDOUT" && err.code !== "EINTR") this.#connectDue = "failed";
        this.#host._notify();
        throw err;
      },
    );
    this.#connecting = p;
    if (nonblocking) {
      p.catch(() => {});
      throw makeOSError("EINPROGRESS", { op: "connect", address: formatEndpoint(ep) });
    }
    await p;
  }

  // ---- data ------------------------------------------------------------------------------------

  recv(n: number, flags: number, op: string): Promise<Buffer> {
    const s = this.#stream;
    // the common case without an extra async layer: a connected stream socket
    if (s !== undefined && this.#state === "connected")
      return s.recv(n, recvFlags(flags), this.#host._wait(flags));
    return this.#recvSlow(n, flags, op);
  }

  async #recvSlow(n: number, flags: number, op: string): Promise<Buffer> {
    const s = await this.#connected("recv", op);
    return s.recv(n, recvFlags(flags), this.#host._wait(flags));
  }

  recvfrom(n: number, flags: number): Promise<[Buffer, SockAddr | null]> {
    return this.recv(n, flags, "recv").then((b) => [b, null]);
  }

  async recvInto(buffer: Uint8Array, n: number, flags: number): Promise<number> {
    const s = await this.#connected("recv", "recv_into");
    return s.recvInto(buffer, n, recvFlags(flags) ?? {}, this.#host._wait(flags));
  }

  async recvExactly(n: number): Promise<Buffer> {
    const s = await this.#connected("recv", "recv_exactly");
    if (n === 0) return Buffer.alloc(0);
    const b = await s.recv(n, WAITALL, this.#host._wait());
    if (b.length < n) throw new UnexpectedEOFError("recv_exactly", b, n);
    return b;
  }

  async readline(max: number): Promise<Buffer> {
    const s = await this.#connected("recv", "readline");
    return s.recvLine(max, this.#host._wait());
  }

  send(buf: Uint8Array, flags: number, op: string): Promise<number> {
    const s = this.#stream;
    if (s !== undefined && this.#state === "connected") return s.send(buf, this.#host._wait(flags), op);
    return this.#sendSlow(buf, flags, op);
  }

  async #sendSlow(buf: Uint8Array, flags: number, op: string): Promise<number> {
    const s = await this.#connected("send", op);
    return s.send(buf, this.#host._wait(flags), op);
  }

  sendto(): Promise<number> {
    try {
      this.#enter("sendto");
      throw new Error("unreachable: a stream socket's table refuses sendto in every state");
    } catch (err) {
      return Promise.reject(err);
    }
  }

  shutdown(how: number): void {
    this.#enter("shutdown");
    this.#stream!.shutdown(how === SHUT_RD || how === SHUT_RDWR, how === SHUT_WR || how === SHUT_RDWR);
  }

  async close(): Promise<void> {
    const prev = this.#state;
    this.#state = this.#enter("close");
    this.#host._notify();
    if (this.#stream) this.#stream.close();
    else if (this.#listener) await this.#listener.close();
    else if (prev === "connecting") this.#abortConnect?.abort();
    else {
      const sp = span(this.#host._fd, "close", []);
      releaseFd(this.#host._fd);
      sp?.ok(0);
    }
  }

  async dispose(): Promise<void> {
    // the core's one flush-then-close; then the half's own close (state, listener, fd)
    if (this.#stream && this.#state === "connected") await this.#stream.flushAndClose();
    await this.close();
  }

  // ---- addresses, options, readiness -----------------------------------------------------------

  localEndpoint(): Endpoint | undefined {
    return this.#stream?.localEndpoint() ?? this.#listener?.endpoint;
  }

  peerEndpoint(): Endpoint | undefined {
    return this.#stream && this.#state === "connected" ? this.#stream.remoteEndpoint() : undefined;
  }

  getpeername(): SockAddr {
    this.#enter("getpeername");
    // after a reset (or both FINs) Linux has forgotten the peer: ENOTCONN, as getpeername(2)
    if (!this.#stream?.connected) throw makeOSError("ENOTCONN", { op: "getpeername" });
    return fromEndpoint(this.family, this.#stream.remoteEndpoint());
  }

  setsockopt(level: number, optname: number, value: OptValue): void {
    if (typeof value === "string" || (typeof value === "object" && !(value instanceof Uint8Array))) {
      throw argTypeError("value", "an integer, boolean or 4-byte buffer", value);
    }
    this.#opts.set(level, optname, value);
  }

  getsockopt(level: number, optname: number, buflen: number | undefined): number | Buffer {
    return this.#opts.get(level, optname, buflen);
  }

  /**
   * Readiness as Linux's tcp_poll computes it: readable = data, EOF, a pending connection or an
   * error; writable = connected and below the send high-water mark; error = a pending error;
   * hangup = both directions shut or the connection reset; rdhup = the read direction shut.
   */
  readiness(): Readiness {
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

  watchTarget(): { watch(cb: () => void): () => void } | undefined {
    return this.#stream ?? this.#listener;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * The connection for a data call (`call` "send" or "recv"): waits for a connect in progress
   * (EAGAIN when non-blocking); a failed non-blocking connect's error comes first, once (Linux);
   * otherwise the table's refusal.
   */
  async #connected(call: "send" | "recv", op: string): Promise<StreamSocket> {
    if (this.#state === "connecting" && this.#connecting) {
      if (this.#host._timeout() === 0)
        throw makeOSError("EAGAIN", { op, hint: "the non-blocking connect has not completed" });
      await this.#connecting;
    }
    if (this.#state !== "closed" && !this.#stream) {
      const failed = this.takeConnectError();
      if (failed !== undefined) throw failed;
    }
    const cell = STREAM_STATES[this.#state][call]!;
    if (cell === "connected" && this.#stream) return this.#stream;
    throw refusal(STREAM_STATES, call, isRefusal(cell) ? cell : call === "send" ? "EPIPE" : "ENOTCONN", op);
  }
}

const PEEK = { peek: true } as const;
const WAITALL = { waitall: true } as const;
const PEEK_WAITALL = { peek: true, waitall: true } as const;

function recvFlags(flags: number): { peek?: boolean; waitall?: boolean } | undefined {
  switch (flags & (MSG_PEEK | MSG_WAITALL)) {
    case 0:
      return undefined;
    case MSG_PEEK:
      return PEEK;
    case MSG_WAITALL:
      return WAITALL;
    default:
      return PEEK_WAITALL;
  }
}
