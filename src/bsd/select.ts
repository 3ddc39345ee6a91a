/**
 * `select()` and a `poll()` object over sockit sockets: readiness multiplexing, the way a
 * single-threaded server handles many clients without a task per client.
 *
 * Ready to read: data buffered, EOF, a pending connection on a listener, or a pending error.
 * Ready to write: connected and below the send high-water mark (datagram sockets: always).
 * Exceptional: out-of-band data only, as on Linux; sockit has none (Node cannot receive it), so
 * select()'s third list always comes back empty (a pending error makes a socket readable and
 * writable instead, and is poll()'s POLLERR). poll()'s POLLHUP follows Linux's tcp_poll: both
 * directions shut (the peer's FIN and our SHUT_WR, in either order, unread data or not) or the
 * connection reset — not a half-close, which is POLLIN (and POLLRDHUP) only.
 *
 * @module
 */
import { argRangeError, argTypeError, checkInt } from "../errors/index.js";
import type { Readiness, Socket } from "./socket.js";
import { checkTimeout, MAX_TIMEOUT } from "./timeout.js";

/**
 * poll() event: readable (data, EOF, a pending connection on a listener, or a pending error).
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(srv, POLLIN);
 * const ready = await p.poll(1000); // [[srv.fileno(), POLLIN]] once a client connects
 * ```
 */
export const POLLIN = 0x001;
/**
 * Urgent data (never reported: Node has no out-of-band data).
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(sock); // POLLIN | POLLPRI | POLLOUT by default; POLLPRI never comes
 * ```
 */
export const POLLPRI = 0x002;
/**
 * Writable without waiting.
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(sock, POLLOUT);
 * for (const [, ev] of await p.poll(1000)) if (ev & POLLOUT) await sock.send("more");
 * ```
 */
export const POLLOUT = 0x004;
/**
 * An error is pending (always reported, whatever was registered).
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(sock, POLLIN);
 * for (const [, ev] of await p.poll(1000)) {
 *   if (ev & POLLERR) console.error(errorcode[sock.getsockopt(SOL_SOCKET, SO_ERROR) as number]);
 * }
 * ```
 */
export const POLLERR = 0x008;
/**
 * Hang-up: both directions are shut (the peer's FIN received and our write side shut) or the
 * connection was reset. Not set by a half-close alone (Linux). Always reported.
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(sock, POLLIN);
 * for (const [, ev] of await p.poll(1000)) if (ev & POLLHUP) await sock.close();
 * ```
 */
export const POLLHUP = 0x010;
/**
 * The socket is closed (invalid). Always reported.
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(sock, POLLIN);
 * await sock.close();
 * for (const [fd, ev] of await p.poll(0)) if (ev === POLLNVAL) p.unregister(fd);
 * ```
 */
export const POLLNVAL = 0x020;
/**
 * The read direction is shut: the peer sent FIN (or we called shutdown(SHUT_RD)). Linux-only;
 * reported when asked for, as Python's `select.POLLRDHUP`.
 * @example `p.register(sock, POLLIN | POLLRDHUP)`
 */
export const POLLRDHUP = 0x2000;

function checkList(name: string, list: unknown): Socket[] {
  if (!Array.isArray(list)) throw argTypeError(name, "an array of sockets", list);
  for (const s of list) {
    if (typeof (s as Socket)?.readiness !== "function")
      throw argTypeError(name, "an array of sockit sockets", s);
  }
  return list as Socket[];
}

/** Waits until `check()` returns true, a watched socket changes, or `ms` passes. */
function waitChange(sockets: readonly Socket[], ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const offs: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer !== undefined) clearTimeout(timer);
      for (const off of offs) off();
      resolve();
    };
    for (const s of sockets) offs.push(s.watch(done));
    if (ms !== undefined) timer = setTimeout(done, ms);
  });
}

/**
 * Python's `select.select(rlist, wlist, xlist, timeout)`: resolves `[readable, writable,
 * exceptional]` as soon as at least one socket is ready, or three empty lists after `timeout`
 * seconds (`null`/omitted: wait forever; 0: just poll). A closed socket rejects EBADF. The
 * exceptional list is for out-of-band data, which sockit never has: it is always empty (Linux
 * does not put a socket with a pending error there either).
 *
 * @example
 * ```ts
 * const clients: Socket[] = [];
 * const [r] = await select([srv, ...clients], [], [], 1.0);
 * for (const s of r) if (s === srv) clients.push((await srv.accept())[0]);
 * ```
 */
