/**
 * Berkeley address forms ↔ core endpoints: `[host, port]` for AF_INET, `[host, port, flowinfo,
 * scope_id]` for AF_INET6, a path string for AF_UNIX.
 *
 * @module
 */
import type { Inet6Address, InetAddress, SockAddr, UnixAddress } from "../addr/address.js";
import { normalizeHost, normalizePort } from "../addr/address.js";
import { AF_INET, AF_INET6, AF_UNIX, type SOCK_DGRAM, type SOCK_STREAM } from "../addr/constants.js";
import { ifIndexToName, ifNameToIndex, isScopedIPv6, parseNumericHost } from "../addr/numeric.js";
import { resolveHost } from "../addr/resolve.js";
import type { Endpoint } from "../core/endpoint.js";
import { isUnix } from "../core/endpoint.js";
import { argTypeError, checkInt, makeOSError } from "../errors/index.js";
import { MAX_UNIX_PATH } from "../limits.js";

/**
 * The address families a {@link Socket} can have: AF_INET (2), AF_INET6 (10), AF_UNIX (1).
 * `socket(AF_INET, …)` returns a `Socket<typeof AF_INET>`, so its addresses are typed `[host, port]`.
 *
 * @example
 * ```ts
 * function family(s: Socket<Family>): string {
 *   return s.family === AF_UNIX ? "unix" : s.family === AF_INET6 ? "inet6" : "inet";
 * }
 * ```
 */
export type Family = typeof AF_INET | typeof AF_INET6 | typeof AF_UNIX;

/**
 * The socket types a {@link Socket} can have: SOCK_STREAM (1) or SOCK_DGRAM (2).
 *
 * @example
 * ```ts
 * const isDatagram = (s: Socket<Family, SockType>): boolean => s.type === SOCK_DGRAM;
 * ```
 */
export type SockType = typeof SOCK_STREAM | typeof SOCK_DGRAM;

/**
 * The address a socket of family `F` reports (getsockname, getpeername, accept, recvfrom):
 * {@link InetAddress} `[host, port]` for AF_INET, {@link Inet6Address} `[host, port, flowinfo,
 * scope_id]` for AF_INET6, a path for AF_UNIX; the union {@link SockAddr} when the family is not
 * known at compile time.
 *
 * @example
 * ```ts
 * const srv = socket(AF_INET, SOCK_STREAM);
 * await srv.bind(["127.0.0.1", 0]);
 * const [host, port]: SockAddrOf<typeof AF_INET> = srv.getsockname(); // port: number
 * await srv.close();
 * ```
 */
export type SockAddrOf<F extends number> = F extends typeof AF_INET
  ? InetAddress
  : F extends typeof AF_INET6
    ? Inet6Address
    : F extends typeof AF_UNIX
      ? UnixAddress
      : SockAddr;

/**
 * The address a socket of family `F` accepts (bind, connect, sendto): `[host, port]` for AF_INET,
 * `[host, port]` up to `[host, port, flowinfo, scope_id]` for AF_INET6, a path for AF_UNIX. The
 * host may be a name (resolved), "" (any) or "<broadcast>"; the port a number, a numeric string
 * ("8000") or a service name ("http").
 *
 * @example
 * ```ts
 * const a: SockAddrArg<typeof AF_INET> = ["", "http"];
 * const b: SockAddrArg<typeof AF_INET6> = ["::1", 8000];
 * const c: SockAddrArg<typeof AF_UNIX> = "/tmp/echo.sock";
 * ```
 */
export type SockAddrArg<F extends number> = F extends typeof AF_INET
  ? readonly [host: string, port: number | string]
  : F extends typeof AF_INET6
    ? readonly [host: string, port: number | string, flowinfo?: number, scope_id?: number]
    : F extends typeof AF_UNIX
      ? UnixAddress
      : SockAddrArg<Family>;

/**
 * What `recvfrom()` reports as the sender on a socket of family `F` and type `T`: the sender's
 * address on a datagram socket, `null` on a stream socket (as Python's `None`).
 *
 * @example
 * ```ts
 * const udp = socket(AF_INET, SOCK_DGRAM);
 * await udp.bind(["127.0.0.1", 0]);
 * await udp.sendto("hi", udp.getsockname());
 * const [data, from]: [Buffer, SenderOf<typeof AF_INET, typeof SOCK_DGRAM>] = await udp.recvfrom(512);
 * await udp.sendto(data, from); // from: [string, number], never null
 * await udp.close();
 * ```
 */
export type SenderOf<F extends number, T extends number> = T extends typeof SOCK_DGRAM
  ? SockAddrOf<F>
  : T extends typeof SOCK_STREAM
    ? null
    : SockAddrOf<F> | null;

