/**
 * `serve()` and `ServiceHost`: several services in one process, each on TCP (and, opt-in, UDP),
 * with the connection limits (total and per source), the idle timeout, the counters, and a
 * graceful shutdown (stop accepting, let clients finish within a grace period, then cut them off).
 *
 * A connection holds its slot until nothing of it is left in the kernel: after the service's last
 * byte it lingers until the client has read everything and closed, or is reset (see linger.ts).
 * So the limits bound the kernel's socket memory and the process's descriptors too.
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { type Conn, type Listener, listen, listenPacket, OSError, type PacketConn } from "../../net/index.js";
import { newCounters, type ServiceCounters, type ServiceEvent } from "./events.js";
import { descriptorLimit, descriptorsExhausted, openDescriptors } from "./fds.js";
import { resolveLimits, type ServiceLimits, type ServiceName } from "./limits.js";
import { settle } from "./linger.js";
import { sourceKey } from "./source.js";
import { type ServiceConn, TCP_SERVICES } from "./tcp.js";
import { serveUdp, UdpGate } from "./udp.js";

/** Refused connections that may wait at once for their client to read the message and close. */
const REFUSING_MAX = 16;
/** How long a refused client has to read the message and close before it is reset (ms). */
const REFUSAL_LINGER_MS = 1000;
/** Descriptors kept free for everything but connections (files, timers' threads, the runtime). */
const FD_RESERVE = 8;
/** After accept() failed for want of descriptors, wait this long before accepting again. */
const ACCEPT_RETRY_MS = 100;

/** One service to run and its port (0: a free port chosen by the kernel). */
export interface ServiceSpec {
  readonly name: ServiceName;
  readonly port: number;
}

/** Options of {@link serve}. */
export interface HostOptions {
  /** The services and their ports. */
  readonly services: readonly ServiceSpec[];
  /** Address to listen on (default "127.0.0.1"; "::1" for IPv6). */
  readonly host?: string;
  /** Also serve each service over UDP, on the same port number (default false: opt-in). */
  readonly udp?: boolean;
  /** Limits (defaults: {@link DEFAULT_LIMITS}). */
  readonly limits?: Partial<ServiceLimits>;
  /** The qotd quotes, as sent (default: the built-in list). */
  readonly quotes?: readonly string[];
  /** Every accepted, closed, refused, dropped, limited and failed event. */
  readonly onEvent?: (e: ServiceEvent) => void;
  /** The clock for daytime and time (tests pass a fixed one). */
  readonly now?: () => Date;
}

