/**
 * Berkeley address forms ↔ core endpoints: `[host, port]` for AF_INET, `[host, port, flowinfo,
 * scope_id]` for AF_INET6, a path string for AF_UNIX.
 *
 * @module
 */
import type { Inet6Address, InetAddress, SockAddr } from "../addr/address.js";
import { normalizeHost, normalizePort } from "../addr/address.js";
import { AF_INET, AF_INET6, AF_UNIX } from "../addr/constants.js";
import { resolveHost } from "../addr/resolve.js";
import type { Endpoint } from "../core/endpoint.js";
import { isUnix } from "../core/endpoint.js";
import { argTypeError, makeOSError } from "../errors/index.js";
import { MAX_UNIX_PATH } from "../limits.js";

/**
 * Checks an address value against the family and resolves its host to a literal.
 * Misuse throws TypeError/RangeError; unknown names reject with gaierror.
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
  const r = await resolveHost(host, family === AF_INET6 ? 10 : 2);
  return { address: r.address, port, family: r.family };
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
  if (family === AF_INET6) return [e.address, e.port, 0, 0] as Inet6Address;
  return [e.address, e.port] as InetAddress;
}
