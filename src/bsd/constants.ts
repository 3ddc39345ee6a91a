/**
 * Socket constants with Linux values, as Python's `socket` module exposes them. Address-family,
 * type and protocol numbers live in `addr/constants.ts` and are re-exported here.
 *
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

/** Socket-level options (`setsockopt(SOL_SOCKET, …)`). */
export const SOL_SOCKET = 1;
/** Allow bind to a port in TIME_WAIT (always on for TCP listeners in Node). */
export const SO_REUSEADDR = 2;
/** Read-only: the socket type. */
export const SO_TYPE = 3;
/** Read-only: the pending error (0 if none); reading it clears it. */
export const SO_ERROR = 4;
/** Allow sending to broadcast addresses (datagram sockets). */
export const SO_BROADCAST = 6;
/** Send buffer size (stored; Node 20 cannot set the kernel's on TCP). */
export const SO_SNDBUF = 7;
/** Receive buffer size: bounds what sockit buffers per socket. */
export const SO_RCVBUF = 8;
/** TCP keepalive probes. */
export const SO_KEEPALIVE = 9;
/** Linger on close (not available in Node 20). */
export const SO_LINGER = 13;
/** Share a port between sockets (not available in Node 20). */
export const SO_REUSEPORT = 15;
/** Read-only: 1 if the socket is listening. */
export const SO_ACCEPTCONN = 30;
/** Read-only: the protocol number. */
export const SO_PROTOCOL = 38;
/** Read-only: the address family. */
export const SO_DOMAIN = 39;

/** Level for TCP options is IPPROTO_TCP (6). Disable Nagle's algorithm. */
export const TCP_NODELAY = 1;
/** Maximum segment size (not available in Node 20). */
export const TCP_MAXSEG = 2;
/** Idle time before keepalive probes, seconds. */
export const TCP_KEEPIDLE = 4;

/** Level IPPROTO_IPV6 (41): an IPv6 socket accepts IPv6 only (no IPv4-mapped). */
export const IPV6_V6ONLY = 26;
/** Level IPPROTO_IP (0): time to live. */
export const IP_TTL = 2;
/** Level IPPROTO_IP: multicast interface. */
export const IP_MULTICAST_IF = 32;
/** Level IPPROTO_IP: multicast TTL. */
export const IP_MULTICAST_TTL = 33;
/** Level IPPROTO_IP: receive own multicast. */
export const IP_MULTICAST_LOOP = 34;
/** Level IPPROTO_IP: join a multicast group. */
export const IP_ADD_MEMBERSHIP = 35;
/** Level IPPROTO_IP: leave a multicast group. */
export const IP_DROP_MEMBERSHIP = 36;
/** Level IPPROTO_IPV6: join an IPv6 multicast group. */
export const IPV6_JOIN_GROUP = 20;
/** Level IPPROTO_IPV6: leave an IPv6 multicast group. */
export const IPV6_LEAVE_GROUP = 21;

/** recv flag: out-of-band data (not supported by Node). */
export const MSG_OOB = 0x1;
/** recv flag: look at the data without consuming it. */
export const MSG_PEEK = 0x2;
/** recv flag (datagrams): the datagram was truncated. */
export const MSG_TRUNC = 0x20;
/** Do not wait: fail with BlockingIOError instead (per call). */
export const MSG_DONTWAIT = 0x40;
/** recv flag: wait for the full amount unless EOF or an error. */
export const MSG_WAITALL = 0x100;
/** send flag: no SIGPIPE (always the case in Node). */
export const MSG_NOSIGNAL = 0x4000;

/** shutdown(): no more receptions. */
export const SHUT_RD = 0;
/** shutdown(): no more transmissions (sends FIN; the peer reads EOF). */
export const SHUT_WR = 1;
/** shutdown(): both. */
export const SHUT_RDWR = 2;

/** Largest listen backlog (Linux default net.core.somaxconn). */
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