/**
 * Checks an address value against the family and resolves its host to a literal.
 * Misuse throws TypeError/RangeError; unknown names reject with gaierror.
 *
 * AF_INET6: `flowinfo` must be an integer 0..0xFFFFF and `scope_id` 0..0xFFFFFFFF (RangeError
 * naming the field, where Python raises OverflowError). For a link-local or other scoped address
 * the scope is the tuple's `scope_id`, or else the host's "%iface"/"%index" suffix; it selects the
 * interface (an index no interface has: ENODEV for bind, ENETUNREACH otherwise, as Linux).
 */
export async function toEndpoint(
  family: number,
  address: unknown,
  op: string,
  proto: "tcp" | "udp" = "tcp",
): Promise<Endpoint> {
  if (family === AF_UNIX) {
    if (typeof address !== "string" && !Buffer.isBuffer(address)) {
      throw argTypeError("address", "a path string for AF_UNIX", address);
    }
    const path = typeof address === "string" ? address : address.toString("latin1");
    if (Buffer.byteLength(path) > MAX_UNIX_PATH) {
      throw makeOSError("ENAMETOOLONG", {
        op,
        address: path,
        hint: `AF_UNIX path too long (at most ${MAX_UNIX_PATH} bytes); use a shorter path`,
      });
    }
    if (path.length === 0)
      throw makeOSError("EINVAL", { op, hint: "an empty AF_UNIX path is not an address" });
    return { path };
  }
  if (!Array.isArray(address)) {
    const form =
      family === AF_INET6
        ? "a [host, port, flowinfo?, scope_id?] array for AF_INET6"
        : "a [host, port] array for AF_INET";
    throw argTypeError("address", form, address);
  }
  if (family === AF_INET && address.length !== 2) {
    throw argTypeError("address", "a [host, port] pair for AF_INET", address);
  }
  if (family === AF_INET6 && (address.length < 2 || address.length > 4)) {
    throw argTypeError("address", "[host, port, flowinfo?, scope_id?] for AF_INET6", address);
  }
  const host = normalizeHost(address[0], family === AF_INET6 ? 10 : 2);
  const port = normalizePort(address[1], proto);
  if (family !== AF_INET6) {
    const r = await resolveHost(host, AF_INET);
    return { address: r.address, port, family: r.family };
  }
  if (address.length > 2) checkInt("flowinfo", address[2], 0, 0xfffff);
  const scopeId = address.length > 3 ? checkInt("scope_id", address[3], 0, 0xffffffff) : 0;
  // a numeric host with its "%scope" as glibc reads it (gaierror for an unknown interface name)
  const num = parseNumericHost(host, AF_INET6);
  if (num === undefined) {
    const r = await resolveHost(host, AF_INET6);
    return { address: r.address, port, family: r.family };
  }
  return { address: scoped(num.address, num.bytes, scopeId || num.scopeId, port, op), port, family: 6 };
}

/** `address%ifname` for a scoped address with a scope; the bare address otherwise (Linux ignores it). */
function scoped(address: string, bytes: Uint8Array, scope: number, port: number, op: string): string {
  if (
    scope === 0 &&
    bytes[0] === 0xfe &&
    ((bytes[1] ?? 0) & 0xc0) === 0x80 &&
    (op === "connect" || op === "bind")
  ) {
    throw makeOSError("EINVAL", {
      op,
      address: `[${address}]:${port}`,
      hint: `a link-local address needs its interface: [host, port, 0, scope_id] or "${address}%eth0"`,
    });
  }
  if (scope === 0 || !isScopedIPv6(bytes)) return address;
  const name = ifIndexToName(scope);
  if (name === undefined) {
    throw makeOSError(op === "bind" ? "ENODEV" : "ENETUNREACH", {
      op,
      address: `[${address}%${scope}]:${port}`,
      hint: `no network interface has index ${scope} (scope_id); see \`ip link\``,
    });
  }
  return `${address}%${name}`;
}

/**
 * The Python-style address of an endpoint for a socket of `family`.
 * @example `fromEndpoint(AF_INET, { address: "127.0.0.1", port: 80, family: 4 }) // ["127.0.0.1", 80]`
 */
export function fromEndpoint(family: number, e: Endpoint | undefined): SockAddr {
  if (e === undefined) {
    if (family === AF_UNIX) return "";
    return family === AF_INET6 ? (["::", 0, 0, 0] as Inet6Address) : (["0.0.0.0", 0] as InetAddress);
  }
  if (isUnix(e)) return e.path;
  if (family === AF_INET6) {
    // Node reports a scoped address as "fe80::1%lo"; Python gives ("fe80::1", port, 0, 1)
    const pct = e.address.indexOf("%");
    if (pct < 0) return [e.address, e.port, 0, 0] as Inet6Address;
    const zone = e.address.slice(pct + 1);
    const index = /^[0-9]+$/.test(zone) ? Number(zone) : ifNameToIndex(zone);
    return [e.address.slice(0, pct), e.port, 0, index] as Inet6Address;
  }
  return [e.address, e.port] as InetAddress;
}
