/**
 * `listenPacket` and `PacketConn`: UDP, Go style.
 *
 * @module
 */
import { type DatagramOptions, DatagramSocket } from "../core/datagram.js";
import { checkDestination, LiteralDestination } from "../core/destination.js";
import { formatEndpoint, type IpEndpoint } from "../core/endpoint.js";
import type { Wait } from "../core/wait.js";
import { argTypeError, checkInt, makeOSError, OSError, TimeoutError } from "../errors/index.js";
import { resolveHost } from "../addr/resolve.js";
import { checkPacketNetwork, type PacketNetwork, resolveNetAddress } from "./address.js";
import type { CallOptions } from "./conn.js";
import { type Deadline, DeadlineTimer } from "./deadline.js";
import { checkEndpoint, checkOptions, optBool, optInt, optSignal, optString, toBytes } from "./options.js";

/**
 * One received datagram.
 *
 * @example
 * ```ts
 * const packet: Packet = await pc.readFrom(512);
 * if (!packet.truncated) await pc.writeTo(packet.data, packet.endpoint);
 * ```
 */
export interface Packet {
  /** The payload (at most the size asked for; see `truncated`). */
  readonly data: Buffer;
  /** The sender, formatted: `"127.0.0.1:5353"`, `"[::1]:5353"`. */
  readonly address: string;
  /** The sender as a structure; pass it to `writeTo` to reply without parsing. */
  readonly endpoint: IpEndpoint;
  /** True when the datagram was longer than asked for and the rest was discarded. */
  readonly truncated: boolean;
}

/**
 * Options of {@link listenPacket}.
 *
 * @example
 * ```ts
 * const opts: ListenPacketOptions = { broadcast: true, queueCount: 64, queueBytes: 64 * 1024 };
 * const pc = await listenPacket("udp4", "0.0.0.0:0", opts);
 * await pc.writeTo("hello", "255.255.255.255:9999");
 * ```
 */
export interface ListenPacketOptions {
  /** Closing signal: when it aborts, the socket closes and `for await` loops end. */
  readonly signal?: AbortSignal;
  /** SO_REUSEADDR. */
  readonly reuseAddr?: boolean;
  /** IPV6_V6ONLY for IPv6 sockets. */
  readonly ipv6Only?: boolean;
  /** SO_BROADCAST. */
  readonly broadcast?: boolean;
  /** Receive-queue bound in datagrams; more are dropped and counted (`drops`). */
  readonly queueCount?: number;
  /** Receive-queue bound in bytes. */
  readonly queueBytes?: number;
  /** `dial("udp")`: local address to send from. */
  readonly localAddress?: string;
  /** `dial("udp")`: local port to send from. */
  readonly localPort?: number;
}

const MAX_DATAGRAM = 65535;
/** "[" + the longest IPv6 text + "]:65535". */
const MAX_LITERAL = 2 + 45 + 6;
const DIGITS = /^[0-9]{1,5}$/;

/**
 * A datagram socket, Go style: `readFrom`/`writeTo`, or `read`/`write` once dialled.
 * Iterating yields packets until the socket is closed.
 *
 * Berkeley equivalent: `socket(AF_INET, SOCK_DGRAM)` + `bind()`; `readFrom` is `recvfrom`,
 * `writeTo` is `sendto`.
 *
 * @example
 * ```ts
 * const pc = await listenPacket("udp", "127.0.0.1:0");
 * for await (const p of pc) await pc.writeTo(p.data, p.endpoint); // echo
 * ```
 */
export class PacketConn implements AsyncIterable<Packet> {
  readonly #s: DatagramSocket;
  readonly #network: PacketNetwork;
  readonly #rd = new DeadlineTimer();
  readonly #wr = new DeadlineTimer();
  readonly #dest = new LiteralDestination();

  /** Wraps a core datagram socket (made by listenPacket or dial). */
  constructor(s: DatagramSocket, network: PacketNetwork) {
    this.#s = s;
    this.#network = network;
  }

