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

/**
 * A FIFO of callers waiting for one condition (readable, writable, acceptable). The owner calls
 * {@link WaitList.wake} when the state changes; each waiter then re-checks its condition.
 *
 * @example
 * ```ts
 * const readers = new WaitList();
 * sock.on("data", () => readers.wake());
 * while (!ready()) await readers.wait({ timeout: 1000 }, "recv", "127.0.0.1:80");
 * ```
 */
export class WaitList {
  #list: Waiter[] = [];

  /** Number of callers waiting. */
  get size(): number {
    return this.#list.length;
  }

  /**
   * Waits until {@link wake}, the timeout, or the signal; throws BlockingIOError at once for
   * non-blocking waits.
   */
  wait(w: Wait | undefined, op: string, address?: string): Promise<void> {
    if (w?.nonblocking) {
      return Promise.reject(
        new BlockingIOError("EAGAIN", { op, ...(address === undefined ? {} : { address }) }),
      );
    }
    if (w?.signal?.aborted) return Promise.reject(interrupted(w.signal, op, address));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, signal: undefined, onAbort: undefined, op };
      const timeout = w?.timeout;
      if (timeout !== undefined) {
        waiter.timer = setTimeout(() => {
          this.#remove(waiter);
          reject(
            new TimeoutError("ETIMEDOUT", {
              op,
              ...(address === undefined ? {} : { address }),
              hint: `timed out after ${seconds(timeout)}; the socket is still usable`,
            }),
          );
        }, timeout);
      }
      const signal = w?.signal;
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          this.#remove(waiter);
          reject(interrupted(signal, op, address));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#list.push(waiter);
    });
  }

  /** Wakes every waiter (each re-checks its own condition). */
  wake(): void {
    if (this.#list.length === 0) return;
    const list = this.#list;
    this.#list = [];
    for (const w of list) {
      cleanup(w);
      w.resolve();
    }
  }

  /** Wakes only the first waiter (e.g. one pending connection for one accept). */
  wakeOne(): void {
    const w = this.#list.shift();
    if (w) {
      cleanup(w);
      w.resolve();
    }
  }

  /** Rejects every waiter with an error made for its operation. */
  fail(makeError: (op: string) => OSError): void {
    const list = this.#list;
    this.#list = [];
    for (const w of list) {
      cleanup(w);
      w.reject(makeError(w.op));
    }
  }

  #remove(w: Waiter): void {
    const i = this.#list.indexOf(w);
    if (i >= 0) this.#list.splice(i, 1);
    cleanup(w);
  }
}

function cleanup(w: Waiter): void {
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
  w.timer = undefined;
  w.onAbort = undefined;
}

function interrupted(signal: AbortSignal, op: string, address: string | undefined): InterruptedError {
  return new InterruptedError("EINTR", {
    op,
    ...(address === undefined ? {} : { address }),
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
