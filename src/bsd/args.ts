/**
 * Argument checks the Berkeley `Socket`'s data calls share: the flags and the data.
 *
 * @module
 */
import { argTypeError, checkInt, makeOSError } from "../errors/index.js";
import { MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL } from "./constants.js";

const KNOWN_FLAGS = MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT | 0x4000; /* MSG_NOSIGNAL */

/**
 * Checks send/recv flags: an integer, only MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT and MSG_NOSIGNAL
 * (anything else is OSError EOPNOTSUPP).
 * @example `checkFlags(MSG_PEEK) // ok; checkFlags(0x1) // throws EOPNOTSUPP (MSG_OOB)`
 */
export function checkFlags(flags: number): void {
  checkInt("flags", flags, 0, 2 ** 31 - 1);
  if (flags & ~KNOWN_FLAGS) {
    throw makeOSError("EOPNOTSUPP", {
      op: "recv",
      hint: `flags 0x${(flags & ~KNOWN_FLAGS).toString(16)} are not supported`,
    });
  }
}

/**
 * The bytes to send: a Buffer or Uint8Array as it is, a string as UTF-8; TypeError otherwise.
 * @example `toBytes("hi") // <Buffer 68 69>`
 */
export function toBytes(data: Uint8Array | string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return Buffer.from(data);
  throw argTypeError("data", "a Buffer, Uint8Array or string", data);
}
