/**
 * Which TCP connections a service host serves: the slots (one per connection, held until nothing
 * of it is left in the kernel), the total and per-source limits, the refusal of a connection over
 * them (a message, a FIN, a short wait for the client to read it), the reclaiming of a lingering
 * slot for a new client, and the descriptor budget (`ulimit -n`) the connections must fit in.
 *
 * Internal to the host (host.ts); not exported by the package.
 *
 * @module
 */
import type { Conn } from "../../net/index.js";
import type { ServiceCounters, ServiceEvent } from "./events.js";
import { descriptorLimit, descriptorsExhausted, openDescriptors } from "./fds.js";
import type { ServiceLimits, ServiceName } from "./limits.js";
import { settle } from "./linger.js";
import { newSession, type Session } from "./session.js";
import { sourceKey } from "./source.js";

/** Refused connections that may wait at once for their client to read the message and close. */
const REFUSING_MAX = 16;
/** How long a refused client has to read the message and close before it is reset (ms). */
const REFUSAL_LINGER_MS = 1000;
/** Descriptors kept free for everything but connections (files, timers' threads, the runtime). */
const FD_RESERVE = 8;

/** The messages a refused TCP client reads (the time service gets none: it is binary). */
function refusal(kind: "total" | "per-source", limits: ServiceLimits, source: string): string {
  return kind === "total"
    ? `sockit: too many connections (limit ${limits.maxConnections}); try again later\r\n`
    : `sockit: too many connections from ${source} (limit ${limits.maxPerSource}); try again later\r\n`;
}

/** The slots of a host's TCP connections and the rules for handing them out. */
export class Admission {
  /** The admitted connections (lingering ones included: they hold their slot). */
  readonly sessions = new Set<Session>();
  /** Refused connections waiting for their client to read the message and close. */
  readonly refusing = new Set<Conn>();
  /** Connections the descriptor limit leaves room for (see ServiceHost.connectionRoom). */
  readonly fdRoom: number;
  readonly #fdLimit: number | undefined;
  #fdExhausted = false;
  readonly #perSource = new Map<string, number>();
  readonly #limits: ServiceLimits;
  readonly #counters: ServiceCounters;
  readonly #emit: (e: ServiceEvent) => void;
  readonly #track: (p: Promise<unknown>) => void;

  constructor(
    limits: ServiceLimits,
    counters: ServiceCounters,
    emit: (e: ServiceEvent) => void,
    track: (p: Promise<unknown>) => void,
  ) {
    this.#limits = limits;
    this.#counters = counters;
    this.#emit = emit;
    this.#track = track;
    this.#fdLimit = descriptorLimit();
    const open = openDescriptors();
    this.fdRoom =
      this.#fdLimit === undefined || open === undefined
        ? Infinity
        : Math.max(1, this.#fdLimit - open - FD_RESERVE);
  }

  /**
   * Takes a slot for a new connection: a session to run, or undefined when the connection was
   * shed (descriptor limit) or refused (a connection limit), each counted and reported.
   */
  admit(conn: Conn, service: ServiceName): Session | undefined {
    const ep = conn.remoteEndpoint;
    const source = sourceKey(ep !== undefined && "address" in ep ? ep.address : "?");
    const peer = conn.remoteAddress;
    // every connection is a descriptor: shed load before accept() itself would fail
    if (this.sessions.size + this.refusing.size >= this.fdRoom && !this.#reclaim(undefined)) {
      this.#counters.tcpShedDescriptors++;
      this.#emit({
        type: "refused",
        service,
        proto: "tcp",
        peer,
        detail: `descriptor limit (${this.#fdLimit ?? "?"} open files; raise ulimit -n or lower --max-conns)`,
      });
      conn.abort();
      this.checkDescriptors(service);
      return undefined;
    }
    let kind = this.#over(source);
    // a lingering client gives its slot up first: the new one is served, the old one reset
    for (let i = 0; i < 2 && kind !== undefined; i++) {
      if (!this.#reclaim(kind === "per-source" ? source : undefined)) break;
      kind = this.#over(source);
    }
    if (kind !== undefined) {
      this.#refuse(conn, service, kind, source, peer);
      return undefined;
    }
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    this.#counters.tcpAccepted++;
    this.#counters.tcpActive++;
    const s = newSession(conn, service, source, peer);
    this.sessions.add(s);
    return s;
  }

  /** Frees the session's slot (once). */
  release(s: Session): void {
    if (s.released) return;
    s.released = true;
    this.sessions.delete(s);
    this.#counters.tcpActive--;
    const n = (this.#perSource.get(s.source) ?? 1) - 1;
    if (n <= 0) this.#perSource.delete(s.source);
    else this.#perSource.set(s.source, n);
  }

  /** Notes (once per episode) that no descriptor is left: accept() fails, the runtime sheds. */
  checkDescriptors(service: ServiceName | undefined): void {
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

  /** Which limit a new connection from `source` is over, if any. */
  #over(source: string): "total" | "per-source" | undefined {
    if (this.sessions.size >= this.#limits.maxConnections) return "total";
    if ((this.#perSource.get(source) ?? 0) >= this.#limits.maxPerSource) return "per-source";
    return undefined;
  }

  /**
   * Resets the longest-lingering connection (from `source`, if given) and frees its slot now.
   * False when none lingers.
   */
  #reclaim(source: string | undefined): boolean {
    for (const s of this.sessions) {
      if (!s.lingering || s.released || (source !== undefined && s.source !== source)) continue;
      s.cut ??= "reclaimed";
      s.conn.abort();
      this.release(s);
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
    const limits = this.#limits;
    if (kind === "total") this.#counters.tcpRefusedTotal++;
    else this.#counters.tcpRefusedPerSource++;
    const limit = kind === "total" ? limits.maxConnections : limits.maxPerSource;
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
    if (this.refusing.size >= REFUSING_MAX) {
      const oldest = this.refusing.values().next().value as Conn;
      this.refusing.delete(oldest);
      oldest.abort();
    }
    this.refusing.add(conn);
    const refusing = (async () => {
      try {
        await conn.write(refusal(kind, limits, source));
        await settle(conn, Math.min(REFUSAL_LINGER_MS, limits.lingerMs));
      } catch {
        conn.abort();
      } finally {
        this.refusing.delete(conn);
      }
    })();
    this.#track(refusing);
  }
}
