/**
 * Socket constants with Linux values, as Python's `socket` module exposes them. Address-family,
 * type and protocol numbers live in `addr/constants.ts` and are re-exported here.
 * @example
 * ```ts
 * import { SOL_SOCKET, SO_REUSEADDR, MSG_PEEK, SHUT_WR } from "sockit";
 * s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
 * ```
 * @module
 */
export * from "../addr/constants.js";

/**
 * Flag for `socket()`'s type: the new socket starts non-blocking (timeout 0), as in Python.
 * @example `socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK).gettimeout() // 0`
 */
export const SOCK_NONBLOCK = 0o4000;
/**
 * Flag for `socket()`'s type: close-on-exec. Accepted and ignored (sockit's descriptors are never
 * inherited by child processes).
 * @example `socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC)`
 */
export const SOCK_CLOEXEC = 0o2000000;

/**
 * Socket-level options (`setsockopt(SOL_SOCKET, …)`).
 * @example
 * ```ts
 * s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
 * ```
 */
export const SOL_SOCKET = 1;
/**
 * Allow bind to a port in TIME_WAIT (always on for TCP listeners in Node).
 * @example
 * ```ts
 * const srv = socket(AF_INET, SOCK_STREAM);
 * srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
 * await srv.bind(["127.0.0.1", 8000]);
 * ```
 */
export const SO_REUSEADDR = 2;
/**
 * Read-only: the socket type.
 * @example
 * ```ts
 * const isStream = s.getsockopt(SOL_SOCKET, SO_TYPE) === SOCK_STREAM;
 * ```
 */
export const SO_TYPE = 3;
/**
 * Read-only: the pending error (0 if none); reading it clears it.
 * @example
 * ```ts
 * // after a non-blocking connect: 0 when it succeeded, else its errno (111: ECONNREFUSED)
 * const err = s.getsockopt(SOL_SOCKET, SO_ERROR);
 * if (err !== 0) console.error(errorcode[err as number]);
 * ```
 */
export const SO_ERROR = 4;
/**
 * Allow sending to broadcast addresses (datagram sockets).
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * u.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
 * await u.sendto("hello", ["255.255.255.255", 9999]);
 * ```
 */
export const SO_BROADCAST = 6;
/**
 * Send buffer size (stored; Node 20 cannot set the kernel's on TCP).
 * @example
 * ```ts
 * s.setsockopt(SOL_SOCKET, SO_SNDBUF, 64 * 1024);
 * s.getsockopt(SOL_SOCKET, SO_SNDBUF); // 65536
 * ```
 */
export const SO_SNDBUF = 7;
/**
 * Receive buffer size: bounds what sockit buffers per socket.
 * @example
 * ```ts
 * s.setsockopt(SOL_SOCKET, SO_RCVBUF, 64 * 1024); // above 64 KiB unread, sockit stops reading
 * ```
 */
export const SO_RCVBUF = 8;
/**
 * TCP keepalive probes.
 * @example
 * ```ts
 * s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
 * ```
 */
export const SO_KEEPALIVE = 9;
/**
 * Linger on close (not available in Node 20: setsockopt fails with OSError ENOPROTOOPT).
 * @example
 * ```ts
 * try {
 *   s.setsockopt(SOL_SOCKET, SO_LINGER, Buffer.alloc(8));
 * } catch (err) {
 *   if (err instanceof OSError) console.error(err.code); // "ENOPROTOOPT"
 * }
 * ```
 */
export const SO_LINGER = 13;
/**
 * Share a port between sockets (not available in Node 20: setsockopt fails with OSError
 * ENOPROTOOPT, and so does `create_server(…, { reuse_port: true })`).
 * @example
 * ```ts
 * try {
 *   s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
 * } catch (err) {
 *   if (err instanceof OSError) console.error(err.message); // says Node.js 20 cannot
 * }
 * ```
 */
export const SO_REUSEPORT = 15;
/**
 * Read-only: 1 if the socket is listening.
 * @example
 * ```ts
 * await srv.listen();
 * srv.getsockopt(SOL_SOCKET, SO_ACCEPTCONN); // 1
 * ```
 */
export const SO_ACCEPTCONN = 30;
/**
 * Read-only: the protocol number.
 * @example
 * ```ts
 * socket(AF_INET, SOCK_STREAM).getsockopt(SOL_SOCKET, SO_PROTOCOL); // 6: IPPROTO_TCP
 * ```
 */
