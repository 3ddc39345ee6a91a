/**
 * Go-style deadlines: absolute times that apply to pending and future calls; moving one before it
 * passes lets a pending call go on.
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";

/**
 * A point in time for deadlines: a Date, epoch milliseconds, or null/undefined for none.
 *
 * @example
 * ```ts
 * const deadline: Deadline = Date.now() + 5000;
 * conn.setReadDeadline(deadline); // reads after it reject with TimeoutError
 * conn.setReadDeadline(null); // no deadline again
 * ```
 */
export type Deadline = Date | number | null | undefined;

/**
 * One deadline: a timer that fires `fire` when the time passes, and an `expired` flag that
 * later calls check.
 *
 * @example
 * ```ts
 * const rd = new DeadlineTimer();
 * rd.set(Date.now() + 1000, () => sock.interrupt("read", timeoutError));
 * ```
 */
export class DeadlineTimer {
  #timer: NodeJS.Timeout | undefined;
  /** True once the deadline has passed (until it is moved). */
  expired = false;

  /** Sets (or clears, with null) the deadline. */
  set(t: Deadline, fire: () => void): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.expired = false;
    if (t === null || t === undefined) return;
    const at = t instanceof Date ? t.getTime() : t;
    if (typeof at !== "number" || Number.isNaN(at))
      throw argTypeError("deadline", "a Date, epoch ms or null", t);
    this.#arm(at, fire);
  }

  /** Fires at `at`; a deadline beyond a Node timer's reach (2**31 - 1 ms) re-arms in steps. */
  #arm(at: number, fire: () => void): void {
    const ms = at - Date.now();
    if (ms <= 0) {
      this.#timer = undefined;
      this.expired = true;
      fire();
      return;
    }
    this.#timer = setTimeout(() => this.#arm(at, fire), Math.min(ms, 2 ** 31 - 1));
    this.#timer.unref();
  }

  /** Stops the timer (on close). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
