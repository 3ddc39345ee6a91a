/**
 * IP address text ⇄ bytes, as glibc does it (and so as Python's `socket` module does):
 * `inet_aton`, `inet_ntoa`, `inet_pton`, `inet_ntop`, the byte-order swaps, and strict
 * `isIPv4`/`isIPv6` checks. Pure: no socket modules, no I/O.
 *
 * @module
 */
import { argRangeError, argTypeError, checkInt, OSError, show } from "../errors/index.js";
import { AF_INET, AF_INET6 } from "./constants.js";

const MAX_U32 = 0xffffffff;

function illegal(op: string, s: string): OSError {
  return new OSError("EINVAL", {
    op,
    address: show(s),
    hint: `illegal IP address string passed to ${op}`,
  });
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Value of a hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** C `isspace()` in the C locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * glibc's `inet_aton` parser: returns the address as an unsigned 32-bit number, or undefined.
 * With `exact`, nothing may follow the address (glibc's `__inet_aton_exact`, which getaddrinfo
 * uses); otherwise a whitespace character ends it and the rest is ignored, as C `inet_aton` does.
 * @example `parseInetAton("127.1", true) // 0x7f000001`
 */
export function parseInetAton(s: string, exact = false): number | undefined {
  if (s.includes("\0")) return undefined;
  const parts: number[] = [];
  const n = s.length;
  let i = 0;
  let val = 0;
  for (;;) {
    if (!isDigit(s.charCodeAt(i))) return undefined;
    // strtoul(s, &end, 0): 0x = hex, leading 0 = octal, else decimal.
    let base = 10;
    if (s.charCodeAt(i) === 0x30) {
      const x = s.charCodeAt(i + 1);
      if ((x === 0x78 || x === 0x58) && hexValue(s.charCodeAt(i + 2)) >= 0) {
        base = 16;
        i += 2;
      } else {
        base = 8;
      }
    }
    val = 0;
    for (; i < n; i++) {
      const d = hexValue(s.charCodeAt(i));
      if (d < 0 || d >= base) break;
      val = val * base + d;
      if (val > MAX_U32) return undefined;
    }
    if (s.charCodeAt(i) !== 0x2e) break;
    if (parts.length > 2 || val > 0xff) return undefined;
    parts.push(val);
    i++;
  }
  if (i < n && (exact || !isSpace(s.charCodeAt(i)))) return undefined;
  const max = [MAX_U32, 0xffffff, 0xffff, 0xff][parts.length] ?? 0;
  if (val > max) return undefined;
  let word = 0;
  parts.forEach((p, k) => {
    word += p * 2 ** (24 - 8 * k);
  });
  return word + val;
}

/** glibc `inet_pton4` over s[start, end): strict dotted quad, no leading zeros. */
function pton4(s: string, start: number, end: number): number[] | undefined {
  const out = [0];
  let sawDigit = false;
  let octets = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      const cur = out[out.length - 1] ?? 0;
      if (sawDigit && cur === 0) return undefined;
      const next = cur * 10 + (c - 0x30);
      if (next > 255) return undefined;
      out[out.length - 1] = next;
      if (!sawDigit) {
        if (++octets > 4) return undefined;
        sawDigit = true;
      }
    } else if (c === 0x2e && sawDigit) {
      if (octets === 4) return undefined;
      out.push(0);
      sawDigit = false;
    } else {
      return undefined;
    }
  }
  return octets < 4 ? undefined : out;
}

