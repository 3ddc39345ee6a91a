/**
 * Address forms: Berkeley tuples (`[host, port]`, `[host, port, flowinfo, scope_id]`, Unix
 * paths), host and port normalisation ("" = any, "<broadcast>", integer hosts, service names),
 * and Go-style "host:port" strings. Pure except for the service table.
 *
 * @module
 */
import { argRangeError, argTypeError, checkInt, makeGaiError, OSError, show } from "../errors/index.js";
import { AF_INET, AF_INET6, MAX_ADDRESS_LENGTH } from "./constants.js";
import { intToIPv4 } from "./inet.js";
import { getservbyname } from "./services.js";

/**
 * An AF_INET address: host (name or dotted quad) and port.
 * @example `const a: InetAddress = ["127.0.0.1", 8000];`
 */
export type InetAddress = readonly [host: string, port: number];

/**
 * An AF_INET6 address: host, port, flow label and scope id (interface index).
 * @example `const a: Inet6Address = ["::1", 8000, 0, 0];`
 */
export type Inet6Address = readonly [host: string, port: number, flowinfo: number, scope_id: number];

/**
 * An AF_UNIX address: a filesystem path, or a Linux abstract name starting with "\0".
 * @example `const a: UnixAddress = "/tmp/echo.sock";`
 */
export type UnixAddress = string;

/**
 * Any socket address.
 * @example `function show(a: SockAddr) { return formatAddress(a); }`
 */
export type SockAddr = InetAddress | Inet6Address | UnixAddress;

function checkLength(name: string, s: string): void {
  if (s.length > MAX_ADDRESS_LENGTH) {
    throw argRangeError(name, `at most ${MAX_ADDRESS_LENGTH} characters long`, s);
  }
  if (s.includes("\0")) throw argRangeError(name, "a string without NUL characters", s);
}

/**
 * Normalises the host of an internet address: "" becomes the wildcard ("0.0.0.0" / "::"),
 * "<broadcast>" becomes "255.255.255.255" (AF_INET only), a 32-bit integer (host byte order)
 * becomes a dotted quad (AF_INET only); other strings pass through (names are resolved later).
 * @throws TypeError for other types; RangeError for integers out of range, NUL characters or
 *   over-long strings; OSError EAFNOSUPPORT for "<broadcast>" with AF_INET6
 * @example `normalizeHost("", AF_INET6) // "::"; normalizeHost(0x7f000001, AF_INET) // "127.0.0.1"`
 */
export function normalizeHost(host: unknown, family: 2 | 10): string {
  if (family !== AF_INET && family !== AF_INET6) {
    throw argRangeError("family", "AF_INET (2) or AF_INET6 (10)", family);
  }
  if (typeof host === "number") {
    if (family !== AF_INET) throw argTypeError("host", "a string for AF_INET6", host);
    return intToIPv4(checkInt("host", host, 0, 0xffffffff));
  }
  if (typeof host !== "string") throw argTypeError("host", "a string or a 32-bit integer", host);
  checkLength("host", host);
  if (host === "") return family === AF_INET ? "0.0.0.0" : "::";
  if (host === "<broadcast>") {
    if (family === AF_INET) return "255.255.255.255";
    throw new OSError("EAFNOSUPPORT", {
      address: host,
      hint: 'address family mismatched: "<broadcast>" is IPv4 only; use AF_INET',
    });
  }
  return host;
}

const DIGITS = /^[0-9]+$/;

/**
 * Normalises a port: an integer 0..65535, a numeric string ("8000") or a service name
 * ("http", looked up for `proto` in /etc/services or the built-in table).
 * @throws RangeError out of 0..65535; TypeError for other types; gaierror EAI_SERVICE for an unknown name
 * @example `normalizePort("http") // 80; normalizePort("8000") // 8000; normalizePort(0) // 0`
 */
