/**
 * The services, their ports, and every safety limit of `sockit serve` with its default.
 *
 * These services have an abuse history (CERT CA-1996-01 "UDP port denial-of-service", the
 * "fraggle" smurf variant, chargen amplification), so each limit exists for a reason given beside
 * it; `sockit serve --help` and docs/services.md list them with their flags.
 *
 * @module
 */

/**
 * The six services.
 *
 * @example
 * ```ts
 * const name: ServiceName = "daytime";
 * const host = await serve({ services: [{ name, port: DEFAULT_PORT_BASE + WELL_KNOWN_PORTS[name] }] });
 * ```
 */
export type ServiceName = "echo" | "discard" | "daytime" | "qotd" | "chargen" | "time";

/**
 * Each service's well-known port (`sockit serve` adds a base of 7000 by default).
 *
 * @example `WELL_KNOWN_PORTS.echo // 7`
 */
export const WELL_KNOWN_PORTS: Readonly<Record<ServiceName, number>> = {
  echo: 7,
  discard: 9,
  daytime: 13,
  qotd: 17,
  chargen: 19,
  time: 37,
};

/**
 * The services in port order.
 *
 * @example `SERVICE_NAMES[0] // "echo"`
 */
export const SERVICE_NAMES: readonly ServiceName[] = [
  "echo",
  "discard",
  "daytime",
  "qotd",
  "chargen",
  "time",
];

/**
 * The RFC of each service.
 *
 * @example `SERVICE_RFC.time // 868`
 */
export const SERVICE_RFC: Readonly<Record<ServiceName, number>> = {
  echo: 862,
  discard: 863,
  daytime: 867,
  qotd: 865,
  chargen: 864,
  time: 868,
};

/**
 * True for one of the six service names.
 *
 * @example `isServiceName("echo") // true`
 */
export function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s);
}

/**
 * Default port base: `sockit serve` listens on 7000 + the well-known port.
 *
 * @example
 * ```ts
 * const services = SERVICE_NAMES.map((name) => ({ name, port: DEFAULT_PORT_BASE + WELL_KNOWN_PORTS[name] }));
 * const host = await serve({ services }); // echo on 7007, …, time on 7037
 * ```
 */
export const DEFAULT_PORT_BASE = 7000;

/**
 * Every limit of a service host.
 *
 * @example
 * ```ts
 * const limits: Partial<ServiceLimits> = { maxConnections: 8, maxPerSource: 2, idleMs: 10_000 };
 * const host = await serve({ services: [{ name: "echo", port: 0 }], limits });
 * host.limits.graceMs; // 5000: the default for what was not given
 * ```
 */
export interface ServiceLimits {
  /**
   * TCP connections open at once over all services; more are refused with a message. With the
   * kernel's socket buffers this also bounds kernel memory (docs/services.md has the figures).
   */
  readonly maxConnections: number;
  /** TCP connections open at once from one source: an IPv4 address or an IPv6 /64. */
  readonly maxPerSource: number;
  /** A TCP connection with no byte read or written for this long is closed (ms). */
  readonly idleMs: number;
  /**
   * After a TCP service has sent its last byte (and a FIN), how long the client has to read the
   * rest and close (ms). The connection keeps its slot meanwhile, so what the kernel still holds
   * for it stays within the limits; then it is reset (RST), which drops whatever is still queued.
   */
  readonly lingerMs: number;
  /** A chargen connection ends after this many bytes. */
  readonly chargenBytes: number;
  /** A chargen connection ends after this long (ms), also when the client stopped reading. */
  readonly chargenMs: number;
  /** UDP replies per second to one source: an IPv4 address or an IPv6 /64 (token bucket rate). */
  readonly udpRate: number;
  /** UDP replies one source address may get at once (token bucket size). */
  readonly udpBurst: number;
  /** UDP replies per second over all sources (a second bucket, against spoofed floods). */
  readonly udpTotalRate: number;
  /** Source addresses the UDP rate limiter remembers at once. */
  readonly udpSources: number;
  /** Largest UDP reply in bytes; a reply that would be larger is not sent (echo drops it). */
  readonly udpMaxReply: number;
  /** Datagrams each UDP socket queues before dropping (and counting) new ones. */
  readonly udpQueue: number;
  /** Connections waiting to be accepted per listener; more are reset (and counted). */
  readonly backlog: number;
  /** On shutdown, how long clients may finish before they are cut off (ms). */
  readonly graceMs: number;
}

/**
 * The defaults: safe on a shared machine, generous enough for a lab.
 *
 * @example `DEFAULT_LIMITS.maxConnections // 48`
 */
export const DEFAULT_LIMITS: ServiceLimits = {
  maxConnections: 48,
  maxPerSource: 16,
  idleMs: 60_000,
  lingerMs: 5000,
  chargenBytes: 1024 * 1024,
  chargenMs: 30_000,
  udpRate: 10,
  udpBurst: 20,
  udpTotalRate: 1000,
  udpSources: 4096,
  udpMaxReply: 512,
  udpQueue: 256,
  backlog: 128,
  graceMs: 5000,
};

/**
 * Fills in defaults and checks every value (RangeError names the limit).
 *
 * @example `resolveLimits({ maxPerSource: 4 }).maxConnections // 48`
 */
export function resolveLimits(partial: Partial<ServiceLimits> = {}): ServiceLimits {
  const l = { ...DEFAULT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`limit ${k} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  for (const k of [
    "maxConnections",
    "maxPerSource",
    "udpBurst",
    "udpSources",
    "udpQueue",
    "backlog",
  ] as const) {
    if (l[k] < 1) throw new RangeError(`limit ${k} must be at least 1, got ${l[k]}`);
  }
  for (const k of ["udpRate", "udpTotalRate", "idleMs", "lingerMs", "chargenMs", "chargenBytes"] as const) {
    if (l[k] <= 0) throw new RangeError(`limit ${k} must be greater than 0, got ${l[k]}`);
  }
  return l;
}
