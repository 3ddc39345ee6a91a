/**
 * The UDP side of each service, and the gate every datagram passes before it is answered.
 *
 * UDP is where these services were abused: a spoofed datagram "from" one service to another
 * (echo ↔ chargen) loops forever, and a small request that gets a bigger answer amplifies a flood
 * toward a victim. So a datagram is answered only if its source port is not privileged (< 1024)
 * and not one this host serves, the reply fits a fixed bound, and both the source's and the
 * all-sources token buckets have a token.
 *
 * @module
 */
import type { PacketConn } from "../../net/index.js";
import type { ServiceCounters, ServiceEvent } from "./events.js";
import type { ServiceLimits, ServiceName } from "./limits.js";
import { CHARGEN_CYCLE_LINES, chargenLine, encodeTime, formatDaytime } from "./protocol.js";
import { BUILTIN_QUOTES } from "./quotes.js";
import { RateLimiter } from "./ratelimit.js";
import { sourceKey } from "./source.js";
import { pickQuote } from "./tcp.js";

/**
 * Options of {@link udpResponder}.
 *
 * @example
 * ```ts
 * const opts: UdpResponderOptions = { quotes: ["Hello.\r\n"], random: () => 0 };
 * const answer = udpResponder("qotd", opts);
 * answer(Buffer.alloc(0))?.toString(); // "Hello.\r\n"
 * ```
 */
export interface UdpResponderOptions {
  /** The clock (tests pass a fixed one). */
  readonly now?: () => Date;
  /** The qotd quotes, as sent. */
  readonly quotes?: readonly string[];
  /** Random numbers in [0, 1) for picking quotes. */
  readonly random?: () => number;
}

/**
 * The reply of `service` to one datagram (`undefined`: no reply, as for discard). chargen answers
 * one line, the next one each time.
 *
 * @example `udpResponder("time")(Buffer.alloc(0))?.length // 4`
 */
export function udpResponder(
  service: ServiceName,
  opts: UdpResponderOptions = {},
): (data: Buffer) => Buffer | undefined {
  const now = opts.now ?? (() => new Date());
  switch (service) {
    case "echo":
      return (data) => data;
    case "discard":
      return () => undefined;
    case "daytime":
      return () => Buffer.from(formatDaytime(now()));
    case "time":
      return () => encodeTime(now());
    case "qotd":
      return () => Buffer.from(pickQuote(opts.quotes ?? BUILTIN_QUOTES, opts.random));
    case "chargen": {
      let line = 0;
      return () => {
        const b = chargenLine(line);
        line = (line + 1) % CHARGEN_CYCLE_LINES;
        return b;
      };
    }
  }
}

/** Why a datagram is not answered. */
export type UdpDrop = "privileged-port" | "loop" | "oversize" | "limited-source" | "limited-total";

/**
 * The checks before a UDP reply, in order: source port, loops, reply size, rate.
 *
 * @example
 * ```ts
 * const gate = new UdpGate(DEFAULT_LIMITS, new Set([7007, 7019]));
 * gate.check({ address: "127.0.0.1", port: 19 }, 74, performance.now()) // "privileged-port"
 * ```
 */
export class UdpGate {
  readonly #limits: Pick<ServiceLimits, "udpMaxReply">;
  readonly #served: ReadonlySet<number>;
  readonly #limiter: RateLimiter;

  /** `served`: every port this host serves (TCP or UDP); datagrams from them are dropped. */
  constructor(
    limits: Pick<ServiceLimits, "udpMaxReply" | "udpRate" | "udpBurst" | "udpTotalRate" | "udpSources">,
    served: ReadonlySet<number>,
  ) {
    this.#limits = limits;
    this.#served = served;
    this.#limiter = new RateLimiter({
      rate: limits.udpRate,
      burst: limits.udpBurst,
      totalRate: limits.udpTotalRate,
      maxSources: limits.udpSources,
    });
  }

  /** Checks the source alone (done before computing a reply). */
  checkSource(from: { readonly port: number }): UdpDrop | undefined {
    if (from.port < 1024) return "privileged-port";
    if (this.#served.has(from.port)) return "loop";
    return undefined;
  }

  /** Checks a reply of `replyBytes` to `from`; takes a token when it may go out. */
  check(from: { readonly address: string; readonly port: number }, replyBytes: number, nowMs: number) {
    const bad = this.checkSource(from);
    if (bad !== undefined) return bad;
    if (replyBytes > this.#limits.udpMaxReply) return "oversize";
    // one bucket per IPv4 address or IPv6 /64: a host cannot multiply its rate by its addresses
    const v = this.#limiter.allow(sourceKey(from.address), nowMs);
    return v === "ok" ? "ok" : v === "source" ? "limited-source" : "limited-total";
  }
}

/** Options of {@link serveUdp}. */
export interface ServeUdpOptions extends UdpResponderOptions {
  readonly gate: UdpGate;
  readonly counters: ServiceCounters;
  readonly onEvent?: (e: ServiceEvent) => void;
  /** Monotonic milliseconds for the rate limiter (default `performance.now`). */
  readonly clock?: () => number;
}

const COUNTER: Record<UdpDrop, keyof ServiceCounters> = {
  "privileged-port": "udpDroppedPort",
  loop: "udpDroppedLoop",
  oversize: "udpDroppedOversize",
  "limited-source": "udpLimitedSource",
  "limited-total": "udpLimitedTotal",
};

const DETAIL: Record<UdpDrop, string> = {
  "privileged-port": "source port below 1024",
  loop: "source port is one this host serves (loop)",
  oversize: "reply would exceed the UDP reply bound",
  "limited-source": "per-source rate limit",
  "limited-total": "total rate limit",
};

/**
 * Answers datagrams on `pc` for `service` until the socket is closed; every reply passes the
 * gate. Resolves when `pc` closes. (Datagrams the socket's queue dropped are in `pc.drops`.)
 *
 * @example `void serveUdp(await listenPacket("udp", "127.0.0.1:7007"), "echo", { gate, counters })`
 */
export async function serveUdp(pc: PacketConn, service: ServiceName, opts: ServeUdpOptions): Promise<void> {
  const respond = udpResponder(service, opts);
  const clock = opts.clock ?? (() => performance.now());
  const c = opts.counters;
  for await (const p of pc) {
    c.udpReceived++;
    let verdict = opts.gate.checkSource(p.endpoint);
    let reply: Buffer | undefined;
    if (verdict === undefined) {
      reply = respond(p.data);
      if (reply === undefined) continue;
      const v = opts.gate.check(p.endpoint, reply.length, clock());
      verdict = v === "ok" ? undefined : v;
    }
    if (verdict !== undefined) {
      (c[COUNTER[verdict]] as number)++;
      opts.onEvent?.({
        type: verdict.startsWith("limited") ? "limited" : "dropped",
        service,
        proto: "udp",
        peer: p.address,
        detail: DETAIL[verdict],
      });
      continue;
    }
    try {
      await pc.writeTo(reply!, p.endpoint);
      c.udpReplied++;
    } catch (err) {
      if ((err as { code?: unknown }).code === "EBADF") return; // closed meanwhile
      c.udpErrors++;
      opts.onEvent?.({ type: "error", service, proto: "udp", peer: p.address, detail: String(err) });
    }
  }
}