  /** The local address: `"127.0.0.1:41234"`. */
  get localAddress(): string {
    return formatEndpoint(this.#s.localEndpoint());
  }

  /** The local endpoint as a structure. */
  get localEndpoint(): IpEndpoint | undefined {
    return this.#s.localEndpoint();
  }

  /** The bound port. */
  get port(): number {
    return this.#s.localEndpoint()?.port ?? 0;
  }

  /** The dialled peer, formatted (undefined when not dialled). */
  get remoteAddress(): string | undefined {
    const p = this.#s.peer;
    return p === undefined ? undefined : formatEndpoint(p);
  }

  /** Datagrams dropped because the receive queue was full. */
  get drops(): number {
    return this.#s.drops;
  }

  /** The descriptor number shown in traces. */
  get fd(): number {
    return this.#s.fd;
  }

  /** Receives one datagram (at most `n` bytes of it; the rest is discarded). */
  async readFrom(n = MAX_DATAGRAM, opts?: CallOptions): Promise<Packet> {
    checkInt("n", n, 0, MAX_DATAGRAM);
    const d = await this.#s.recvfrom(n, false, this.#wait(this.#rd, "recvfrom", opts));
    return { data: d.data, address: formatEndpoint(d.from), endpoint: d.from, truncated: d.truncated };
  }

  /**
   * Sends one datagram to `address` ("host:port" or a Packet's `endpoint`); resolves the size. A
   * literal address needs no lookup and no extra promise (the core's literal fast path); a name
   * is resolved with getaddrinfo on every call.
   */
  writeTo(data: Uint8Array | string, address: string | IpEndpoint, opts?: CallOptions): Promise<number> {
    try {
      const buf = toBytes(data);
      if (typeof address !== "string") {
        const to = checkDestination(checkEndpoint(address));
        return this.#s.sendto(buf, to, this.#wait(this.#wr, "sendto", opts));
      }
      const wait = this.#wait(this.#wr, "sendto", opts);
      const ep = this.#dest.get(address, -1) ?? this.#literal(address);
      if (ep !== undefined) return this.#s.sendto(buf, ep, wait);
      return this.#writeToName(buf, address, wait);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #writeToName(buf: Uint8Array, address: string, wait: Wait | undefined): Promise<number> {
    if (this.#s.closed) return this.#s.sendto(buf, undefined, wait); // rejects EBADF
    // counted as in flight while the address resolves: a close() meanwhile waits for it
    const release = this.#s.hold();
    try {
      const ep = (await resolveNetAddress(this.#network, address, false, "sendto")) as IpEndpoint;
      return await this.#s.sendto(buf, checkDestination(ep), wait, true);
    } finally {
      release();
    }
  }

  /** The endpoint of a "host:port" text with a literal host and a numeric port, or undefined. */
  #literal(text: string): IpEndpoint | undefined {
    if (typeof text !== "string" || text.length > MAX_LITERAL) return undefined;
    const i = text.lastIndexOf(":");
    const portText = text.slice(i + 1);
    if (i < 0 || !DIGITS.test(portText)) return undefined;
    const port = Number(portText);
    if (port > 0xffff) return undefined; // the slow path says why
    const bracket = text.startsWith("[");
    if (bracket !== (text[i - 1] === "]")) return undefined;
    const host = bracket ? text.slice(1, i - 1) : text.slice(0, i);
    const family = this.#network === "udp4" ? 4 : this.#network === "udp6" ? 6 : 0;
    if (bracket ? !host.includes(":") : host.includes(":")) return undefined;
    return this.#dest.literal(host, port, family, text, -1);
  }

  /** Dialled sockets: receives one datagram's payload from the peer. */
  async read(n = MAX_DATAGRAM, opts?: CallOptions): Promise<Buffer> {
    return (await this.readFrom(n, opts)).data;
  }

  /** Dialled sockets: sends one datagram to the peer. */
  async write(data: Uint8Array | string, opts?: CallOptions): Promise<number> {
    return this.#s.sendto(toBytes(data), undefined, this.#wait(this.#wr, "send", opts));
  }

  /** Sets both deadlines (see Conn). */
  setDeadline(t: Deadline): void {
    this.setReadDeadline(t);
    this.setWriteDeadline(t);
  }

  /** After `t`, pending and future reads reject TimeoutError until the deadline is moved. */
  setReadDeadline(t: Deadline): void {
    this.#rd.set(t, () => this.#s.interrupt((op) => timeoutError(op)));
  }

  /** After `t`, future writes reject TimeoutError until the deadline is moved. */
  setWriteDeadline(t: Deadline): void {
    this.#wr.set(t, () => {});
  }

  /** Sets SO_BROADCAST. */
  setBroadcast(on = true): void {
    if (typeof on !== "boolean") throw argTypeError("on", "a boolean", on);
    this.#s.setBroadcast(on);
  }

  /**
   * Joins a multicast group (on `iface`, an interface address, if given). OSError EINVAL for an
   * address that is not a multicast group, as Linux.
   */
  joinGroup(group: string, iface?: string): void {
    this.#membership(true, group, iface);
  }

  /** Leaves a multicast group (OSError EADDRNOTAVAIL if it was not joined). */
  leaveGroup(group: string, iface?: string): void {
    this.#membership(false, group, iface);
  }

  #membership(join: boolean, group: unknown, iface: unknown): void {
    if (typeof group !== "string") throw argTypeError("group", "a multicast address string", group);
    if (iface !== undefined && typeof iface !== "string")
      throw argTypeError("iface", "an interface address string", iface);
    this.#s.membership(join, group, iface, join ? "joinGroup" : "leaveGroup");
  }

  /**
   * Closes after queued sends reach the kernel (bounded); resolves how many sends were
   * discarded. Pending reads reject EBADF; `for await` loops end. Idempotent.
   */
  close(): Promise<number> {
    this.#rd.clear();
    this.#wr.clear();
    return this.#s.close();
  }

  /** Yields packets until the socket is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Packet> {
    for (;;) {
      let p: Packet;
      try {
        p = await this.readFrom();
      } catch (err) {
        if (this.#s.closed && err instanceof OSError && err.code === "EBADF") return;
        throw err;
      }
      yield p;
    }
  }

  /** `await using pc = await listenPacket(…)`: closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #wait(d: DeadlineTimer, op: string, opts: CallOptions | undefined): Wait | undefined {
    if (d.expired) throw timeoutError(op);
    const signal = optSignal(checkOptions("opts", opts).signal);
    return signal === undefined ? undefined : { signal };
  }
}

function timeoutError(op: string): OSError {
  return new TimeoutError("ETIMEDOUT", { op, hint: "the deadline passed; move it to go on" });
}

/** The options checked field by field (TypeError/RangeError before anything is opened). */
function checkPacketOptions(opts: ListenPacketOptions | undefined): ListenPacketOptions {
  const o = checkOptions("opts", opts);
  const out: Record<string, unknown> = {
    signal: optSignal(o.signal),
    reuseAddr: optBool("reuseAddr", o.reuseAddr),
    ipv6Only: optBool("ipv6Only", o.ipv6Only),
    broadcast: optBool("broadcast", o.broadcast),
    queueCount: optInt("queueCount", o.queueCount, 1, 2 ** 31 - 1),
    queueBytes: optInt("queueBytes", o.queueBytes, 1, 2 ** 53 - 1),
    localAddress: optString("localAddress", o.localAddress),
    localPort: optInt("localPort", o.localPort, 0, 65535),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as ListenPacketOptions;
}

async function openCore(at: IpEndpoint, opts: ListenPacketOptions): Promise<DatagramSocket> {
  const dopts: DatagramOptions = {
    reuseAddr: opts.reuseAddr ?? false,
    ipv6Only: opts.ipv6Only ?? false,
    queueCount: opts.queueCount,
    queueBytes: opts.queueBytes,
  };
  const s = new DatagramSocket(at.family, dopts);
  try {
    await s.bind(at);
    if (opts.broadcast) s.setBroadcast(true);
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}

function wrap(s: DatagramSocket, network: PacketNetwork, opts: ListenPacketOptions): PacketConn {
  const pc = new PacketConn(s, network);
  if (opts.signal) {
    if (opts.signal.aborted) void pc.close();
    else opts.signal.addEventListener("abort", () => void pc.close(), { once: true });
  }
  return pc;
}

/**
 * Opens a UDP socket bound to `address` ("udp", "udp4", "udp6"): `"127.0.0.1:0"`, `":5353"`.
 *
 * Berkeley equivalent: `socket(AF_INET, SOCK_DGRAM)`, `bind(address)`.
 *
 * @example
 * ```ts
 * const pc = await listenPacket("udp", "127.0.0.1:0");
 * const { data, endpoint } = await pc.readFrom();
 * await pc.writeTo(data, endpoint);
 * ```
 */
export async function listenPacket(
  network: PacketNetwork,
  address: string,
  options: ListenPacketOptions = {},
): Promise<PacketConn> {
  const opts = checkPacketOptions(options);
  const net = checkPacketNetwork(network);
  const at = (await resolveNetAddress(net, address, true, "bind")) as IpEndpoint;
  return wrap(await openCore(at, opts), net, opts);
}

/**
 * Dials a UDP peer: binds a free local port and connects (datagrams from others are filtered).
 * Used by `dial("udp", …)`.
 *
 * Berkeley equivalent: `socket(AF_INET, SOCK_DGRAM)`, `connect(address)`.
 *
 * @example `const pc = await dialPacket("udp", "127.0.0.1:7"); await pc.write("ping");`
 */
export async function dialPacket(
  network: PacketNetwork,
  address: string,
  options: ListenPacketOptions = {},
): Promise<PacketConn> {
  const opts = checkPacketOptions(options);
  const net = checkPacketNetwork(network);
  const to = (await resolveNetAddress(net, address, false, "connect")) as IpEndpoint;
  if (to.port === 0) {
    throw makeOSError("EOPNOTSUPP", {
      op: "connect",
      address: formatEndpoint(to),
      hint: "Node.js 20 cannot connect a UDP socket to port 0; give the peer's port",
    });
  }
  const local = opts.localAddress === undefined ? (to.family === 6 ? "::" : "0.0.0.0") : opts.localAddress;
  const from = await resolveHost(local, to.family === 6 ? 10 : 2);
  const s = await openCore({ address: from.address, port: opts.localPort ?? 0, family: to.family }, opts);
  try {
    await s.connect(to);
  } catch (err) {
    await s.close();
    throw err;
  }
  return wrap(s, net, opts);
}
