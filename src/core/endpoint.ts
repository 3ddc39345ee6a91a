/**
 * Endpoints as the core sees them: an IP address and port (already resolved to a literal) or a
 * Unix socket path. The faces convert their address forms to and from these.
 *
 * @module
 */
import type { TraceValue } from "../trace.js";

/**
 * An IP endpoint: a literal address (never a name), its family and a port.
 * @example `const ep: IpEndpoint = { address: "127.0.0.1", port: 7, family: 4 }`
 */
export interface IpEndpoint {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/**
 * A Unix-domain endpoint: a filesystem path, or a Linux abstract name starting with "\0".
 * @example `const ep: UnixEndpoint = { path: "/tmp/echo.sock" }`
 */
export interface UnixEndpoint {
  readonly path: string;
}

/**
 * Either kind of endpoint.
 * @example `const where = (e: Endpoint) => ("path" in e ? e.path : e.address + ":" + e.port)`
 */
export type Endpoint = IpEndpoint | UnixEndpoint;

/**
 * True for a Unix endpoint.
 * @example `isUnix({ path: "/tmp/s.sock" }) // true`
 */
export function isUnix(e: Endpoint): e is UnixEndpoint {
  return (e as UnixEndpoint).path !== undefined;
}

/**
 * Formats an endpoint for messages: `127.0.0.1:80`, `[::1]:80`, `/tmp/s.sock`, `@abstract`.
 * @example `formatEndpoint({ address: "::1", port: 80, family: 6 }) // "[::1]:80"`
 */
export function formatEndpoint(e: Endpoint | undefined): string {
  if (e === undefined) return "?";
  if (isUnix(e)) return e.path.startsWith("\0") ? `@${e.path.slice(1)}` : e.path;
  return e.family === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * The endpoint as a Python-style address value for traces: `('127.0.0.1', 80)`,
 * `('::1', 80, 0, 0)` or a path.
 * @example `endpointTrace({ address: "127.0.0.1", port: 80, family: 4 }) // ["127.0.0.1", 80]`
 */
export function endpointTrace(e: Endpoint | undefined): TraceValue {
  if (e === undefined) return null;
  if (isUnix(e)) return e.path;
  return e.family === 6 ? [e.address, e.port, 0, 0] : [e.address, e.port];
}

/**
 * Converts what Node's `address()`/`remoteAddress` report into an endpoint.
 * @example `fromNode({ address: "127.0.0.1", port: 80, family: "IPv4" })`
 */
export function fromNode(
  a:
    | { address?: string | undefined; port?: number | undefined; family?: string | number | undefined }
    | string
    | null
    | undefined,
  unixPath?: string,
): Endpoint | undefined {
  if (typeof a === "string") return { path: a };
  if (a === null || a === undefined || a.address === undefined)
    return unixPath === undefined ? undefined : { path: unixPath };
  const fam = a.family === "IPv6" || a.family === 6 ? 6 : 4;
  return { address: a.address, port: a.port ?? 0, family: fam };
}

/**
 * The peer of a connected Node socket read from its handle (getpeername(2)), not from Node's
 * `remoteAddress` (which keeps a copy per socket); undefined once the kernel has forgotten it.
 * @example `peerFromHandle(sock) // { address: "127.0.0.1", port: 53122, family: 4 }`
 */
export function peerFromHandle(sock: object): IpEndpoint | undefined {
  const handle = (sock as { _handle?: { getpeername?(o: object): number } | null })._handle;
  const out: { address?: string; port?: number } = {};
  if (typeof handle?.getpeername !== "function" || handle.getpeername(out) !== 0) return undefined;
  if (typeof out.address !== "string") return undefined;
  return { address: out.address, port: out.port ?? 0, family: out.address.includes(":") ? 6 : 4 };
}
