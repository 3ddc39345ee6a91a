/**
 * Python's module-level socket helpers: `create_connection`, `create_server`, `socketpair`,
 * `has_dualstack_ipv6`.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { AF_INET, AF_INET6, AF_UNIX, IPPROTO_IPV6, SOCK_STREAM } from "../addr/constants.js";
import { normalizeHost, normalizePort } from "../addr/address.js";
import { getaddrinfo, resolveHost } from "../addr/resolve.js";
import { connectAny } from "../core/connect.js";
import { argTypeError, makeOSError } from "../errors/index.js";
import { IPV6_V6ONLY, SO_REUSEADDR, SOL_SOCKET } from "./constants.js";
import { type Family, type SockAddrArg, toEndpoint } from "./sockaddr.js";
import { Socket, socket } from "./socket.js";
import { checkTimeout, getdefaulttimeout } from "./timeout.js";

/**
 * Connects to `[host, port]`, trying every address the name resolves to — through the one
 * connect path every face uses: IPv6 first, the families interleaved, the next address after
 * 250 ms or a failure (RFC 8305; Python tries them one by one). `timeout` (seconds; default
 * {@link getdefaulttimeout}) bounds the whole attempt and stays set on the socket;
 * `source_address` binds first (only addresses of its family are tried). Rejects with one
 * OSError of the first failure's class naming every address tried (its `cause` holds each
 * error), or an AggregateError of them when `all_errors` is true (Python's ExceptionGroup).
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
  if (source_address != null && (!Array.isArray(source_address) || source_address.length !== 2))
    throw argTypeError("source_address", "a [host, port] pair or null", source_address);
  const [host, port] = address;
  const t = timeout === undefined ? getdefaulttimeout() : checkTimeout("timeout", timeout);
  const target = `${host}:${port}`;
  const infos = await getaddrinfo(host, port, 0, SOCK_STREAM);
  let to = await Promise.all(infos.map(([family, , , , sa]) => toEndpoint(family, sa, "connect")));
  let localAddress: string | undefined;
  let localPort: number | undefined;
  if (source_address) {
    const [sh, sp] = source_address;
    localPort = normalizePort(sp, "tcp") || undefined;
    const fams = new Set(to.map((e) => ("family" in e ? e.family : 0)));
    const only = fams.size === 1 ? [...fams][0] : 0;
    const local = await resolveHost(
      normalizeHost(sh, only === 6 ? AF_INET6 : AF_INET),
      only === 6 ? AF_INET6 : only === 4 ? AF_INET : 0,
    );
    if (sh !== "") localAddress = local.address;
    to = to.filter((e) => "family" in e && e.family === local.family);
    if (to.length === 0) {
      throw makeOSError("EAFNOSUPPORT", {
        op: "create_connection",
        address: target,
        hint: `source_address is IPv${local.family}; ${host} has no IPv${local.family} address`,
      });
    }
  }
  let stream;
  try {
    stream = await connectAny(to, {
      ...(t !== null ? { timeout: t * 1000 } : {}),
      localAddress,
      localPort,
      target,
    });
  } catch (err) {
    const each = (err as { cause?: unknown }).cause;
    if (all_errors && each instanceof AggregateError) {
      throw new AggregateError(
        each.errors,
        `create_connection failed: ${each.errors.map(String).join("; ")}`,
      );
    }
    throw err;
  }
  const peer = stream.remoteEndpoint();
  const s = new Socket(
    peer && "family" in peer && peer.family === 6 ? AF_INET6 : AF_INET,
    SOCK_STREAM,
    6,
    stream,
  );
  s.settimeout(t);
  return s;
}

/**
 * Options of {@link create_server}, named as in Python.
 *
 * @example
 * ```ts
 * const opts: CreateServerOptions = { family: AF_INET6, dualstack_ipv6: true, backlog: 64 };
 * const srv = await create_server(["::", 8000], opts); // IPv4 clients too
 * ```
 */
export interface CreateServerOptions<F extends number = Family> {
  /** AF_INET (default), AF_INET6 or AF_UNIX; the server socket's type carries it. */
  readonly family?: F;
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
 * const [conn, [host, port]] = await srv.accept(); // AF_INET: [host, port]
 * const srv6 = await create_server(["::", 8001], { family: AF_INET6 }); // accept() gives 4-tuples
 * ```
 */
export async function create_server<F extends Family = typeof AF_INET>(
  address: SockAddrArg<F>,
  opts: CreateServerOptions<F> = {},
): Promise<Socket<F, typeof SOCK_STREAM>> {
  const family: number = opts.family ?? AF_INET;
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
    return s as Socket<F, typeof SOCK_STREAM>;
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
