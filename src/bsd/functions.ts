/**
 * Python's module-level socket helpers: `create_connection`, `create_server`, `socketpair`,
 * `has_dualstack_ipv6`.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { SockAddr } from "../addr/address.js";
import { AF_INET, AF_INET6, AF_UNIX, IPPROTO_IPV6, SOCK_STREAM } from "../addr/constants.js";
import { getaddrinfo } from "../addr/resolve.js";
import { argTypeError, makeOSError } from "../errors/index.js";
import { IPV6_V6ONLY, SO_REUSEADDR, SOL_SOCKET } from "./constants.js";
import { type Socket, socket } from "./socket.js";

/**
 * Connects to `[host, port]`, trying every address the name resolves to in order (as Python
 * does); `timeout` (seconds) applies to each attempt and stays set on the socket;
 * `source_address` binds first. Rejects with the last error (or all of them in an
 * AggregateError when `all_errors` is true).
 *
 * Berkeley equivalent: `getaddrinfo()`, then `socket()` + `connect()` per address.
 *
 * @example
 * ```ts
 * const s = await create_connection(["localhost", 8000], 5);
 * ```
 */
export async function create_connection(
  address: readonly [string, number | string],
  timeout?: number | null,
  source_address?: readonly [string, number] | null,
  all_errors = false,
): Promise<Socket> {
  if (!Array.isArray(address) || address.length !== 2)
    throw argTypeError("address", "a [host, port] pair", address);
  const [host, port] = address;
  const infos = await getaddrinfo(host, port, 0, SOCK_STREAM);
  const errors: unknown[] = [];
  for (const [family, type, proto, , sockaddr] of infos) {
    const s = socket(family, type, proto);
    try {
      if (timeout !== undefined) s.settimeout(timeout);
      if (source_address) await s.bind(source_address as SockAddr);
      await s.connect(sockaddr);
      return s;
    } catch (err) {
      errors.push(err);
      await s.close();
    }
  }
  if (errors.length === 0) {
    throw makeOSError("EADDRNOTAVAIL", {
      op: "create_connection",
      address: `${host}:${port}`,
      hint: "getaddrinfo returned no addresses",
    });
  }
  if (all_errors) throw new AggregateError(errors, `create failed: ${errors.map(String).join("; ")}`);
  throw errors[errors.length - 1];
}

/** Options of {@link create_server}, named as in Python. */
export interface CreateServerOptions {
  /** AF_INET (default) or AF_INET6. */
  readonly family?: number;
  /** Accept-queue bound; default 128. */
  readonly backlog?: number | null;
  /** SO_REUSEPORT: Node 20 cannot; true fails with an OSError. */
  readonly reuse_port?: boolean;
  /** Accept IPv4 and IPv6 on one AF_INET6 socket (IPV6_V6ONLY off). */
  readonly dualstack_ipv6?: boolean;
}

/**
 * Creates a listening TCP socket bound to `address`, as Python's `socket.create_server`.
 *
 * Berkeley equivalent: `socket()`, `setsockopt(SO_REUSEADDR)`, `bind()`, `listen()`.
 *
 * @example
 * ```ts
 * const srv = await create_server(["", 8000]);
 * const [conn, addr] = await srv.accept();
 * ```
 */
export async function create_server(address: SockAddr, opts: CreateServerOptions = {}): Promise<Socket> {
  const family = opts.family ?? AF_INET;
  if (opts.reuse_port) {
    throw makeOSError("ENOPROTOOPT", {
      op: "create_server",
      hint: "SO_REUSEPORT is not supported by Node.js 20",
    });
  }
  if (opts.dualstack_ipv6 && family !== AF_INET6) {
    throw new TypeError("dualstack_ipv6 requires family=AF_INET6");
  }
  const s = socket(family, SOCK_STREAM);
  try {
    if (family !== AF_UNIX) s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (family === AF_INET6) s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, opts.dualstack_ipv6 ? 0 : 1);
    await s.bind(address);
    await s.listen(opts.backlog ?? undefined);
    return s;
  } catch (err) {
    await s.close();
    throw err;
  }
}

/**
 * A pair of connected AF_UNIX stream sockets (emulated: a temporary listener that is removed
 * at once). Handy for tests and for talking between two tasks.
 *
 * @example
 * ```ts
 * const [a, b] = await socketpair();
 * await a.sendall("ping"); (await b.recv(4)).toString() // "ping"
 * ```
 */
export async function socketpair(
  family: number = AF_UNIX,
  type: number = SOCK_STREAM,
): Promise<[Socket, Socket]> {
  if (type !== SOCK_STREAM)
    throw makeOSError("EOPNOTSUPP", { op: "socketpair", hint: "only SOCK_STREAM pairs are supported" });
  const dir = family === AF_UNIX ? mkdtempSync(join(tmpdir(), "sockit-pair-")) : undefined;
  const srv = socket(family, SOCK_STREAM);
  const a = socket(family, SOCK_STREAM);
  try {
    await srv.bind(dir !== undefined ? join(dir, "s") : family === AF_INET6 ? ["::1", 0] : ["127.0.0.1", 0]);
    await srv.listen(1);
    const [, accepted] = await Promise.all([a.connect(srv.getsockname()), srv.accept()]);
    return [a, accepted[0]];
  } catch (err) {
    await a.close();
    throw err;
  } finally {
    await srv.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * True when this host can accept IPv4 and IPv6 on one socket (IPv6 is enabled).
 * @example `if (has_dualstack_ipv6()) await create_server(["", 8000], { family: AF_INET6, dualstack_ipv6: true })`
 */
export function has_dualstack_ipv6(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === "IPv6"));
}
