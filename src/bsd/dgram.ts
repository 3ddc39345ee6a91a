/**
 * The datagram half of the Berkeley `Socket` (UDP): a core {@link DatagramSocket}, made on first
 * use, and the states of {@link DATAGRAM_STATES} — every call asks the table whether the current
 * state allows it and which state it leads to. `sendto` to a literal address takes the core's
 * one fast path (core/destination.ts): no lookup and, on a bound socket, no promise hop.
 *
 * @module
 */
import type { SockAddr } from "../addr/address.js";
import { AF_INET, AF_INET6, AF_UNSPEC } from "../addr/constants.js";
import { type Datagram, DatagramSocket } from "../core/datagram.js";
import { checkDestination, LiteralDestination } from "../core/destination.js";
import { type Endpoint, formatEndpoint, type IpEndpoint } from "../core/endpoint.js";
import { releaseFd } from "../core/fd.js";
import type { StreamSocket } from "../core/stream.js";
import { makeOSError } from "../errors/index.js";
import { span } from "../trace.js";
import { MSG_PEEK } from "./constants.js";
import { DatagramSockOpts, type OptValue } from "./dgram-options.js";
import type { Half, Readiness, SocketHost } from "./half.js";
import { fromEndpoint, toEndpoint } from "./sockaddr.js";
import { type Call, DATAGRAM_STATES, type DatagramState, enter } from "./states.js";

/**
 * A datagram socket's state and core socket.
 * @example `const half = new DatagramHalf(host); await half.sendto(Buffer.from("hi"), 0, ["127.0.0.1", 9999])`
 */
export class DatagramHalf implements Half {
  readonly #host: SocketHost;
  readonly #opts: DatagramSockOpts;
  readonly #dest = new LiteralDestination();
  #state: DatagramState = "created";
  #core: DatagramSocket | undefined;
  #discarded = 0;

  constructor(host: SocketHost) {
    this.#host = host;
    this.#opts = new DatagramSockOpts(host.family);
  }

  /** The state, as {@link DATAGRAM_STATES} names it. */
  get state(): DatagramState {
    return this.#state;
  }

  /** Datagrams dropped because the receive queue was full. */
  get drops(): number {
    return this.#core?.drops ?? 0;
  }

  /** Sends still queued (and so discarded) when the socket was closed. */
  get discardedSends(): number {
    return this.#discarded;
  }

