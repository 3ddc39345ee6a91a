/**
 * The module-wide default timeout that new sockets start with (Python's
 * `socket.setdefaulttimeout`).
 *
 * @module
 */
import { argRangeError, argTypeError } from "../errors/index.js";

let defaultTimeout: number | null = null;

/**
 * The longest timeout in seconds: Node's timers hold at most 2**31 - 1 ms (about 24.8 days).
 * @example `s.settimeout(MAX_TIMEOUT) // the longest wait; more is a RangeError`
 */
export const MAX_TIMEOUT = (2 ** 31 - 1) / 1000;

/**
 * Checks a timeout in seconds: a number 0..{@link MAX_TIMEOUT} or null (TypeError for other
 * types and NaN, RangeError for negative or longer values: Python's OverflowError).
 * @example `checkTimeout("timeout", 2.5) // 2.5`
 */
export function checkTimeout(name: string, value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || Number.isNaN(value))
    throw argTypeError(name, "a number of seconds or null", value);
  if (value < 0 || value > MAX_TIMEOUT)
    throw argRangeError(name, `0..${MAX_TIMEOUT} seconds (or null to block)`, value);
  return value;
}

/**
 * Sets the timeout (seconds, or null for blocking) that sockets created from now on start with.
 * @example `setdefaulttimeout(5); const s = socket(); s.gettimeout() // 5`
 */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = checkTimeout("timeout", timeout);
}

/**
 * The timeout new sockets start with (seconds), or null (blocking, the default).
 * @example `getdefaulttimeout() // null`
 */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}
