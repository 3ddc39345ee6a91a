/**
 * What a service host counts and reports: one counter per kind of refused, dropped or limited
 * event, and the event itself for whoever listens (`sockit serve -v` prints them).
 *
 * @module
 */
import type { ServiceName } from "./limits.js";

/**
 * The host's counters (all start at 0; `tcpActive` goes up and down).
 *
 * @example
 * ```ts
 * const c: ServiceCounters = await host.close();
 * if (c.tcpRefusedTotal + c.tcpRefusedPerSource > 0) console.error("limits refused clients:", formatCounters(c));
 * ```
 */
export interface ServiceCounters {
  /** TCP connections accepted and served. */
  tcpAccepted: number;
  /** TCP connections open now. */
  tcpActive: number;
  /** Refused: the total connection limit was reached. */
  tcpRefusedTotal: number;
  /** Refused: the per-source connection limit was reached. */
  tcpRefusedPerSource: number;
  /** Reset by a listener because its accept queue was full. */
  tcpBacklogResets: number;
  /** Closed by the idle timeout. */
  tcpIdleClosed: number;
  /**
   * Reset after the service had finished: the client had neither read everything and closed
   * within the linger time, nor left before its slot was needed (RST drops what the kernel held).
   */
  tcpLingerResets: number;
  /** Reset at once: the process had no file descriptors to spare (`ulimit -n`). */
  tcpShedDescriptors: number;
  /**
   * Times the process ran out of file descriptors (EMFILE/ENFILE): connections arriving then are
   * closed unserved by the runtime, which cannot count them one by one.
   */
  tcpDescriptorsExhausted: number;
  /** chargen connections ended by the byte or time budget. */
  tcpBudgetEnded: number;
  /** Connections the client reset (normal for chargen clients, which stop by closing). */
  tcpResets: number;
  /** Connections that ended in any other error. */
  tcpErrors: number;
  /** Bytes read from TCP clients. */
  bytesIn: number;
  /** Bytes written to TCP clients. */
  bytesOut: number;
  /** UDP datagrams received. */
  udpReceived: number;
  /** UDP replies sent. */
  udpReplied: number;
  /** Dropped: source port below 1024 (another service, or a spoofed one). */
  udpDroppedPort: number;
  /** Dropped: source port is one this host serves (service-to-service loops). */
  udpDroppedLoop: number;
  /** Dropped: the reply would exceed the UDP reply bound. */
  udpDroppedOversize: number;
  /** Dropped by a socket's receive queue bound. */
  udpQueueDrops: number;
  /** Not answered: the source's token bucket was empty. */
  udpLimitedSource: number;
  /** Not answered: the all-sources token bucket was empty. */
  udpLimitedTotal: number;
  /** UDP sends that failed. */
  udpErrors: number;
}

/**
 * A fresh set of counters.
 *
 * @example `newCounters().tcpAccepted // 0`
 */
export function newCounters(): ServiceCounters {
  return {
    tcpAccepted: 0,
    tcpActive: 0,
    tcpRefusedTotal: 0,
    tcpRefusedPerSource: 0,
    tcpBacklogResets: 0,
    tcpIdleClosed: 0,
    tcpLingerResets: 0,
    tcpShedDescriptors: 0,
    tcpDescriptorsExhausted: 0,
    tcpBudgetEnded: 0,
    tcpResets: 0,
    tcpErrors: 0,
    bytesIn: 0,
    bytesOut: 0,
    udpReceived: 0,
    udpReplied: 0,
    udpDroppedPort: 0,
    udpDroppedLoop: 0,
    udpDroppedOversize: 0,
    udpQueueDrops: 0,
    udpLimitedSource: 0,
    udpLimitedTotal: 0,
    udpErrors: 0,
  };
}

/**
 * What happened.
 *
 * @example
 * ```ts
 * const worth: ReadonlySet<ServiceEventType> = new Set(["refused", "limited", "error"]);
 * const host = await serve({
 *   services: [{ name: "echo", port: 0 }],
 *   onEvent: (e) => worth.has(e.type) && console.error(formatEvent(e)),
 * });
 * ```
 */
export type ServiceEventType = "accepted" | "closed" | "refused" | "dropped" | "limited" | "error";

/**
 * One event, for logs (`sockit serve -v`).
 *
 * @example
 * ```ts
 * const events: ServiceEvent[] = [];
 * const host = await serve({ services: [{ name: "time", port: 0 }], onEvent: (e) => events.push(e) });
 * // { type: "accepted", service: "time", proto: "tcp", peer: "127.0.0.1:51514", detail: "" }, …
 * ```
 */
export interface ServiceEvent {
  readonly type: ServiceEventType;
  readonly service: ServiceName;
  readonly proto: "tcp" | "udp";
  /** The client: `"127.0.0.1:51514"`. */
  readonly peer: string;
  /** Why (a limit's name, a stop reason, an error message). */
  readonly detail: string;
}

/**
 * One line for an event: `refused echo/tcp from 127.0.0.1:51514: per-source limit (16)`.
 *
 * @example `formatEvent({ type: "limited", service: "echo", proto: "udp", peer: "127.0.0.1:5000", detail: "source rate" })`
 */
export function formatEvent(e: ServiceEvent): string {
  return `${e.type} ${e.service}/${e.proto} ${e.type === "accepted" ? "from" : "peer"} ${e.peer}${
    e.detail ? `: ${e.detail}` : ""
  }`;
}

/**
 * The counters as one line, only the non-zero ones (`accepted 12, refused(total) 1, …`), or
 * "no events" when all are zero.
 *
 * @example `formatCounters({ ...newCounters(), tcpAccepted: 3 }) // "tcp accepted 3"`
 */
export function formatCounters(c: ServiceCounters): string {
  const parts: string[] = [];
  const add = (label: string, n: number) => {
    if (n !== 0) parts.push(`${label} ${n}`);
  };
  add("tcp accepted", c.tcpAccepted);
  add("active", c.tcpActive);
  add("refused(total limit)", c.tcpRefusedTotal);
  add("refused(per-source limit)", c.tcpRefusedPerSource);
  add("reset(accept queue full)", c.tcpBacklogResets);
  add("idle-closed", c.tcpIdleClosed);
  add("reset(linger)", c.tcpLingerResets);
  add("shed(descriptor limit)", c.tcpShedDescriptors);
  add("descriptors exhausted", c.tcpDescriptorsExhausted);
  add("budget-ended", c.tcpBudgetEnded);
  add("reset by client", c.tcpResets);
  add("errors", c.tcpErrors);
  add("bytes in", c.bytesIn);
  add("bytes out", c.bytesOut);
  add("udp received", c.udpReceived);
  add("replied", c.udpReplied);
  add("dropped(source port < 1024)", c.udpDroppedPort);
  add("dropped(loop)", c.udpDroppedLoop);
  add("dropped(reply too large)", c.udpDroppedOversize);
  add("dropped(queue full)", c.udpQueueDrops);
  add("limited(per source)", c.udpLimitedSource);
  add("limited(total)", c.udpLimitedTotal);
  add("udp errors", c.udpErrors);
  return parts.length > 0 ? parts.join(", ") : "no events";
}