  /** The core socket, made now if it does not exist yet (SO_REUSEADDR/IPV6_V6ONLY are known). */
  #made(): DatagramSocket {
    if (this.#core === undefined) {
      this.#core = new DatagramSocket(this.#host.family === AF_INET6 ? 6 : 4, {
        fd: this.#host._fd,
        reuseAddr: this.#opts.reuseaddr,
        ipv6Only: this.#opts.v6only,
      });
      this.#opts.attach(this.#core);
    }
    return this.#core;
  }

  /** The state `call` leads to, or throws the table's refusal. */
  #enter(call: Call, op: string = call): DatagramState {
    return enter(DATAGRAM_STATES, this.#state, call, op);
  }

  /** Moves along the table after `call` succeeded, unless the socket was closed meanwhile. */
  #move(call: Call): void {
    if (this.#state !== "closed") this.#state = this.#enter(call);
  }

  /** Binds to a free port if not bound yet (sendto/connect on an unbound socket, as Linux). */
  async #bound(): Promise<DatagramSocket> {
    const core = this.#made();
    await core.ensureBound();
    return core;
  }

  async bind(address: SockAddr): Promise<void> {
    this.#enter("bind");
    const ep = await toEndpoint(this.#host.family, address, "bind", "udp");
    this.#enter("bind");
    await this.#made().bind(ep as IpEndpoint);
    if (this.#state === "created") this.#move("bind");
  }

  async listen(): Promise<void> {
    this.#enter("listen");
  }

  async accept(): Promise<StreamSocket> {
    this.#enter("accept");
    throw makeOSError("EOPNOTSUPP", { op: "accept" }); // the table refuses accept in every state
  }

  async connect(address: SockAddr | typeof AF_UNSPEC): Promise<void> {
    if (address === AF_UNSPEC) {
      const next = this.#enter("disconnect", "connect");
      this.#core?.disconnect();
      this.#state = next;
      return;
    }
    this.#enter("connect");
    const ep = (await toEndpoint(this.#host.family, address, "connect", "udp")) as IpEndpoint;
    if (ep.port === 0) {
      // Linux accepts it (and send() then fails); Node's dgram refuses port 0 outright
      throw makeOSError("EOPNOTSUPP", {
        op: "connect",
        address: formatEndpoint(ep),
        hint: "Node.js 20 cannot connect a UDP socket to port 0; give the peer's port",
      });
    }
    const core = await this.#bound();
    await core.connect(ep);
    this.#move("connect");
  }

  // ---- data ------------------------------------------------------------------------------------

  #recv(n: number, flags: number, op: string): Promise<Datagram> {
    try {
      this.#enter("recv", op);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#made().recvfrom(n, (flags & MSG_PEEK) !== 0, this.#host._wait(flags));
  }

  recv(n: number, flags: number): Promise<Buffer> {
    return this.#recv(n, flags, "recv").then((d) => d.data);
  }

  recvfrom(n: number, flags: number): Promise<[Buffer, SockAddr | null]> {
    const family = this.#host.family;
    return this.#recv(n, flags, "recvfrom").then((d) => [d.data, fromEndpoint(family, d.from)]);
  }

  async recvInto(buffer: Uint8Array, n: number, flags: number): Promise<number> {
    const d = await this.#recv(n, flags, "recv_into");
    buffer.set(d.data, 0);
    return d.data.length;
  }

  async recvExactly(): Promise<Buffer> {
    throw makeOSError("EOPNOTSUPP", { op: "recv_exactly", hint: "datagram sockets receive whole datagrams" });
  }

  async readline(): Promise<Buffer> {
    throw makeOSError("EOPNOTSUPP", { op: "readline", hint: "datagram sockets receive whole datagrams" });
  }

  send(buf: Uint8Array, flags: number): Promise<number> {
    const core = this.#core;
    // connected: straight to the core (it refuses a closing socket with EBADF)
    if (core !== undefined && this.#state === "connected")
      return core.sendto(buf, undefined, this.#host._wait(flags));
    return this.#send(buf, undefined, flags, false);
  }

  /**
   * One datagram to `to`. A literal address on a bound socket goes straight to the core; the
   * rest (an unbound socket, a name, a port name…) takes {@link #sendtoSlow}.
   */
  sendto(buf: Uint8Array, flags: number, to: unknown): Promise<number> {
    try {
      this.#enter("sendto");
      const core = this.#core;
      if (core?.bound) {
        const ep = this.#literal(to);
        if (ep !== undefined) return core.sendto(buf, ep, this.#host._wait(flags));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sendtoSlow(buf, flags, to);
  }

  async #sendtoSlow(buf: Uint8Array, flags: number, to: unknown): Promise<number> {
    // counted as in flight from now on: a close() meanwhile waits for it
    const release = this.#made().hold();
    try {
      const ep =
        this.#literal(to) ??
        checkDestination((await toEndpoint(this.#host.family, to, "sendto", "udp")) as IpEndpoint);
      return await this.#send(buf, ep, flags, true);
    } finally {
      release();
    }
  }

  /** The endpoint of a literal `[host, port]` (flowinfo and scope_id 0), without a lookup. */
  #literal(to: unknown): IpEndpoint | undefined {
    if (!Array.isArray(to)) return undefined;
    const host: unknown = to[0];
    const port: unknown = to[1];
    if (typeof host !== "string" || typeof port !== "number") return undefined;
    const family = this.#host.family;
    if (to.length !== 2 && !(family === AF_INET6 && to.length <= 4 && to[2] === 0 && (to[3] ?? 0) === 0))
      return undefined;
    const hit = this.#dest.get(host, port);
    if (hit !== undefined) return hit;
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) return undefined; // the slow path says why
    return this.#dest.literal(host, port, family === AF_INET ? 4 : 6);
  }

  async #send(buf: Uint8Array, to: IpEndpoint | undefined, flags: number, held: boolean): Promise<number> {
    const call = to === undefined ? "send" : "sendto";
    if (!held) this.#enter(call);
    const release = held ? undefined : this.#made().hold();
    try {
      const core = await this.#bound();
      if (this.#state === "created") this.#move(call);
      return await core.sendto(buf, to, this.#host._wait(flags), true);
    } finally {
      release?.();
    }
  }

  shutdown(): void {
    this.#enter("shutdown"); // refused in every state: Node has no shutdown for UDP
  }

  async close(): Promise<void> {
    this.#state = this.#enter("close");
    this.#host._notify();
    const core = this.#core;
    if (core) this.#discarded = await core.close();
    else {
      const sp = span(this.#host._fd, "close", []);
      releaseFd(this.#host._fd);
      sp?.ok(0);
    }
  }

  dispose(): Promise<void> {
    return this.close(); // close() itself waits (bounded) for queued sends
  }

  // ---- addresses, options, readiness -----------------------------------------------------------

  localEndpoint(): Endpoint | undefined {
    return this.#core?.localEndpoint();
  }

  peerEndpoint(): Endpoint | undefined {
    return this.#core?.peer;
  }

  getpeername(): SockAddr {
    this.#enter("getpeername");
    const peer = this.#core?.peer;
    if (!peer) throw makeOSError("ENOTCONN", { op: "getpeername" });
    return fromEndpoint(this.#host.family, peer);
  }

  setsockopt(level: number, optname: number, value: OptValue): void {
    this.#opts.set(level, optname, value);
  }

  getsockopt(level: number, optname: number): number {
    return this.#opts.get(level, optname);
  }

  /** Readable when a datagram (or an error) is queued; always writable. */
  readiness(): Readiness {
    return { readable: this.#core?.readable ?? false, writable: true, error: false };
  }

  watchTarget(): { watch(cb: () => void): () => void } {
    return this.#made();
  }
}
