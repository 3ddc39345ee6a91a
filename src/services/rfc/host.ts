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
import { Admission } from "./admission.js";
import { newCounters, type ServiceCounters, type ServiceEvent } from "./events.js";
import { resolveLimits, type ServiceLimits, type ServiceName } from "./limits.js";
import { runSession, type Session } from "./session.js";
import { serveUdp, UdpGate } from "./udp.js";

/** After accept() failed for want of descriptors, wait this long before accepting again. */
const ACCEPT_RETRY_MS = 100;

/**
 * One service to run and its port (0: a free port chosen by the kernel).
 *
 * @example
 * ```ts
 * const spec: ServiceSpec = { name: "qotd", port: 0 };
 * const host = await serve({ services: [spec] });
 * ```
 */
export interface ServiceSpec {
  readonly name: ServiceName;
  readonly port: number;
}

/**
 * Options of {@link serve}.
 *
 * @example
 * ```ts
 * const opts: HostOptions = {
 *   services: [{ name: "echo", port: 0 }, { name: "qotd", port: 0 }],
 *   host: "::1",
 *   udp: true,
 *   quotes: ["Hello from sockit.\r\n"],
 *   onEvent: (e) => console.error(formatEvent(e)),
 * };
 * const host = await serve(opts);
 * ```
 */
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

/**
 * One bound socket of the host.
 *
 * @example
 * ```ts
 * const host = await serve({ services: [{ name: "echo", port: 0 }], udp: true });
 * for (const b of host.bound) console.log(`${b.service}/${b.proto} on ${b.address}`); // echo/tcp on 127.0.0.1:41234, …
 * const tcp: BoundService | undefined = host.bound.find((b) => b.proto === "tcp");
 * ```
 */
export interface BoundService {
  readonly service: ServiceName;
  readonly proto: "tcp" | "udp";
  /** Host and port: `"127.0.0.1:7007"`, `"[::1]:7007"`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
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
  readonly #admission: Admission;
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
    this.#admission = new Admission(
      limits,
      this.#counters,
      (e) => this.#emit(e),
      (p) => this.#track(p),
    );
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
    return this.#admission.sessions.size;
  }

  /**
   * TCP connections (served, lingering or being refused) the process's descriptor limit leaves
   * room for: `ulimit -n` minus what was open when the host started, minus a small reserve.
   * Infinity when the limit is unknown. Past it, new connections are reset at once and counted
   * (`tcpShedDescriptors`) instead of failing accept().
   */
  get connectionRoom(): number {
    return this.#admission.fdRoom;
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
    for (const s of this.#admission.sessions) {
      s.cut ??= "grace";
      s.conn.abort();
    }
    for (const c of this.#admission.refusing) c.abort();
    await this.#drain(2000);
    await withTimer(2000, (timeout) => Promise.race([Promise.allSettled([...this.#tasks]), timeout]));
    clearInterval(this.#sweeper);
    return this.counters;
  }

  /** Waits until every session has ended, or `ms` passed (the timer is cleared either way). */
  async #drain(ms: number): Promise<void> {
    const sessions = this.#admission.sessions;
    await withTimer(ms, async (timeout) => {
      while (sessions.size > 0) {
        const all = Promise.allSettled([...sessions].map((s) => s.done)).then(() => false);
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
    if (this.closing) {
      conn.abort();
      return;
    }
    const s = this.#admission.admit(conn, service);
    if (s === undefined) return;
    this.#emit({ type: "accepted", service, proto: "tcp", peer: s.peer, detail: "" });
    s.done = this.#run(s);
    this.#track(s.done);
  }

  async #run(s: Session): Promise<void> {
    const o = this.#opts;
    const detail = await runSession(s, {
      limits: this.limits,
      counters: this.#counters,
      signal: this.#shutdown.signal,
      closing: () => this.closing,
      emit: (e) => this.#emit(e),
      ...(o.now ? { now: o.now } : {}),
      ...(o.quotes ? { quotes: o.quotes } : {}),
    });
    this.#admission.release(s);
    this.#emit({ type: "closed", service: s.service, proto: "tcp", peer: s.peer, detail });
  }

  #sweep(): void {
    const now = Date.now();
    for (const s of this.#admission.sessions) {
      if (s.cut === undefined && !s.lingering && now - s.last >= this.limits.idleMs) {
        s.cut = "idle";
        this.#counters.tcpIdleClosed++;
        // the pending read or write fails now; the session ends the connection (FIN, or RST if a
        // write was cut off midway)
        s.conn.setReadDeadline(now);
        s.conn.setWriteDeadline(now);
      }
    }
    this.#admission.checkDescriptors(this.#listeners[0]?.service);
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