export async function select(
  rlist: readonly Socket[],
  wlist: readonly Socket[],
  xlist: readonly Socket[],
  timeout?: number | null,
): Promise<[Socket[], Socket[], Socket[]]> {
  const r = checkList("rlist", rlist);
  const w = checkList("wlist", wlist);
  const x = checkList("xlist", xlist);
  if (timeout !== undefined) checkTimeout("timeout", timeout);
  const deadline = timeout === undefined || timeout === null ? undefined : Date.now() + timeout * 1000;
  const all = [...new Set([...r, ...w, ...x])];
  for (;;) {
    const ready: [Socket[], Socket[], Socket[]] = [
      r.filter((s) => s.readiness().readable),
      w.filter((s) => s.readiness().writable),
      x.filter((s) => (s.readiness(), false)), // checked (EBADF), never ready: no OOB data
    ];
    if (ready[0].length + ready[1].length + ready[2].length > 0) return ready;
    const left = deadline === undefined ? undefined : deadline - Date.now();
    if (left !== undefined && left <= 0) return [[], [], []];
    await waitChange(all, left);
  }
}

/** The readiness of one socket as poll() events. */
function eventsOf(s: Socket, wanted: number): number {
  let r: Readiness;
  try {
    r = s.readiness();
  } catch {
    return POLLNVAL;
  }
  let ev = 0;
  if (r.readable) ev |= POLLIN;
  if (r.writable) ev |= POLLOUT;
  if (r.error) ev |= POLLERR;
  if (r.hangup) ev |= POLLHUP;
  if (r.rdhup) ev |= POLLRDHUP;
  return ev & (wanted | POLLERR | POLLHUP | POLLNVAL);
}

/**
 * Python's `select.poll()` object: `register(sock, events)`, `modify`, `unregister`, and
 * `await poll(timeoutMs)` → `[[fileno, events], …]`.
 *
 * @example
 * ```ts
 * const p = poll();
 * p.register(srv, POLLIN);
 * for (const [fd, ev] of await p.poll(1000)) console.log(fd, ev & POLLIN ? "readable" : "other");
 * ```
 */
export class Poll {
  // keyed by the socket itself, so a socket closed after registration (fileno -1) can still
  // be found; `fd` is the number it had when registered, which poll() reports
  #regs = new Map<Socket, { fd: number; events: number }>();

  /** Watches `sock` for `events` (default POLLIN | POLLPRI | POLLOUT). */
  register(sock: Socket, events = POLLIN | POLLPRI | POLLOUT): void {
    checkList("sock", [sock]);
    checkInt("events", events, 0, 0xffff);
    const fd = this.#regs.get(sock)?.fd ?? sock.fileno();
    this.#regs.set(sock, { fd, events });
  }

  #find(sock: Socket | number): Socket {
    if (typeof sock !== "number") {
      if (this.#regs.has(sock)) return sock;
      checkList("sock", [sock]);
    } else {
      for (const [s, r] of this.#regs) if (r.fd === sock) return s;
    }
    const fd = typeof sock === "number" ? sock : sock.fileno();
    throw new RangeError(`socket ${fd} is not registered`);
  }

  /** Changes the events of a registered socket (by socket or descriptor number). */
  modify(sock: Socket | number, events: number): void {
    checkInt("events", events, 0, 0xffff);
    this.#regs.get(this.#find(sock))!.events = events;
  }

  /** Stops watching a socket (by socket or descriptor number), also after it was closed. */
  unregister(sock: Socket | number): void {
    this.#regs.delete(this.#find(sock));
  }

  /**
   * Waits up to `timeoutMs` (undefined/null/negative: forever) for events. TypeError for NaN,
   * RangeError beyond 2**31 - 1 ms.
   */
  async poll(timeoutMs?: number | null): Promise<Array<[number, number]>> {
    if (timeoutMs !== undefined && timeoutMs !== null) {
      if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs))
        throw argTypeError("timeoutMs", "milliseconds or null", timeoutMs);
      if (timeoutMs > MAX_TIMEOUT * 1000)
        throw argRangeError(
          "timeoutMs",
          `at most ${MAX_TIMEOUT * 1000} ms (negative or null: forever)`,
          timeoutMs,
        );
    }
    const deadline =
      timeoutMs === undefined || timeoutMs === null || timeoutMs < 0 ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const out: Array<[number, number]> = [];
      for (const [sock, { fd, events }] of this.#regs) {
        const ev = eventsOf(sock, events);
        if (ev !== 0) out.push([fd, ev]);
      }
      if (out.length > 0) return out;
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) return [];
      await waitChange(
        [...this.#regs.keys()].filter((s) => s.fileno() !== -1),
        left,
      );
    }
  }
}

/**
 * Creates a {@link Poll} object, as Python's `select.poll()`.
 * @example `const p = poll(); p.register(sock, POLLIN);`
 */
export function poll(): Poll {
  return new Poll();
}
