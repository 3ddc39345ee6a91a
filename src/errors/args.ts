/**
 * Argument checking: misuse is a programming error, so it throws synchronously with a
 * TypeError or RangeError that names the argument and shows the value.
 *
 * @module
 */

/**
 * Shows a value in an error message, briefly; never throws (an object whose `toString` or
 * `Symbol.toStringTag` throws shows as "<unprintable object>").
 * @example `show("x".repeat(100)) // "\"xxx…\""`
 */
export function show(value: unknown): string {
  try {
    return showUnsafe(value);
  } catch {
    return "<unprintable object>";
  }
}

function showUnsafe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  if (Array.isArray(value))
    return `[${value.slice(0, 8).map(show).join(", ")}${value.length > 8 ? ", …" : ""}]`;
  if (value === null || typeof value !== "object") return String(value);
  return Object.prototype.toString.call(value);
}

/**
 * A TypeError naming the argument, what was expected and what came.
 * @example `throw argTypeError("bufsize", "an integer", "10")`
 */
export function argTypeError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`${name} must be ${expected}, got ${show(value)}`);
}

/**
 * A RangeError naming the argument, the allowed range and the value.
 * @example `throw argRangeError("port", "0..65535", 70000)`
 */
export function argRangeError(name: string, range: string, value: unknown): RangeError {
  return new RangeError(`${name} must be ${range}, got ${show(value)}`);
}

/**
 * Checks that `value` is an integer within [min, max]; returns it.
 * @example `const n = checkInt("bufsize", bufsize, 0, 2 ** 31 - 1)`
 */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) throw argTypeError(name, "an integer", value);
  if (value < min || value > max) throw argRangeError(name, `${min}..${max}`, value);
  return value;
}