/** glibc `inet_pton6`: every RFC 4291 text form, no zone id. */
function pton6(s: string): Buffer | undefined {
  const tmp = Buffer.alloc(16);
  const end = s.length;
  let tp = 0;
  let colonp = -1;
  let src = 0;
  if (end === 0) return undefined;
  if (s.charCodeAt(0) === 0x3a) {
    src++;
    if (src === end || s.charCodeAt(src) !== 0x3a) return undefined;
  }
  let curtok = src;
  let xdigits = 0;
  let val = 0;
  while (src < end) {
    const ch = s.charCodeAt(src++);
    const digit = hexValue(ch);
    if (digit >= 0) {
      if (xdigits === 4) return undefined;
      val = (val << 4) | digit;
      xdigits++;
      continue;
    }
    if (ch === 0x3a) {
      curtok = src;
      if (xdigits === 0) {
        if (colonp >= 0) return undefined;
        colonp = tp;
        continue;
      }
      if (src === end || tp + 2 > 16) return undefined;
      tmp.writeUInt16BE(val, tp);
      tp += 2;
      xdigits = 0;
      val = 0;
      continue;
    }
    if (ch === 0x2e && tp + 4 <= 16) {
      const v4 = pton4(s, curtok, end);
      if (v4 === undefined) return undefined;
      tmp.set(v4, tp);
      tp += 4;
      xdigits = 0;
      break;
    }
    return undefined;
  }
  if (xdigits > 0) {
    if (tp + 2 > 16) return undefined;
    tmp.writeUInt16BE(val, tp);
    tp += 2;
  }
  if (colonp >= 0) {
    if (tp === 16) return undefined;
    const n = tp - colonp;
    tmp.copyWithin(16 - n, colonp, tp);
    tmp.fill(0, colonp, 16 - n);
    tp = 16;
  }
  return tp === 16 ? tmp : undefined;
}

function checkString(name: string, s: unknown): string {
  if (typeof s !== "string") throw argTypeError(name, "a string", s);
  return s;
}

function checkBytes(name: string, b: unknown): Uint8Array {
  if (!(b instanceof Uint8Array)) throw argTypeError(name, "a Buffer", b);
  return b;
}

/**
 * Converts an IPv4 address in any of the C forms ("1.2.3.4", "1.2.3", "1.2", "1", hex `0x`
 * and octal `0` parts) to its 4 packed bytes (network order).
 * @throws OSError (EINVAL) "illegal IP address string passed to inet_aton"; TypeError if not a string
 * @example `inet_aton("127.1") // <Buffer 7f 00 00 01>`
 */
export function inet_aton(s: string): Buffer {
  const word = parseInetAton(checkString("s", s));
  if (word === undefined) throw illegal("inet_aton", s);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(word);
  return out;
}

/**
 * Converts 4 packed bytes to dotted-quad text.
 * @throws OSError (EINVAL) "packed IP wrong length for inet_ntoa" unless exactly 4 bytes
 * @example `inet_ntoa(Buffer.from([127, 0, 0, 1])) // "127.0.0.1"`
 */
