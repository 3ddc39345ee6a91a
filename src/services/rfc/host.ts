/**
 * `serve()` and `ServiceHost`: several services in one process, each on TCP (and, opt-in, UDP),
 * with the connection limits (total and per source), the idle timeout, the counters, and a
 * graceful shutdown (stop accepting, let clients finish within a grace period, then cut them off).
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { type Conn, type Listener, listen, listenPacket, OSError, type PacketConn } from "../../net/index.js";
import { newCounters, type ServiceCounters, type ServiceEvent } from "./events.js";
import { resolveLimits, type ServiceLimits, type ServiceName } from "./limits.js";
import { TCP_SERVICES } from "./tcp.js";
import { serveUdp, UdpGate } from "./udp.js";

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

interface Session {
  readonly conn: Conn;
  readonly service: ServiceName;
  readonly source: string;
  readonly peer: string;
  last: number;
  cut: "idle" | "grace" | undefined;
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
 * console.log(host.bound[0].address);        // 127.0.0.1:41234
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

  /** TCP connections being served now. */
  get active(): number {
    return this.#sessions.size;
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
      if (s.cut !== undefined) continue; // idle-closed already (abort() after close() must not happen)
      s.cut = "grace";
      s.conn.abort();
    }
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
    try {
      for await (const conn of ln) this.#admit(conn, service);
    } catch (err) {
      if (!this.closing) this.#emit({ type: "error", service, proto: "tcp", peer: "-", detail: String(err) });
    }
  }

  #admit(conn: Conn, service: ServiceName): void {
    const ep = conn.remoteEndpoint;
    const source = ep !== undefined && "address" in ep ? ep.address : "?";
    const peer = conn.remoteAddress;
    if (this.closing) {
      conn.abort();
      return;
    }
    const n = this.#perSource.get(source) ?? 0;
    const kind =
      this.#sessions.size >= this.limits.maxConnections
        ? "total"
        : n >= this.limits.maxPerSource
          ? "per-source"
          : undefined;
    if (kind !== undefined) {
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
      // the message fits the socket buffer at once; close() sends FIN after it
      if (service !== "time") void conn.write(refusal(kind, this.limits, source)).catch(() => {});
      void conn.close();
      return;
    }
    this.#perSource.set(source, n + 1);
    this.#counters.tcpAccepted++;
    this.#counters.tcpActive++;
    const s: Session = {
      conn,
      service,
      source,
      peer,
      last: Date.now(),
      cut: undefined,
      done: Promise.resolve(),
    };
    this.#sessions.add(s);
    this.#emit({ type: "accepted", service, proto: "tcp", peer, detail: "" });
    s.done = this.#run(s);
    this.#track(s.done);
  }

  async #run(s: Session): Promise<void> {
    const c = this.#counters;
    const o = this.#opts;
    let detail: string;
    try {
      const reason = await TCP_SERVICES[s.service](s.conn, {
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
    } catch (err) {
      if (s.cut !== undefined) detail = s.cut === "idle" ? "idle timeout" : "cut off after the grace period";
      else if (this.closing) detail = "shutdown";
      else if (err instanceof OSError && (err.code === "ECONNRESET" || err.code === "EPIPE")) {
        c.tcpResets++;
        detail = "reset by the client";
      } else {
        c.tcpErrors++;
        detail = err instanceof OSError ? `${err.code}: ${err.message}` : String(err);
        this.#emit({ type: "error", service: s.service, proto: "tcp", peer: s.peer, detail });
      }
    } finally {
      await s.conn.close();
      this.#sessions.delete(s);
      c.tcpActive--;
      const n = (this.#perSource.get(s.source) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(s.source);
      else this.#perSource.set(s.source, n);
    }
    this.#emit({ type: "closed", service: s.service, proto: "tcp", peer: s.peer, detail });
  }

  #sweep(): void {
    const now = Date.now();
    for (const s of this.#sessions) {
      if (s.cut === undefined && now - s.last >= this.limits.idleMs) {
        s.cut = "idle";
        this.#counters.tcpIdleClosed++;
        void s.conn.close(); // pending calls reject; queued bytes still go out (bounded linger)
      }
    }
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
