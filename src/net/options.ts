/**
 * Argument checks of the Go-style face: data to send, and option objects (what is not an object is
 * a TypeError, and every field is checked before anything is opened: a wrong type never reaches
 * Node).
 *
 * @module
 */
import type { IpEndpoint } from "../core/endpoint.js";
import { argRangeError, argTypeError, checkInt } from "../errors/index.js";

/**
 * Bytes to send: a Uint8Array (Buffer) as is, a string as UTF-8; TypeError for anything else.
 * @example `const buf = toBytes("hello")`
 */
export function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return Buffer.from(data);
  throw argTypeError("data", "a Buffer, Uint8Array or string", data);
}

/**
 * An endpoint structure (as a Packet's `endpoint`): `{ address, port, family }`.
 * @example `checkEndpoint({ address: "127.0.0.1", port: 53, family: 4 })`
 */
export function checkEndpoint(e: unknown): IpEndpoint {
  const x = e as Partial<IpEndpoint> | null;
  if (
    x === null ||
    typeof x !== "object" ||
    typeof x.address !== "string" ||
    (x.family !== 4 && x.family !== 6)
  )
    throw argTypeError(
      "address",
      'a "host:port" string or a packet\'s endpoint { address, port, family }',
      e,
    );
  checkInt("port", x.port, 0, 65535);
  return x as IpEndpoint;
}

/**
 * `opts` as an object (undefined: `{}`); TypeError for anything else.
 * @example `const o = checkOptions("opts", opts)`
 */
export function checkOptions<T extends object>(name: string, opts: T | undefined): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object") throw argTypeError(name, "an options object", opts);
  return opts;
}

/**
 * An optional AbortSignal field.
 * @example `const signal = optSignal(o.signal)`
 */
export function optSignal(v: unknown): AbortSignal | undefined {
  if (v === undefined || v instanceof AbortSignal) return v;
  throw argTypeError("signal", "an AbortSignal", v);
}

/**
 * An optional boolean field.
 * @example `const keepAlive = optBool("keepAlive", o.keepAlive) ?? false`
 */
export function optBool(name: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === "boolean") return v;
  throw argTypeError(name, "a boolean", v);
}

/**
 * An optional integer field within [min, max].
 * @example `const port = optInt("localPort", o.localPort, 0, 65535)`
 */
export function optInt(name: string, v: unknown, min: number, max: number): number | undefined {
  return v === undefined ? undefined : checkInt(name, v, min, max);
}

/**
 * An optional number field within [min, max] (fractions allowed, NaN not).
 * @example `const timeout = optNumber("timeout", o.timeout, 0, 2 ** 31 - 1)`
 */
export function optNumber(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || Number.isNaN(v)) throw argTypeError(name, "a number", v);
  if (v < min || v > max) throw argRangeError(name, `${min}..${max}`, v);
  return v;
}

/**
 * An optional string field.
 * @example `const local = optString("localAddress", o.localAddress)`
 */
export function optString(name: string, v: unknown): string | undefined {
  if (v === undefined || typeof v === "string") return v;
  throw argTypeError(name, "a string", v);
}