export const SO_PROTOCOL = 38;
/**
 * Read-only: the address family.
 * @example
 * ```ts
 * const isV6 = s.getsockopt(SOL_SOCKET, SO_DOMAIN) === AF_INET6;
 * ```
 */
export const SO_DOMAIN = 39;

/**
 * Level for TCP options is IPPROTO_TCP (6). Disable Nagle's algorithm.
 * @example
 * ```ts
 * s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1); // small writes go out at once
 * ```
 */
export const TCP_NODELAY = 1;
/**
 * Maximum segment size (not available in Node 20: setsockopt fails with OSError ENOPROTOOPT).
 * @example
 * ```ts
 * try {
 *   s.setsockopt(IPPROTO_TCP, TCP_MAXSEG, 1400);
 * } catch (err) {
 *   if (err instanceof OSError) console.error(err.code); // "ENOPROTOOPT"
 * }
 * ```
 */
export const TCP_MAXSEG = 2;
/**
 * Idle time before keepalive probes, seconds (not available in Node 20: setsockopt fails with
 * OSError ENOPROTOOPT; SO_KEEPALIVE works).
 * @example
 * ```ts
 * try {
 *   s.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, 60);
 * } catch {
 *   s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1); // keepalive with the system's idle time
 * }
 * ```
 */
export const TCP_KEEPIDLE = 4;

/**
 * Level IPPROTO_IPV6 (41): an IPv6 socket accepts IPv6 only (no IPv4-mapped). Set before bind().
 * @example
 * ```ts
 * const srv = socket(AF_INET6, SOCK_STREAM);
 * srv.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0); // IPv4 clients too, as ::ffff:a.b.c.d
 * await srv.bind(["::", 8000]);
 * ```
 */
export const IPV6_V6ONLY = 26;
/**
 * Level IPPROTO_IP (0): time to live (datagram sockets).
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * u.setsockopt(IPPROTO_IP, IP_TTL, 4); // at most 4 hops
 * ```
 */
export const IP_TTL = 2;
/**
 * Level IPPROTO_IP: multicast interface, as an IPv4 address of the interface.
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * u.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, "127.0.0.1");
 * await u.sendto("ping", ["239.1.2.3", 5000]);
 * ```
 */
export const IP_MULTICAST_IF = 32;
/**
 * Level IPPROTO_IP: multicast TTL (default 1: the local network only).
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * u.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 2);
 * ```
 */
export const IP_MULTICAST_TTL = 33;
/**
 * Level IPPROTO_IP: receive own multicast (default 1).
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * u.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 0); // do not hear our own datagrams
 * ```
 */
export const IP_MULTICAST_LOOP = 34;
/**
 * Level IPPROTO_IP: join a multicast group (a `Membership` or a packed `struct ip_mreq`).
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * await u.bind(["0.0.0.0", 5000]);
 * u.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, { group: "239.1.2.3", interface: "127.0.0.1" });
 * const [data, from] = await u.recvfrom(1500);
 * ```
 */
export const IP_ADD_MEMBERSHIP = 35;
/**
 * Level IPPROTO_IP: leave a multicast group.
 * @example
 * ```ts
 * const u = socket(AF_INET, SOCK_DGRAM);
 * const group = { group: "239.1.2.3", interface: "127.0.0.1" };
 * u.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, group);
 * u.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, group);
 * ```
 */
export const IP_DROP_MEMBERSHIP = 36;
/**
 * Level IPPROTO_IPV6: join an IPv6 multicast group (the interface by name or index).
 * @example
 * ```ts
 * const u = socket(AF_INET6, SOCK_DGRAM);
 * await u.bind(["::", 5000]);
 * u.setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP, { group: "ff02::1:3", interface: "lo" });
 * ```
 */
export const IPV6_JOIN_GROUP = 20;
/**
 * Level IPPROTO_IPV6: leave an IPv6 multicast group.
 * @example
 * ```ts
 * const u = socket(AF_INET6, SOCK_DGRAM);
 * u.setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP, { group: "ff02::1:3", interface: "lo" });
 * u.setsockopt(IPPROTO_IPV6, IPV6_LEAVE_GROUP, { group: "ff02::1:3", interface: "lo" });
 * ```
 */
export const IPV6_LEAVE_GROUP = 21;

/**
 * recv flag: out-of-band data (not supported by Node: the call fails with OSError EOPNOTSUPP).
 * @example
 * ```ts
 * await s.recv(1, MSG_OOB).catch((err: unknown) => {
 *   if (err instanceof OSError) console.error(err.code); // "EOPNOTSUPP"
 * });
 * ```
 */
