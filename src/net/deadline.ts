/**
 * Go-style deadlines: absolute times that apply to pending and future calls; moving one before it
 * passes lets a pending call go on.
 *
 * @module
 */

/** A point in time for deadlines: a Date, epoch milliseconds, or null/undefined for none. */
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
      throw new TypeError(`deadline must be a Date, epoch ms or null, got ${String(t)}`);
    const ms = at - Date.now();
    if (ms <= 0) {
      this.expired = true;
      fire();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.expired = true;
      fire();
    }, ms);
    this.#timer.unref();
  }

  /** Stops the timer (on close). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
