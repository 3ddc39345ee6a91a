/**
 * Waiting, bounded: one list of waiters per socket direction, woken by the socket's own event
 * listeners (no `events.once` per call), with an optional per-operation timeout and AbortSignal.
 *
 * @module
 */
import { BlockingIOError, InterruptedError, type OSError, TimeoutError } from "../errors/index.js";

/** How a waiting call may end early. Timeouts are milliseconds (the Berkeley face converts seconds). */
export interface Wait {
  /** Give up with {@link TimeoutError} after this many ms (undefined: wait forever). */
  readonly timeout?: number | undefined;
  /** Give up with {@link InterruptedError} when this signal aborts. */
  readonly signal?: AbortSignal | undefined;
  /** Fail with {@link BlockingIOError} instead of waiting at all (`setblocking(false)`). */
  readonly nonblocking?: boolean | undefined;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  op: string;
}

/** Shown in timeout messages: seconds, as `settimeout()` takes them. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** An address for error messages, or an object that formats it only when an error needs it. */
export type LazyAddress = string | { peerText(): string } | undefined;

function addr(a: LazyAddress): { address?: string } {
  if (a === undefined) return {};
  return { address: typeof a === "string" ? a : a.peerText() };
}

/**
 * A FIFO of callers waiting for one condition (readable, writable, acceptable). The owner calls
 * {@link WaitList.wake} when the state changes; each waiter then re-checks its condition. The
 * usual single waiter is kept in a slot; a list is made only for a second one.
 *
 * @example
 * ```ts
 * const readers = new WaitList();
 * sock.on("data", () => readers.wake());
 * while (!ready()) await readers.wait({ timeout: 1000 }, "recv", "127.0.0.1:80");
 * ```
 */
export class WaitList {
  #one: Waiter | undefined;
  #more: Waiter[] | undefined;

  /** Number of callers waiting. */
  get size(): number {
    return (this.#one ? 1 : 0) + (this.#more?.length ?? 0);
  }

  /**
   * Waits until {@link wake}, the timeout, or the signal; throws BlockingIOError at once for
   * non-blocking waits.
   */
  wait(w: Wait | undefined, op: string, address?: LazyAddress): Promise<void> {
    if (w !== undefined) {
      if (w.nonblocking) return Promise.reject(new BlockingIOError("EAGAIN", { op, ...addr(address) }));
      if (w.signal?.aborted) return Promise.reject(interrupted(w.signal, op, address));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, signal: undefined, onAbort: undefined, op };
      if (w !== undefined) this.#arm(waiter, w, op, address);
      if (this.#one === undefined && this.#more === undefined) this.#one = waiter;
      else {
        this.#more ??= [];
        this.#more.push(waiter);
      }
    });
  }

  #arm(waiter: Waiter, w: Wait, op: string, address: LazyAddress): void {
    const timeout = w.timeout;
    if (timeout !== undefined) {
      waiter.timer = setTimeout(() => {
        this.#remove(waiter);
        waiter.reject(
          new TimeoutError("ETIMEDOUT", {
            op,
            ...addr(address),
            hint: `timed out after ${seconds(timeout)}; the socket is still usable`,
          }),
        );
      }, timeout);
    }
    const signal = w.signal;
    if (signal) {
      waiter.signal = signal;
      waiter.onAbort = () => {
        this.#remove(waiter);
        waiter.reject(interrupted(signal, op, address));
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
    }
  }

  #take(): Waiter[] {
    const out: Waiter[] = [];
    if (this.#one) out.push(this.#one);
    if (this.#more) out.push(...this.#more);
    this.#one = undefined;
    this.#more = undefined;
    return out;
  }

  /** Wakes every waiter (each re-checks its own condition). */
  wake(): void {
    const one = this.#one;
    if (one !== undefined && this.#more === undefined) {
      this.#one = undefined;
      cleanup(one);
      one.resolve();
      return;
    }
    for (const w of this.#take()) {
      cleanup(w);
      w.resolve();
    }
  }

  /** Wakes only the first waiter (e.g. one pending connection for one accept). */
  wakeOne(): void {
    let w = this.#one;
    if (w !== undefined) this.#one = undefined;
    else {
      w = this.#more?.shift();
      if (this.#more?.length === 0) this.#more = undefined;
    }
    if (w) {
      cleanup(w);
      w.resolve();
    }
  }

  /** Rejects every waiter with an error made for its operation. */
  fail(makeError: (op: string) => OSError): void {
    for (const w of this.#take()) {
      cleanup(w);
      w.reject(makeError(w.op));
    }
  }

  #remove(w: Waiter): void {
    if (this.#one === w) this.#one = undefined;
    else if (this.#more) {
      const i = this.#more.indexOf(w);
      if (i >= 0) this.#more.splice(i, 1);
      if (this.#more.length === 0) this.#more = undefined;
    }
    cleanup(w);
  }
}

function cleanup(w: Waiter): void {
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
  w.timer = undefined;
  w.onAbort = undefined;
}

function interrupted(signal: AbortSignal, op: string, address: LazyAddress): InterruptedError {
  return new InterruptedError("EINTR", {
    op,
    ...addr(address),
    cause: signal.reason,
    hint: "the operation was aborted by its AbortSignal",
  });
}

/**
 * Readiness watchers for select(): callbacks run whenever a socket's state may have changed
 * (data, EOF, error, drain, a new connection, close). Allocated only when someone watches.
 *
 * @example
 * ```ts
 * const stop = sock.watch(() => recheck());
 * stop();
 * ```
 */
export class Watchers {
  #set: Set<() => void> | undefined;

  /** Adds a callback; returns the function that removes it. */
  add(cb: () => void): () => void {
    this.#set ??= new Set();
    this.#set.add(cb);
    return () => this.#set?.delete(cb);
  }

  /** Runs every callback (cheap when nobody watches). */
  notify(): void {
    if (this.#set === undefined || this.#set.size === 0) return;
    for (const cb of [...this.#set]) cb();
  }
}
