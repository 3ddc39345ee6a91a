/**
 * A datagram (UDP) socket over `node:dgram` with a bounded receive queue. dgram has no flow
 * control: datagrams arrive as events whether anyone reads or not. sockit queues at most
 * {@link DGRAM_QUEUE_COUNT} datagrams / {@link DGRAM_QUEUE_BYTES} bytes and drops (and counts)
 * the rest, as a full kernel buffer would. Sends are tracked so `close()` can wait for them to
 * reach the kernel — Node's own close discards queued sends silently. The option setters
 * (broadcast, TTLs, multicast, buffer sizes) live in datagram-options.ts.
 * @module
 */
import * as dgram from "node:dgram";
import { closedError, makeOSError, type OSError, toSocketError } from "../errors/index.js";
import {
  DGRAM_CLOSE_WAIT_MS,
  DGRAM_QUEUE_BYTES,
  DGRAM_QUEUE_COUNT,
  MAX_UDP4_PAYLOAD,
  MAX_UDP6_PAYLOAD,
} from "../limits.js";
import { span, sym, traced, tracing } from "../trace.js";
import { type DatagramOptions, DatagramSocketOptions } from "./datagram-options.js";
import { Fifo } from "./fifo.js";
import { endpointTrace, formatEndpoint, type IpEndpoint } from "./endpoint.js";
import { allocFd, releaseFd } from "./fd.js";
import { type Wait, WaitList, Watchers } from "./wait.js";

/** What a sendto() refused with EACCES needs: only broadcast destinations are refused so. */
const BROADCAST_HINT = "a broadcast address needs setsockopt(SOL_SOCKET, SO_BROADCAST, 1) first";

/** One received datagram: its bytes and where it came from. */
export interface Datagram {
  /** The payload (at most the bufsize asked for). */
  readonly data: Buffer;
  /** The sender. */
  readonly from: IpEndpoint;
  /** True when the datagram was longer than asked for and the rest was discarded. */
  readonly truncated: boolean;
}

interface Queued {
  data: Buffer;
  rinfo: dgram.RemoteInfo;
}

/**
 * A UDP socket, IPv4 or IPv6.
 *
 * @example
 * ```ts
 * const s = new DatagramSocket(4);
 * await s.bind({ address: "127.0.0.1", port: 0, family: 4 });
 * const { data, from } = await s.recvfrom(2048);
 * await s.sendto(data, from);
 * ```
 */
export class DatagramSocket extends DatagramSocketOptions {
  /** The small per-process descriptor number. */
  readonly fd: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
  readonly #sock: dgram.Socket;
  readonly #maxCount: number;
  readonly #maxBytes: number;
  #queue = new Fifo<Queued>();
  #queuedBytes = 0;
  #drops = 0;
  #bound = false;
  #peer: IpEndpoint | undefined;
  #closed = false;
  #closing = false;
  #error: unknown;
  #inflight = 0;
  #local: IpEndpoint | undefined;
  // the one plain recvfrom() waiting without peek, timeout or signal: served straight from the
  // 'message' handler, without an async frame or a retry loop
  #slot: { n: number; resolve: (d: Datagram) => void; reject: (e: unknown) => void } | undefined;
  #readers = new WaitList();
  #flushers = new WaitList();
  #watchers = new Watchers();

