/**
 * The module-wide default timeout that new sockets start with (Python's
 * `socket.setdefaulttimeout`).
 *
 * @module
 */
import { argRangeError, argTypeError } from "../errors/index.js";

let defaultTimeout: number | null = null;

/**
 * Sets the timeout (seconds, or null for blocking) that sockets created from now on start with.
 * @example `setdefaulttimeout(5); const s = socket(); s.gettimeout() // 5`
 */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = checkTimeout(timeout);
}

/**
 * Checks a timeout as Python does: seconds ≥ 0, or null for blocking.
 * @throws TypeError (not a number, NaN), RangeError (negative)
 * @example `checkTimeout(2.5) // 2.5`
 */
export function checkTimeout(timeout: unknown): number | null {
  if (timeout !== null && (typeof timeout !== "number" || Number.isNaN(timeout))) {
    throw argTypeError("timeout", "a number of seconds or null", timeout);
  }
  if (timeout !== null && timeout < 0) throw argRangeError("timeout", "non-negative (or null)", timeout);
  return timeout;
}

/**
 * The timeout new sockets start with (seconds), or null (blocking, the default).
 * @example `getdefaulttimeout() // null`
 */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}