/** One bound socket of the host. */
export interface BoundService {
  readonly service: ServiceName;
  readonly proto: "tcp" | "udp";
  /** Host and port: `"127.0.0.1:7007"`, `"[::1]:7007"`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
}

/**
 * The connection as a service sees it, noting whether a write was ever started (then bytes may
 * be queued in the kernel) and whether one was cut off (then Node may still hold bytes, and only
 * a reset ends the connection without leaving them queued).
 */
class TrackedConn implements ServiceConn {
  wrote = false;
  writeCut = false;
  constructor(readonly conn: Conn) {}
  read(...a: Parameters<Conn["read"]>): ReturnType<Conn["read"]> {
    return this.conn.read(...a);
  }
  async write(...a: Parameters<Conn["write"]>): Promise<number> {
    this.wrote = true;
    try {
      return await this.conn.write(...a);
    } catch (err) {
      this.writeCut = true;
      throw err;
    }
  }
  abort(): void {
    this.conn.abort();
  }
  setReadDeadline(t: Parameters<Conn["setReadDeadline"]>[0]): void {
    this.conn.setReadDeadline(t);
  }
  setWriteDeadline(t: Parameters<Conn["setWriteDeadline"]>[0]): void {
    this.conn.setWriteDeadline(t);
  }
}

interface Session {
  readonly conn: Conn;
  readonly io: TrackedConn;
  readonly service: ServiceName;
  /** What the per-source limit counts: the IPv4 address or the IPv6 /64. */
  readonly source: string;
  readonly peer: string;
  last: number;
  cut: "idle" | "grace" | "reclaimed" | undefined;
  /** The service is done; the client is finishing (the slot is still held). */
  lingering: boolean;
  released: boolean;
  done: Promise<void>;
}

/** The messages a refused TCP client reads (the time service gets none: it is binary). */
function refusal(kind: "total" | "per-source", limits: ServiceLimits, source: string): string {
  return kind === "total"
    ? `sockit: too many connections (limit ${limits.maxConnections}); try again later\r\n`
    : `sockit: too many connections from ${source} (limit ${limits.maxPerSource}); try again later\r\n`;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Runs `fn` with a promise that resolves `true` after `ms`; clears the timer when `fn` settles. */
async function withTimer<T>(ms: number, fn: (timeout: Promise<true>) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<true>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  try {
    return await fn(timeout);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A running set of services, from {@link serve}.
 *
 * @example
 * ```ts
 * const host = await serve({ services: [{ name: "echo", port: 0 }] });
 * console.log(host.bound[0]!.address);        // 127.0.0.1:41234
 * const counters = await host.close();       // graceful: clients get the grace period
 * ```
 */
export class ServiceHost {
  /** What listens where. */
  readonly bound: readonly BoundService[];
  /** The limits in force. */
  readonly limits: ServiceLimits;
  readonly #listeners: Array<{ ln: Listener; service: ServiceName }>;
  readonly #packets: PacketConn[];
  readonly #counters: ServiceCounters;
  readonly #opts: HostOptions;
  readonly #sessions = new Set<Session>();
  readonly #perSource = new Map<string, number>();
  /** Refused connections waiting for their client to read the message and close. */
  readonly #refusing = new Set<Conn>();
  readonly #fdLimit: number | undefined;
  readonly #fdRoom: number;
  #fdExhausted = false;
  readonly #shutdown = new AbortController();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #sweeper: NodeJS.Timeout;
  #closing: Promise<ServiceCounters> | undefined;
  #cutNow: () => void = () => {};
  readonly #cut = new Promise<void>((r) => (this.#cutNow = r));

  /** @internal Made by {@link serve}. */
  constructor(
    opts: HostOptions,
    limits: ServiceLimits,
    bound: BoundService[],
    listeners: Array<{ ln: Listener; service: ServiceName }>,
    packets: Array<{ pc: PacketConn; service: ServiceName }>,
    gate: UdpGate,
  ) {
    this.#opts = opts;
    this.limits = limits;
    this.bound = bound;
    this.#listeners = listeners;
    this.#packets = packets.map((p) => p.pc);
    this.#counters = newCounters();
    this.#fdLimit = descriptorLimit();
    const open = openDescriptors();
    this.#fdRoom =
      this.#fdLimit === undefined || open === undefined
        ? Infinity
        : Math.max(1, this.#fdLimit - open - FD_RESERVE);
    setMaxListeners(0, this.#shutdown.signal); // one listener per connection, by design
    for (const { ln, service } of listeners) this.#track(this.#acceptLoop(ln, service));
    for (const { pc, service } of packets) {
      this.#track(
        serveUdp(pc, service, {
          gate,
          counters: this.#counters,
          ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
          ...(opts.now ? { now: opts.now } : {}),
          ...(opts.quotes ? { quotes: opts.quotes } : {}),
        }).catch(() => {}),
      );
    }
    const every = Math.max(10, Math.min(1000, limits.idleMs / 4));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  /** A snapshot of the counters. */
  get counters(): ServiceCounters {
    const c = { ...this.#counters };
    c.tcpBacklogResets = this.#listeners.reduce((n, l) => n + l.ln.refused, 0);
    c.udpQueueDrops = this.#packets.reduce((n, p) => n + p.drops, 0);
    return c;
  }

  /** TCP connections being served now (lingering ones included: they hold their slot). */
  get active(): number {
    return this.#sessions.size;
  }

  /**
   * TCP connections (served, lingering or being refused) the process's descriptor limit leaves
   * room for: `ulimit -n` minus what was open when the host started, minus a small reserve.
   * Infinity when the limit is unknown. Past it, new connections are reset at once and counted
   * (`tcpShedDescriptors`) instead of failing accept().
   */
  get connectionRoom(): number {
    return this.#fdRoom;
  }

  /** True once {@link close} was called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Shuts down gracefully: stops accepting and closes the UDP sockets, tells streams to stop
   * (chargen ends, echo and discard stop reading), waits up to `graceMs` for the clients to
   * finish, then resets those left. Resolves the final counters. Idempotent.
   */
  close(graceMs = this.limits.graceMs): Promise<ServiceCounters> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  /** Ends the grace period of a running {@link close} now: clients left are reset. */
  cutOff(): void {
    this.#cutNow();
  }

  async #close(graceMs: number): Promise<ServiceCounters> {
    await Promise.all(this.#listeners.map(({ ln }) => ln.close()));
    await Promise.all(this.#packets.map((pc) => pc.close()));
    this.#shutdown.abort();
    await Promise.race([this.#drain(graceMs), this.#cut]);
    for (const s of this.#sessions) {
      s.cut ??= "grace";
      s.conn.abort();
    }
    for (const c of this.#refusing) c.abort();
    await this.#drain(2000);
    await withTimer(2000, (timeout) => Promise.race([Promise.allSettled([...this.#tasks]), timeout]));
    clearInterval(this.#sweeper);
    return this.counters;
  }

  /** Waits until every session has ended, or `ms` passed (the timer is cleared either way). */
  async #drain(ms: number): Promise<void> {
    await withTimer(ms, async (timeout) => {
      while (this.#sessions.size > 0) {
        const all = Promise.allSettled([...this.#sessions].map((s) => s.done)).then(() => false);
        if (await Promise.race([all, timeout])) return;
      }
    });
  }

  #track(p: Promise<unknown>): void {
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  #emit(e: ServiceEvent): void {
    this.#opts.onEvent?.(e);
  }

  async #acceptLoop(ln: Listener, service: ServiceName): Promise<void> {
    for (;;) {
      try {
        for await (const conn of ln) this.#admit(conn, service);
        return;
      } catch (err) {
        if (this.closing) return;
        if (err instanceof OSError && (err.code === "EMFILE" || err.code === "ENFILE")) {
          // out of descriptors is passing: count it, say so, and accept again a little later
          this.#counters.tcpDescriptorsExhausted++;
          this.#emit({ type: "error", service, proto: "tcp", peer: "-", detail: String(err) });
          await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
          continue;
        }
        this.#emit({ type: "error", service, proto: "tcp", peer: "-", detail: String(err) });
        return;
      }
    }
  }

  #admit(conn: Conn, service: ServiceName): void {
    const ep = conn.remoteEndpoint;
    const source = sourceKey(ep !== undefined && "address" in ep ? ep.address : "?");
    const peer = conn.remoteAddress;
    if (this.closing) {
      conn.abort();
      return;
    }
    // every connection is a descriptor: shed load before accept() itself would fail
    if (this.#sessions.size + this.#refusing.size >= this.#fdRoom && !this.#reclaim(undefined)) {
      this.#counters.tcpShedDescriptors++;
      this.#emit({
        type: "refused",
        service,
        proto: "tcp",
        peer,
        detail: `descriptor limit (${this.#fdLimit ?? "?"} open files; raise ulimit -n or lower --max-conns)`,
      });
      conn.abort();
      this.#checkDescriptors(service);
      return;
    }
    let kind = this.#over(source);
    // a lingering client gives its slot up first: the new one is served, the old one reset
    for (let i = 0; i < 2 && kind !== undefined; i++) {
      if (!this.#reclaim(kind === "per-source" ? source : undefined)) break;
      kind = this.#over(source);
    }
    if (kind !== undefined) {
      this.#refuse(conn, service, kind, source, peer);
      return;
    }
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    this.#counters.tcpAccepted++;
    this.#counters.tcpActive++;
    const s: Session = {
      conn,
      io: new TrackedConn(conn),
      service,
      source,
      peer,
      last: Date.now(),
      cut: undefined,
      lingering: false,
      released: false,
      done: Promise.resolve(),
    };
    this.#sessions.add(s);
    this.#emit({ type: "accepted", service, proto: "tcp", peer, detail: "" });
    s.done = this.#run(s);
    this.#track(s.done);
  }

  /** Which limit a new connection from `source` is over, if any. */
  #over(source: string): "total" | "per-source" | undefined {
    if (this.#sessions.size >= this.limits.maxConnections) return "total";
    if ((this.#perSource.get(source) ?? 0) >= this.limits.maxPerSource) return "per-source";
    return undefined;
  }

  /**
   * Resets the longest-lingering connection (from `source`, if given) and frees its slot now.
   * False when none lingers.
   */
  #reclaim(source: string | undefined): boolean {
    for (const s of this.#sessions) {
      if (!s.lingering || s.released || (source !== undefined && s.source !== source)) continue;
      s.cut ??= "reclaimed";
      s.conn.abort();
      this.#release(s);
      return true;
    }
    return false;
  }

  #refuse(
    conn: Conn,
    service: ServiceName,
    kind: "total" | "per-source",
    source: string,
    peer: string,
  ): void {
    if (kind === "total") this.#counters.tcpRefusedTotal++;
    else this.#counters.tcpRefusedPerSource++;
    const limit = kind === "total" ? this.limits.maxConnections : this.limits.maxPerSource;
    this.#emit({
      type: "refused",
      service,
      proto: "tcp",
      peer,
      detail: `${kind} connection limit (${limit})`,
    });
    if (service === "time") {
      void conn.close(); // nothing written, so nothing can stay queued: a plain FIN
      return;
    }
    // the message, a FIN, and a short wait for the client to read it and close: a refused client
    // must not leave the message queued in the kernel after we let go either
    if (this.#refusing.size >= REFUSING_MAX) {
      const oldest = this.#refusing.values().next().value as Conn;
      this.#refusing.delete(oldest);
      oldest.abort();
    }
    this.#refusing.add(conn);
    const refusing = (async () => {
      try {
        await conn.write(refusal(kind, this.limits, source));
        await settle(conn, Math.min(REFUSAL_LINGER_MS, this.limits.lingerMs));
      } catch {
        conn.abort();
      } finally {
        this.#refusing.delete(conn);
      }
    })();
    this.#track(refusing);
  }

  /** Frees the session's slot (once). */
  #release(s: Session): void {
    if (s.released) return;
    s.released = true;
    this.#sessions.delete(s);
    this.#counters.tcpActive--;
    const n = (this.#perSource.get(s.source) ?? 1) - 1;
    if (n <= 0) this.#perSource.delete(s.source);
    else this.#perSource.set(s.source, n);
  }

  async #run(s: Session): Promise<void> {
    const c = this.#counters;
    const o = this.#opts;
    let detail: string;
    // how the connection ends: linger until the client is done, or reset at once
    let graceful: boolean;
    try {
      const reason = await TCP_SERVICES[s.service](s.io, {
        limits: this.limits,
        signal: this.#shutdown.signal,
        onRead: (n) => {
          s.last = Date.now();
          c.bytesIn += n;
        },
        onWrite: (n) => {
          s.last = Date.now();
          c.bytesOut += n;
        },
        ...(o.now ? { now: o.now } : {}),
        ...(o.quotes ? { quotes: o.quotes } : {}),
      });
      if (reason === "bytes" || reason === "time") c.tcpBudgetEnded++;
      detail = reason === "bytes" ? "byte budget spent" : reason === "time" ? "time budget spent" : reason;
      graceful = reason !== "time"; // chargen has reset a client that stopped reading
    } catch (err) {
      graceful = false;
      if (s.cut !== undefined) {
        detail = s.cut === "idle" ? "idle timeout" : "cut off after the grace period";
        graceful = s.cut === "idle";
      } else if (this.closing) {
        detail = "shutdown";
        graceful = true;
      } else if (err instanceof OSError && (err.code === "ECONNRESET" || err.code === "EPIPE")) {
        c.tcpResets++;
        detail = "reset by the client";
      } else {
        c.tcpErrors++;
        detail = err instanceof OSError ? `${err.code}: ${err.message}` : String(err);
        this.#emit({ type: "error", service: s.service, proto: "tcp", peer: s.peer, detail });
      }
    }
    // a write cut off midway may have left bytes in Node: a FIN would queue behind them, so reset
    if (!graceful || s.io.writeCut || s.cut === "grace") s.conn.abort();
    else if (!s.io.wrote)
      await s.conn.close(); // nothing sent: nothing can stay queued
    else {
      s.lingering = true;
      if ((await settle(s.conn, this.limits.lingerMs)) === "cut") {
        c.tcpLingerResets++;
        const cut = s.cut as Session["cut"]; // set meanwhile by #reclaim or close()
        if (cut === "reclaimed") detail += "; then reset: its slot went to a new client";
        else if (cut !== "grace") {
          detail += `; then reset: the client had not read everything and closed within ${this.limits.lingerMs / 1000} s`;
        }
      }
    }
    this.#release(s);
    this.#emit({ type: "closed", service: s.service, proto: "tcp", peer: s.peer, detail });
  }

  #sweep(): void {
    const now = Date.now();
    for (const s of this.#sessions) {
      if (s.cut === undefined && !s.lingering && now - s.last >= this.limits.idleMs) {
        s.cut = "idle";
        this.#counters.tcpIdleClosed++;
        // the pending read or write fails now; #run ends the connection (FIN, or RST if a write
        // was cut off midway)
        s.conn.setReadDeadline(now);
        s.conn.setWriteDeadline(now);
      }
    }
    this.#checkDescriptors(this.#listeners[0]?.service);
  }

  /** Notes (once per episode) that no descriptor is left: accept() fails, the runtime sheds. */
  #checkDescriptors(service: ServiceName | undefined): void {
    const full = descriptorsExhausted();
    if (full && !this.#fdExhausted && service !== undefined) {
      this.#counters.tcpDescriptorsExhausted++;
      this.#emit({
        type: "error",
        service,
        proto: "tcp",
        peer: "-",
        detail:
          "out of file descriptors (EMFILE/ENFILE): connections arriving now are closed unserved; " +
          `raise ulimit -n (now ${this.#fdLimit ?? "?"}) or lower --max-conns`,
      });
    }
    this.#fdExhausted = full;
  }
}

async function bindOne(
  host: string,
  spec: ServiceSpec,
  udp: boolean,
  limits: ServiceLimits,
): Promise<{ ln: Listener; pc: PacketConn | undefined }> {
  for (let attempt = 0; ; attempt++) {
    const ln = await listen("tcp", hostPort(host, spec.port), { backlog: limits.backlog });
    if (!udp) return { ln, pc: undefined };
    try {
      const pc = await listenPacket("udp", hostPort(host, ln.port), {
        queueCount: limits.udpQueue,
        queueBytes: limits.udpQueue * 2048,
      });
      return { ln, pc };
    } catch (err) {
      await ln.close();
      // a free TCP port may be taken for UDP: with port 0, try another (bounded)
      if (spec.port !== 0 || attempt >= 20 || !(err instanceof OSError) || err.code !== "EADDRINUSE")
        throw err;
    }
  }
}

/**
 * Starts `services` on `host` (default 127.0.0.1), TCP and — with `udp: true` — UDP on the same
 * port numbers. Rejects (closing whatever was bound) if any port cannot be bound.
 *
 * @example
 * ```ts
 * const host = await serve({
 *   services: [{ name: "echo", port: 7007 }, { name: "time", port: 7037 }],
 *   udp: true,
 *   limits: { maxPerSource: 4 },
 *   onEvent: (e) => console.error(formatEvent(e)),
 * });
 * process.once("SIGINT", () => void host.close());
 * ```
 */
export async function serve(opts: HostOptions): Promise<ServiceHost> {
  const limits = resolveLimits(opts.limits);
  const host = opts.host ?? "127.0.0.1";
  const names = new Set<string>();
  for (const s of opts.services) {
    if (names.has(s.name)) throw new RangeError(`service ${s.name} is listed twice`);
    names.add(s.name);
  }
  const served = new Set<number>();
  const gate = new UdpGate(limits, served);
  const bound: BoundService[] = [];
  const listeners: Array<{ ln: Listener; service: ServiceName }> = [];
  const packets: Array<{ pc: PacketConn; service: ServiceName }> = [];
  try {
    for (const spec of opts.services) {
      const { ln, pc } = await bindOne(host, spec, opts.udp === true, limits);
      listeners.push({ ln, service: spec.name });
      served.add(ln.port);
      bound.push({ service: spec.name, proto: "tcp", address: hostPort(host, ln.port), host, port: ln.port });
      if (pc) {
        packets.push({ pc, service: spec.name });
        bound.push({
          service: spec.name,
          proto: "udp",
          address: hostPort(host, pc.port),
          host,
          port: pc.port,
        });
      }
    }
  } catch (err) {
    await Promise.all(listeners.map(({ ln }) => ln.close()));
    await Promise.all(packets.map(({ pc }) => pc.close()));
    throw err;
  }
  return new ServiceHost(opts, limits, bound, listeners, packets, gate);
}