export function inet_ntoa(b: Buffer): string {
  const bytes = checkBytes("b", b);
  if (bytes.length !== 4) {
    throw new OSError("EINVAL", { op: "inet_ntoa", hint: "packed IP wrong length for inet_ntoa" });
  }
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Converts IP text to packed bytes: AF_INET takes a strict dotted quad (no leading zeros),
 * AF_INET6 every RFC 4291 form including "::ffff:1.2.3.4" (no "%zone").
 * @throws OSError EINVAL for bad text, OSError EAFNOSUPPORT for another family, TypeError for bad types
 * @example `inet_pton(AF_INET6, "::1") // <Buffer 00 … 00 01> (16 bytes)`
 */
export function inet_pton(family: number, s: string): Buffer {
  if (typeof family !== "number" || !Number.isInteger(family)) {
    throw argTypeError("family", "an integer", family);
  }
  checkString("s", s);
  if (family !== AF_INET && family !== AF_INET6) {
    throw new OSError("EAFNOSUPPORT", { op: "inet_pton", hint: "use AF_INET (2) or AF_INET6 (10)" });
  }
  if (!s.includes("\0")) {
    if (family === AF_INET) {
      const v4 = pton4(s, 0, s.length);
      if (v4 !== undefined) return Buffer.from(v4);
    } else {
      const v6 = pton6(s);
      if (v6 !== undefined) return v6;
    }
  }
  throw illegal("inet_pton", s);
}

function ntop4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** glibc `inet_ntop6`: longest run (>= 2, first on ties) of zero groups becomes "::". */
function ntop6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return out + ntop4(b, 12);
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

/**
 * Converts packed bytes (4 for AF_INET, 16 for AF_INET6) to text exactly as glibc prints it:
 * lowercase hex, the longest run of two or more zero groups compressed (the first on ties),
 * "::ffff:a.b.c.d" for IPv4-mapped and "::a.b.c.d" for IPv4-compatible addresses.
 * @throws RangeError for a wrong length or an unknown family (Python: ValueError); TypeError for bad types
 * @example `inet_ntop(AF_INET6, inet_pton(AF_INET6, "0:0:0:0:0:ffff:7f00:1")) // "::ffff:127.0.0.1"`
 */
export function inet_ntop(family: number, b: Buffer): string {
  if (typeof family !== "number" || !Number.isInteger(family)) {
    throw argTypeError("family", "an integer", family);
  }
  const bytes = checkBytes("b", b);
  if (family === AF_INET) {
    if (bytes.length !== 4) throw argRangeError("b", "4 bytes long for AF_INET", b);
    return ntop4(bytes, 0);
  }
  if (family === AF_INET6) {
    if (bytes.length !== 16) throw argRangeError("b", "16 bytes long for AF_INET6", b);
    return ntop6(bytes);
  }
  throw argRangeError("family", "AF_INET (2) or AF_INET6 (10)", family);
}

/**
 * Swaps a 16-bit number between host and network byte order (a no-op on big-endian hosts;
 * this assumes little-endian, as every Node platform is).
 * @throws RangeError outside 0..65535 (Python: OverflowError); TypeError for non-integers
 * @example `htons(0x1234) // 0x3412`
 */
export function htons(x: number): number {
  const v = checkInt("x", x, 0, 0xffff);
  return ((v & 0xff) << 8) | (v >>> 8);
}

/**
 * Network to host byte order for 16-bit numbers: the same swap as {@link htons}.
 * @example `ntohs(0x3412) // 0x1234`
 */
export function ntohs(x: number): number {
  return htons(x);
}

/**
 * Swaps a 32-bit number between host and network byte order; the result is unsigned.
 * @throws RangeError outside 0..2**32-1 (Python: OverflowError); TypeError for non-integers
 * @example `htonl(1) // 0x01000000`
 */
export function htonl(x: number): number {
  const v = checkInt("x", x, 0, MAX_U32);
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * Network to host byte order for 32-bit numbers: the same swap as {@link htonl}.
 * @example `ntohl(0x01000000) // 1`
 */
export function ntohl(x: number): number {
  return htonl(x);
}

/**
 * True for a strict dotted quad ("127.0.0.1"; not "127.1" nor "01.2.3.4"), as Node's `net.isIPv4`.
 * @example `isIPv4("10.0.0.1") // true`
 */
export function isIPv4(s: unknown): boolean {
  return typeof s === "string" && pton4(s, 0, s.length) !== undefined;
}

const ZONE = /^[0-9a-zA-Z.:-]+$/;

/**
 * True for IPv6 text in any RFC 4291 form, with an optional "%zone" suffix, as Node's `net.isIPv6`.
 * @example `isIPv6("fe80::1%eth0") // true`
 */
export function isIPv6(s: unknown): boolean {
  if (typeof s !== "string") return false;
  const pct = s.indexOf("%");
  if (pct >= 0 && !ZONE.test(s.slice(pct + 1))) return false;
  return pton6(pct >= 0 ? s.slice(0, pct) : s) !== undefined;
}

/**
 * 4 for an IPv4 address, 6 for an IPv6 address, 0 otherwise (as Node's `net.isIP`).
 * @example `ipFamily("::1") // 6`
 */
export function ipFamily(s: unknown): 0 | 4 | 6 {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
}

/**
 * A strict dotted quad as an unsigned 32-bit number (host order).
 * @throws OSError EINVAL for anything but a strict dotted quad
 * @example `ipv4ToInt("127.0.0.1") // 0x7f000001`
 */
export function ipv4ToInt(s: string): number {
  return inet_pton(AF_INET, s).readUInt32BE(0);
}

/**
 * An unsigned 32-bit number (host order) as a dotted quad.
 * @throws RangeError outside 0..2**32-1; TypeError for non-integers
 * @example `intToIPv4(0x7f000001) // "127.0.0.1"`
 */
export function intToIPv4(n: number): string {
  const v = checkInt("n", n, 0, MAX_U32);
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/**
 * Parses IPv6 text without a zone into 16 bytes, or undefined (no exception).
 * @example `parseIPv6("::1")?.at(15) // 1`
 */
export function parseIPv6(s: string): Buffer | undefined {
  return typeof s === "string" && !s.includes("\0") ? pton6(s) : undefined;
}