export const MSG_OOB = 0x1;
/**
 * recv flag: look at the data without consuming it.
 * @example
 * ```ts
 * const head = await s.recv(4, MSG_PEEK); // the next recv returns these bytes again
 * ```
 */
export const MSG_PEEK = 0x2;
/**
 * recv flag (datagrams): the datagram was truncated. Not supported: a recv with it fails with
 * OSError EOPNOTSUPP (a datagram longer than `bufsize` is cut, as the kernel does).
 * @example
 * ```ts
 * await s.recv(512, MSG_TRUNC).catch((err: unknown) => {
 *   if (err instanceof OSError) console.error(err.code); // "EOPNOTSUPP"
 * });
 * ```
 */
export const MSG_TRUNC = 0x20;
/**
 * Do not wait: fail with BlockingIOError instead (per call).
 * @example
 * ```ts
 * try {
 *   const data = await s.recv(1024, MSG_DONTWAIT);
 * } catch (err) {
 *   if (err instanceof BlockingIOError) console.log("nothing to read yet"); // EAGAIN
 * }
 * ```
 */
export const MSG_DONTWAIT = 0x40;
/**
 * recv flag: wait for the full amount unless EOF or an error.
 * @example
 * ```ts
 * const header = await s.recv(8, MSG_WAITALL); // 8 bytes, fewer only at EOF
 * ```
 */
export const MSG_WAITALL = 0x100;
/**
 * send flag: no SIGPIPE (always the case in Node; accepted and changes nothing).
 * @example
 * ```ts
 * await s.send("ping\n", MSG_NOSIGNAL);
 * ```
 */
export const MSG_NOSIGNAL = 0x4000;

/**
 * shutdown(): no more receptions.
 * @example
 * ```ts
 * s.shutdown(SHUT_RD);
 * ```
 */
export const SHUT_RD = 0;
/**
 * shutdown(): no more transmissions (sends FIN; the peer reads EOF).
 * @example
 * ```ts
 * await s.sendall("request\n");
 * s.shutdown(SHUT_WR); // the peer's recv returns b"" after the request
 * const reply = await s.recv(4096);
 * ```
 */
export const SHUT_WR = 1;
/**
 * shutdown(): both.
 * @example
 * ```ts
 * s.shutdown(SHUT_RDWR);
 * await s.close();
 * ```
 */
export const SHUT_RDWR = 2;

/**
 * Largest listen backlog (Linux default net.core.somaxconn).
 * @example
 * ```ts
 * await srv.listen(SOMAXCONN);
 * ```
 */
export const SOMAXCONN = 4096;

const OPTION_NAMES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  1: {
    2: "SO_REUSEADDR",
    3: "SO_TYPE",
    4: "SO_ERROR",
    6: "SO_BROADCAST",
    7: "SO_SNDBUF",
    8: "SO_RCVBUF",
    9: "SO_KEEPALIVE",
    13: "SO_LINGER",
    15: "SO_REUSEPORT",
    30: "SO_ACCEPTCONN",
    38: "SO_PROTOCOL",
    39: "SO_DOMAIN",
  },
  6: { 1: "TCP_NODELAY", 2: "TCP_MAXSEG", 4: "TCP_KEEPIDLE" },
  41: { 26: "IPV6_V6ONLY", 20: "IPV6_JOIN_GROUP", 21: "IPV6_LEAVE_GROUP" },
  0: {
    2: "IP_TTL",
    32: "IP_MULTICAST_IF",
    33: "IP_MULTICAST_TTL",
    34: "IP_MULTICAST_LOOP",
    35: "IP_ADD_MEMBERSHIP",
    36: "IP_DROP_MEMBERSHIP",
  },
};

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  1: "SOL_SOCKET",
  6: "IPPROTO_TCP",
  41: "IPPROTO_IPV6",
  0: "IPPROTO_IP",
};

/**
 * The symbolic name of a socket option, for messages and traces.
 * @example `optionName(SOL_SOCKET, SO_REUSEADDR) // "SO_REUSEADDR"`
 */
export function optionName(level: number, name: number): string {
  return OPTION_NAMES[level]?.[name] ?? `${LEVEL_NAMES[level] ?? level}:${name}`;
}

/**
 * The symbolic name of an option level.
 * @example `levelName(6) // "IPPROTO_TCP"`
 */
export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? String(level);
}
