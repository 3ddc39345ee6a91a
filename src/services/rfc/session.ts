/**
 * One TCP connection of a service host, from its accept to its end: the service runs over it,
 * then it ends the way that leaves nothing queued in the kernel — a FIN and a linger while the
 * client reads the rest and closes (see linger.ts), or a reset when a write was cut off midway,
 * the service gave up on the client, or the grace period of a shutdown ran out.
 *
 * Internal to the host (host.ts); not exported by the package.
 *
 * @module
 */
import { type Conn, OSError } from "../../net/index.js";
import type { ServiceCounters, ServiceEvent } from "./events.js";
import type { ServiceLimits, ServiceName } from "./limits.js";
import { settle } from "./linger.js";
import { type ServiceConn, TCP_SERVICES } from "./tcp.js";

/**
 * The connection as a service sees it, noting whether a write was ever started (then bytes may
 * be queued in the kernel) and whether one was cut off (then Node may still hold bytes, and only
 * a reset ends the connection without leaving them queued).
 */
export class TrackedConn implements ServiceConn {
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

/** One admitted TCP connection and the slot it holds. */
export interface Session {
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

/** A new session for an admitted connection (its slot is counted by the caller). */
export function newSession(conn: Conn, service: ServiceName, source: string, peer: string): Session {
  return {
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
}

/** What a session needs from its host. */
export interface SessionContext {
  readonly limits: ServiceLimits;
  readonly counters: ServiceCounters;
  /** Aborted when the host shuts down. */
  readonly signal: AbortSignal;
  /** True once the host is closing. */
  readonly closing: () => boolean;
  readonly emit: (e: ServiceEvent) => void;
  readonly now?: () => Date;
  readonly quotes?: readonly string[];
}

/**
 * Serves the session's connection and ends it; resolves what to report of its end (the caller
 * frees the slot and emits "closed"). Emits "error" for a failure other than a reset.
 */
export async function runSession(s: Session, ctx: SessionContext): Promise<string> {
  const c = ctx.counters;
  const limits = ctx.limits;
  let detail: string;
  // how the connection ends: linger until the client is done, or reset at once
  let graceful: boolean;
  try {
    const reason = await TCP_SERVICES[s.service](s.io, {
      limits,
      signal: ctx.signal,
      onRead: (n) => {
        s.last = Date.now();
        c.bytesIn += n;
      },
      onWrite: (n) => {
        s.last = Date.now();
        c.bytesOut += n;
      },
      ...(ctx.now ? { now: ctx.now } : {}),
      ...(ctx.quotes ? { quotes: ctx.quotes } : {}),
    });
    if (reason === "bytes" || reason === "time") c.tcpBudgetEnded++;
    detail = reason === "bytes" ? "byte budget spent" : reason === "time" ? "time budget spent" : reason;
    graceful = reason !== "time"; // chargen has reset a client that stopped reading
  } catch (err) {
    graceful = false;
    if (s.cut !== undefined) {
      detail = s.cut === "idle" ? "idle timeout" : "cut off after the grace period";
      graceful = s.cut === "idle";
    } else if (ctx.closing()) {
      detail = "shutdown";
      graceful = true;
    } else if (err instanceof OSError && (err.code === "ECONNRESET" || err.code === "EPIPE")) {
      c.tcpResets++;
      detail = "reset by the client";
    } else {
      c.tcpErrors++;
      detail = err instanceof OSError ? `${err.code}: ${err.message}` : String(err);
      ctx.emit({ type: "error", service: s.service, proto: "tcp", peer: s.peer, detail });
    }
  }
  // a write cut off midway may have left bytes in Node: a FIN would queue behind them, so reset
  if (!graceful || s.io.writeCut || s.cut === "grace") s.conn.abort();
  else if (!s.io.wrote)
    await s.conn.close(); // nothing sent: nothing can stay queued
  else {
    s.lingering = true;
    if ((await settle(s.conn, limits.lingerMs)) === "cut") {
      c.tcpLingerResets++;
      const cut = s.cut as Session["cut"]; // set meanwhile by a reclaim or the host's close()
      if (cut === "reclaimed") detail += "; then reset: its slot went to a new client";
      else if (cut !== "grace") {
        detail += `; then reset: the client had not read everything and closed within ${limits.lingerMs / 1000} s`;
      }
    }
  }
  return detail;
}
