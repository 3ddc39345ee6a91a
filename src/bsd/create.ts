/**
 * What `socket(family, type, proto)` answers, checked in the order Linux checks it (net/socket.c,
 * then the family's create function), so a call the kernel refuses fails here with the kernel's
 * errno, exactly as in Python; then what Linux would create but Node.js cannot, each with an
 * OSError saying so.
 *
 * @module
 */
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
} from "../addr/constants.js";
import { checkInt, makeOSError } from "../errors/index.js";
import { SOCK_CLOEXEC, SOCK_NONBLOCK } from "./constants.js";

/** Linux `AF_MAX`: families at or above it do not exist. */
const AF_MAX = 46;
/** Linux `SOCK_MAX`: types at or above it (after the flag bits) do not exist. */
const SOCK_MAX = 11;
/** Linux `SOCK_TYPE_MASK`: the bits of `type` that are the type; the rest are flags. */
const SOCK_TYPE_MASK = 0xf;
/** Linux `SOCK_PACKET` (obsolete: AF_INET + SOCK_PACKET opens a packet socket). */
const SOCK_PACKET = 10;
/** Linux `IPPROTO_MAX`: protocol numbers of AF_INET/AF_INET6 sockets are below it. */
const IPPROTO_MAX = 263;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_UDPLITE = 136;
const IPPROTO_MPTCP = 262;

/**
 * The checked arguments of a socket Node.js can open.
 * @example `const { family, type, nonblocking } = checkSocketArgs(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)`
 */
export interface SocketArgs {
  readonly family: number;
  /** The type without SOCK_NONBLOCK/SOCK_CLOEXEC (Python's `s.type` drops them too). */
  readonly type: number;
  readonly proto: number;
  /** SOCK_NONBLOCK was given: the socket starts with timeout 0. */
  readonly nonblocking: boolean;
}

function fail(code: string, hint: string): never {
  throw makeOSError(code, { op: "socket", hint });
}

/**
 * Checks `socket()`'s arguments: TypeError for a non-integer, RangeError outside a C int (Python's
 * OverflowError), then Linux's errno (EINVAL, EAFNOSUPPORT, ESOCKTNOSUPPORT, EPROTONOSUPPORT) for
 * what the kernel refuses, then ESOCKTNOSUPPORT/EPROTONOSUPPORT/EAFNOSUPPORT with a "Node.js
 * cannot" hint for what the kernel allows but Node cannot open.
 *
 * @example
 * ```ts
 * checkSocketArgs(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0) // { family: 2, type: 1, proto: 0, nonblocking: true }
 * checkSocketArgs(12345, SOCK_STREAM, 0) // throws OSError EAFNOSUPPORT (97), as Python
 * ```
 */
export function checkSocketArgs(family: unknown, type: unknown, proto: unknown): SocketArgs {
  const f = checkInt("family", family, -(2 ** 31), 2 ** 31 - 1);
  const t = checkInt("type", type, -(2 ** 31), 2 ** 31 - 1);
  const p = checkInt("proto", proto, -(2 ** 31), 2 ** 31 - 1);
  // net/socket.c: flags first, then the family's range, then the type's
  if ((t & ~SOCK_TYPE_MASK & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0)
    fail("EINVAL", `type ${t} has flag bits other than SOCK_NONBLOCK and SOCK_CLOEXEC`);
  const base = t & SOCK_TYPE_MASK;
  if (f < 0 || f >= AF_MAX)
    fail("EAFNOSUPPORT", `${f} is not an address family; use AF_INET, AF_INET6 or AF_UNIX`);
  if (base >= SOCK_MAX) fail("EINVAL", `${base} is not a socket type; use SOCK_STREAM or SOCK_DGRAM`);
  if (f === AF_INET || f === AF_INET6) checkInet(f, base, p);
  else if (f === AF_UNIX) checkUnix(base, p);
  else fail("EAFNOSUPPORT", `family ${f} is not supported; use AF_INET, AF_INET6 or AF_UNIX`);
  return { family: f, type: base, proto: p, nonblocking: (t & SOCK_NONBLOCK) !== 0 };
}

/** net/ipv4/af_inet.c `inet_create` and its IPv6 twin. */
function checkInet(family: number, type: number, proto: number): void {
  if (family === AF_INET && type === SOCK_PACKET)
    fail("ESOCKTNOSUPPORT", "SOCK_PACKET is an obsolete packet socket; Node.js cannot open it");
  if (proto < 0 || proto >= IPPROTO_MAX) fail("EINVAL", `proto must be 0..${IPPROTO_MAX - 1}, got ${proto}`);
  switch (type) {
    case SOCK_STREAM:
      if (proto === 0 || proto === IPPROTO_TCP) return;
      if (proto === IPPROTO_MPTCP) fail("EPROTONOSUPPORT", "Node.js cannot open MPTCP sockets; use proto 0");
      return fail("EPROTONOSUPPORT", "stream sockets use proto 0 (or IPPROTO_TCP)");
    case SOCK_DGRAM:
      if (proto === 0 || proto === IPPROTO_UDP) return;
      if (
        proto === IPPROTO_UDPLITE ||
        (family === AF_INET && proto === IPPROTO_ICMP) ||
        (family === AF_INET6 && proto === IPPROTO_ICMPV6)
      )
        fail("EPROTONOSUPPORT", "Node.js opens UDP datagram sockets only; use proto 0 (or IPPROTO_UDP)");
      return fail("EPROTONOSUPPORT", "datagram sockets use proto 0 (or IPPROTO_UDP)");
    case SOCK_RAW:
      if (proto === 0)
        fail("EPROTONOSUPPORT", "a raw socket needs a protocol number (and Node.js cannot open raw sockets)");
      return fail("ESOCKTNOSUPPORT", "Node.js cannot open raw sockets (SOCK_RAW)");
    default:
      return fail("ESOCKTNOSUPPORT", `type ${type} is not supported; use SOCK_STREAM or SOCK_DGRAM`);
  }
}

/** net/unix/af_unix.c `unix_create`. */
function checkUnix(type: number, proto: number): void {
  if (proto !== 0 && proto !== AF_UNIX) fail("EPROTONOSUPPORT", "AF_UNIX sockets use proto 0");
  if (type === SOCK_STREAM) return;
  if (type === SOCK_DGRAM || type === SOCK_RAW)
    fail("ESOCKTNOSUPPORT", "Node.js cannot open AF_UNIX datagram sockets");
  if (type === SOCK_SEQPACKET) fail("ESOCKTNOSUPPORT", "Node.js cannot open AF_UNIX SOCK_SEQPACKET sockets");
  fail("ESOCKTNOSUPPORT", `type ${type} is not supported; use SOCK_STREAM`);
}