  constructor(family: 4 | 6, opts: DatagramOptions = {}) {
    super();
    this.family = family;
    this.fd = opts.fd ?? allocFd();
    this.#maxCount = opts.queueCount ?? DGRAM_QUEUE_COUNT;
    this.#maxBytes = opts.queueBytes ?? DGRAM_QUEUE_BYTES;
    this.#sock = dgram.createSocket({
      type: family === 6 ? "udp6" : "udp4",
      reuseAddr: opts.reuseAddr ?? false,
      ...(family === 6 ? { ipv6Only: opts.ipv6Only ?? false } : {}),
    });
    this.#sock.on("message", (data, rinfo) => {
      if (this.#closed) return;
      if (this.#queue.length >= this.#maxCount || this.#queuedBytes + data.length > this.#maxBytes) {
        this.#drops++;
        return;
      }
      const slot = this.#slot;
      if (slot !== undefined && this.#queue.length === 0) {
        this.#slot = undefined;
        slot.resolve(toDatagram(data, rinfo, slot.n));
        this.#watchers.notify();
        return;
      }
      this.#queue.push({ data, rinfo });
      this.#queuedBytes += data.length;
      this.#readers.wake();
      this.#watchers.notify();
    });
    this.#sock.on("listening", () => {
      this.#bound = true;
    });
    this.#sock.on("error", (err) => {
      this.#error ??= err;
      const slot = this.#slot;
      if (slot !== undefined) {
        this.#slot = undefined;
        this.#error = undefined; // reported once, to the waiting reader
        slot.reject(toSocketError(err, { op: "recvfrom" }));
      }
      this.#readers.wake();
      this.#watchers.notify();
    });
  }

  /** Datagrams dropped because the receive queue was full. */
  get drops(): number {
    return this.#drops;
  }

  /** Datagrams waiting to be read. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Bytes of datagrams waiting to be read. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** True once bound (explicitly or by a first send). */
  get bound(): boolean {
    return this.#bound;
  }

  /** The connected peer, if any. */
  get peer(): IpEndpoint | undefined {
    return this.#peer;
  }

  /** True when recvfrom would not wait. */
  get readable(): boolean {
    return this.queued > 0 || this.#error !== undefined || this.#closed;
  }

  /** True once close() has been called. */
  get closed(): boolean {
    return this.#closing;
  }

  /**
   * Counts a send that is still being prepared (resolving its address, binding) as in flight,
   * so a close() that comes meanwhile waits for it; call the returned function when the send
   * has been handed to {@link sendto} with `held` set (or was abandoned).
   */
  hold(): () => void {
    this.#inflight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inflight--;
      if (this.#inflight === 0) this.#flushers.wake();
    };
  }

  /** Calls `cb` whenever readiness may have changed (for select()). */
  watch(cb: () => void): () => void {
    return this.#watchers.add(cb);
  }

  /** The local endpoint, or undefined before the socket is bound. */
  localEndpoint(): IpEndpoint | undefined {
    if (!this.#bound) return undefined;
    if (this.#local === undefined) {
      const a = this.#sock.address();
      this.#local = { address: a.address, port: a.port, family: a.family === "IPv6" ? 6 : 4 };
    }
    return this.#local;
  }

  /** The local address, formatted (called only when an error message needs it). */
  peerText(): string {
    return formatEndpoint(this.localEndpoint());
  }

  /** The Node socket, for the option setters. */
  protected get optionSocket(): dgram.Socket {
    return this.#sock;
  }

  /** Whether options apply now, at bind, or not at all. */
  protected get optionState(): "unbound" | "bound" | "closing" {
    return this.#closing ? "closing" : this.#bound ? "bound" : "unbound";
  }

  /** Binds to a local endpoint; rejects EADDRINUSE, EADDRNOTAVAIL, EACCES… */
  bind(at: IpEndpoint): Promise<void> {
    return traced(span(this.fd, "bind", [endpointTrace(at)]), this.#bind(at));
  }

  #bind(at: IpEndpoint): Promise<void> {
    if (this.#closed) return Promise.reject(closedError("bind"));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.#sock.off("listening", onListening);
        const e = toSocketError(err, { op: "bind", address: formatEndpoint(at) });
        if (this.#error === err) this.#error = undefined;
        reject(e);
      };
      const onListening = () => {
        this.#sock.off("error", onError);
        try {
          this.applyPendingOptions();
        } catch (err) {
          reject(err);
          return;
        }
        resolve();
      };
      this.#sock.once("error", onError);
      this.#sock.once("listening", onListening);
      try {
        this.#sock.bind({ address: at.address, port: at.port, exclusive: true });
      } catch (err) {
        this.#sock.off("error", onError);
        this.#sock.off("listening", onListening);
        reject(toSocketError(err, { op: "bind", address: formatEndpoint(at) }));
      }
    });
  }

  /** Binds to the wildcard address and a free port if not bound yet (as a first sendto does). */
  async ensureBound(): Promise<void> {
    if (!this.#bound)
      await this.bind({ address: this.family === 6 ? "::" : "0.0.0.0", port: 0, family: this.family });
  }

  /** Sets the default peer: send() goes there and datagrams from others are filtered. */
  connect(to: IpEndpoint): Promise<void> {
    return traced(span(this.fd, "connect", [endpointTrace(to)]), this.#connect(to));
  }

  async #connect(to: IpEndpoint): Promise<void> {
    if (this.#closed) throw closedError("connect");
    await this.ensureBound();
    if (this.#peer) this.#sock.disconnect();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) =>
        reject(toSocketError(err, { op: "connect", address: formatEndpoint(to) }));
      this.#sock.once("error", onError);
      this.#sock.connect(to.port, to.address, () => {
        this.#sock.off("error", onError);
        resolve();
      });
    });
    this.#peer = to;
    this.#local = undefined;
    // datagrams queued before connect() from other senders are discarded, as the kernel does
    this.#queuedBytes = 0;
    for (const q of this.#queue.drain()) {
      if (q.rinfo.address !== to.address || q.rinfo.port !== to.port) continue;
      this.#queue.push(q);
      this.#queuedBytes += q.data.length;
    }
  }

  /** Removes the default peer (connect with AF_UNSPEC in C). */
  disconnect(): void {
    if (this.#closed) throw closedError("connect");
    if (this.#peer) this.#sock.disconnect();
    this.#peer = undefined;
    this.#local = undefined; // Linux releases a port the kernel chose
  }

  /**
   * Sends one datagram to `to` (or the connected peer); resolves the byte count once the kernel
   * has it. EMSGSIZE before anything is sent when the payload cannot fit in one datagram.
   */
  sendto(data: Uint8Array, to: IpEndpoint | undefined, w?: Wait, held = false): Promise<number> {
    const op = to === undefined ? "send" : "sendto";
    const sp = tracing()
      ? span(this.fd, op, [asBuffer(data), ...(to === undefined ? [] : [endpointTrace(to)])])
      : undefined;
    return traced(sp, this.#sendto(data, to, op, w, held));
  }

  async #sendto(
    data: Uint8Array,
    to: IpEndpoint | undefined,
    op: string,
    w: Wait | undefined,
    held: boolean,
  ): Promise<number> {
    if (this.#closed || (this.#closing && !held)) throw closedError(op);
    const max = this.family === 6 ? MAX_UDP6_PAYLOAD : MAX_UDP4_PAYLOAD;
    if (data.length > max) {
      throw makeOSError("EMSGSIZE", {
        op,
        ...(to ? { address: formatEndpoint(to) } : {}),
        hint: `a UDP datagram carries at most ${max} bytes over IPv${this.family}; this one has ${data.length}`,
      });
    }
    if (to === undefined && this.#peer === undefined) {
      throw makeOSError("EDESTADDRREQ", {
        op,
        hint: "connect() the socket or use sendto() with an address",
      });
    }
    if (to !== undefined && this.#peer !== undefined) {
      throw makeOSError("EISCONN", {
        op,
        hint: "Node cannot sendto() another address on a connected datagram socket; use send() or disconnect first",
      });
    }
    if (w?.nonblocking && this.#inflight > 0 && this.#sock.getSendQueueCount() > 0) {
      throw makeOSError("EAGAIN", { op });
    }
    this.#inflight++;
    await new Promise<void>((resolve, reject) => {
      const cb = (err: Error | null) => {
        this.#inflight--;
        if (this.#inflight === 0) this.#flushers.wake();
        if (err) {
          // sending needs no privilege for any port: EACCES here means a broadcast address
          const hint = (err as { code?: unknown }).code === "EACCES" ? BROADCAST_HINT : undefined;
          const where = to ? { address: formatEndpoint(to) } : {};
          reject(toSocketError(err, { op, ...where, ...(hint ? { hint } : {}) }));
        } else resolve();
      };
      try {
        if (to === undefined) this.#sock.send(data, cb);
        else this.#sock.send(data, to.port, to.address, cb);
      } catch (err) {
        this.#inflight--;
        reject(toSocketError(err, { op }));
      }
    });
    return data.length;
  }

  /**
   * Receives one datagram, at most `n` bytes of it (the rest is discarded, as the kernel does);
   * a zero-length datagram is a valid message. `peek` leaves it queued.
   */
  recvfrom(n: number, peek: boolean, w?: Wait): Promise<Datagram> {
    if (
      !tracing() &&
      !peek &&
      w === undefined &&
      !this.#closing &&
      this.#queue.length === 0 &&
      this.#error === undefined &&
      this.#slot === undefined &&
      this.#readers.size === 0
    ) {
      return new Promise<Datagram>((resolve, reject) => {
        this.#slot = { n, resolve, reject };
      });
    }
    return this.#recvfrom(n, peek, w);
  }

  #recvfrom(n: number, peek: boolean, w?: Wait): Promise<Datagram> {
    return traced(span(this.fd, "recvfrom", [n]), this.#recvOne(n, peek, w), (d) => [
      [d.data.length, endpointTrace(d.from)],
      d.data,
    ]);
  }

  async #recvOne(n: number, peek: boolean, w: Wait | undefined): Promise<Datagram> {
    for (;;) {
      if (this.#closing) throw closedError("recvfrom");
      const q = peek ? this.#queue.at() : this.#queue.shift();
      if (q !== undefined) {
        if (!peek) this.#queuedBytes -= q.data.length;
        return toDatagram(q.data, q.rinfo, n);
      }
      if (this.#error !== undefined) {
        const err = this.#error;
        this.#error = undefined; // a datagram socket's error is reported once, like SO_ERROR
        throw toSocketError(err, { op: "recvfrom" });
      }
      await this.#readers.wait(w, "recvfrom", this);
    }
  }

  /** Rejects the calls waiting in recvfrom with `err`. */
  interrupt(makeError: (op: string) => OSError): void {
    const slot = this.#slot;
    if (slot !== undefined) {
      this.#slot = undefined;
      slot.reject(makeError("recvfrom"));
    }
    this.#readers.fail(makeError);
  }

  /**
   * Closes: waits (at most {@link DGRAM_CLOSE_WAIT_MS}) for queued sends to reach the kernel,
   * then releases the socket; resolves how many sends were still queued and so discarded.
   * Pending and later calls reject EBADF. Idempotent (later calls resolve 0).
   */
  async close(): Promise<number> {
    if (this.#closing) return 0;
    const sp = span(this.fd, "close", []);
    this.#closing = true;
    const slot = this.#slot;
    if (slot !== undefined) {
      this.#slot = undefined;
      slot.reject(closedError("recvfrom"));
    }
    this.#readers.fail((op) => closedError(op));
    this.#watchers.notify();
    this.#queue.drain();
    this.#queuedBytes = 0;
    if (this.#inflight > 0) {
      await this.#flushers.wait({ timeout: DGRAM_CLOSE_WAIT_MS }, "close").catch(() => {});
    }
    const discarded = this.#inflight;
    this.#closed = true;
    await new Promise<void>((resolve) => {
      try {
        this.#sock.close(() => resolve());
      } catch {
        resolve(); // never bound: nothing to close
      }
    });
    releaseFd(this.fd);
    sp?.ok(discarded === 0 ? 0 : sym(`0 /* ${discarded} sends discarded */`));
    return discarded;
  }
}

function toDatagram(data: Buffer, rinfo: dgram.RemoteInfo, n: number): Datagram {
  const truncated = data.length > n;
  const from: IpEndpoint = {
    address: rinfo.address,
    port: rinfo.port,
    family: rinfo.family === "IPv6" ? 6 : 4,
  };
  return { data: truncated ? data.subarray(0, n) : data, from, truncated };
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export { checkGroup, type DatagramOptions } from "./datagram-options.js";