export function normalizePort(port: unknown, proto: "tcp" | "udp" = "tcp"): number {
  if (typeof port === "number") return checkInt("port", port, 0, 0xffff);
  if (typeof port !== "string") {
    throw argTypeError("port", "an integer 0..65535, a numeric string or a service name", port);
  }
  if (DIGITS.test(port)) {
    const n = Number(port);
    if (n > 0xffff) throw argRangeError("port", "0..65535", port);
    return n;
  }
  try {
    return getservbyname(port, proto);
  } catch {
    throw makeGaiError("EAI_SERVICE", {
      address: `${show(port)}/${proto}`,
      hint: "unknown service name; use a port number or a name from /etc/services",
    });
  }
}

function parseError(s: string, why: string): OSError {
  return new OSError("EINVAL", {
    op: "parse",
    address: show(s),
    hint: `${why}; use host:port, [ipv6]:port or :port`,
  });
}

/**
 * Splits a Go-style address string into host and port (as Go's `net.SplitHostPort`):
 * "127.0.0.1:80", "[::1]:8080", ":http", "localhost:0", "[fe80::1%eth0]:80". The port stays a
 * string (see {@link normalizePort}); the host may be "" (the wildcard).
 * @throws OSError EINVAL ("missing port in address", "too many colons in address"…); TypeError for non-strings
 * @example `parseHostPort("[::1]:8080") // { host: "::1", port: "8080" }`
 */
export function parseHostPort(s: string): { host: string; port: string } {
  if (typeof s !== "string") throw argTypeError("address", "a string", s);
  if (s.length > MAX_ADDRESS_LENGTH)
    throw parseError(s, `address longer than ${MAX_ADDRESS_LENGTH} characters`);
  const i = s.lastIndexOf(":");
  if (i < 0) throw parseError(s, "missing port in address");
  let host: string;
  let j = 0;
  let k = 0;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) throw parseError(s, "missing ']' in address");
    if (end + 1 === s.length) throw parseError(s, "missing port in address");
    if (end + 1 !== i) {
      throw parseError(s, s[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    }
    host = s.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = s.slice(0, i);
    if (host.includes(":")) throw parseError(s, "too many colons in address");
  }
  if (s.indexOf("[", j) >= 0) throw parseError(s, "unexpected '[' in address");
  if (s.indexOf("]", k) >= 0) throw parseError(s, "unexpected ']' in address");
  return { host, port: s.slice(i + 1) };
}

/**
 * Joins host and port into "host:port", bracketing hosts that contain a colon (as Go's
 * `net.JoinHostPort`); the inverse of {@link parseHostPort}.
 * @example `formatHostPort("::1", 80) // "[::1]:80"`
 */
export function formatHostPort(host: string, port: number | string): string {
  if (typeof host !== "string") throw argTypeError("host", "a string", host);
  if (typeof port !== "number" && typeof port !== "string")
    throw argTypeError("port", "a number or string", port);
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Formats any socket address for messages and traces: "127.0.0.1:80", "[::1]:80",
 * "[fe80::1%2]:80" (scope id shown when set), a Unix path as is, an abstract name "\0name" as "@name".
 * @throws TypeError for anything that is not a socket address
 * @example `formatAddress(["::1", 80, 0, 0]) // "[::1]:80"; formatAddress("\0sock") // "@sock"`
 */
export function formatAddress(addr: SockAddr | Uint8Array): string {
  if (addr instanceof Uint8Array) addr = Buffer.from(addr.buffer, addr.byteOffset, addr.length).toString();
  if (typeof addr === "string") return addr.startsWith("\0") ? `@${addr.slice(1)}` : addr;
  if (Array.isArray(addr) && typeof addr[0] === "string" && typeof addr[1] === "number") {
    if (addr.length === 2) return formatHostPort(addr[0], addr[1]);
    if (addr.length === 4) {
      const scope = addr[3];
      const host = scope && !addr[0].includes("%") ? `${addr[0]}%${scope}` : addr[0];
      return `[${host}]:${addr[1]}`;
    }
  }
  throw argTypeError("address", "[host, port], [host, port, flowinfo, scope_id] or a path", addr);
}
