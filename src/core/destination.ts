/**
 * Datagram destinations without DNS: the one fast path both faces take before a send. A literal
 * IPv4/IPv6 host becomes an endpoint synchronously (no lookup, no promise hop); a name is left to
 * the caller's resolver (getaddrinfo). A one-entry cache remembers the last literal destination,
 * so a reply loop parses its peer's address once. Port 0 is refused here, as Linux's sendto does.
 *
 * @module
 */
import { AF_INET6 } from "../addr/constants.js";
import { inet_ntop, isIPv4, parseIPv6 } from "../addr/inet.js";
import { makeOSError } from "../errors/index.js";
import { formatEndpoint, type IpEndpoint } from "./endpoint.js";

/**
 * The endpoint for a literal host and a port, or undefined when `host` is not a literal of
 * `family` (0: either) — a name to resolve, a scoped IPv6 address, or the other family (the
 * resolver then gives the right error). IPv6 text comes back in its canonical form.
 * @throws OSError EINVAL for port 0 (not a destination)
 * @example `literalEndpoint("127.0.0.1", 53, 0) // { address: "127.0.0.1", port: 53, family: 4 }`
 */
export function literalEndpoint(host: string, port: number, family: 0 | 4 | 6): IpEndpoint | undefined {
  let ep: IpEndpoint | undefined;
  if (family !== 6 && isIPv4(host)) ep = { address: host, port, family: 4 };
  else if (family !== 4 && host.includes(":") && !host.includes("%")) {
    const bytes = parseIPv6(host);
    if (bytes !== undefined) ep = { address: inet_ntop(AF_INET6, bytes), port, family: 6 };
  }
  return ep === undefined ? undefined : checkDestination(ep);
}

/**
 * A datagram's destination as Linux's sendto checks it: port 0 is OSError EINVAL.
 * @example `checkDestination({ address: "127.0.0.1", port: 0, family: 4 }) // throws EINVAL`
 */
export function checkDestination(to: IpEndpoint, op = "sendto"): IpEndpoint {
  if (to.port === 0) {
    throw makeOSError("EINVAL", {
      op,
      address: formatEndpoint(to),
      hint: "port 0 is not a destination; give the receiver's port",
    });
  }
  return to;
}

/**
 * The last literal destination of one socket, keyed by the face's own text of it (a host and a
 * port, or a "host:port" string with port -1).
 * @example
 * ```ts
 * const dest = new LiteralDestination();
 * const ep = dest.get("127.0.0.1", 53) ?? dest.literal("127.0.0.1", 53, 0);
 * ```
 */
export class LiteralDestination {
  #key: string | undefined;
  #port = -1;
  #ep: IpEndpoint | undefined;

  /** The endpoint remembered for `key` and `port`, if it is the last one. */
  get(key: string, port: number): IpEndpoint | undefined {
    return key === this.#key && port === this.#port ? this.#ep : undefined;
  }

  /**
   * {@link literalEndpoint} for `host` and `port`, remembered under `key` and `keyPort` (default
   * the host and port; a "host:port" text is remembered with keyPort -1); undefined for a name
   * (nothing is remembered).
   */
  literal(host: string, port: number, family: 0 | 4 | 6, key = host, keyPort = port): IpEndpoint | undefined {
    const ep = literalEndpoint(host, port, family);
    if (ep !== undefined) {
      this.#key = key;
      this.#port = keyPort;
      this.#ep = ep;
    }
    return ep;
  }
}
