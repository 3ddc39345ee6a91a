/**
 * Address-family, socket-type, protocol and resolver-flag constants, with the Linux values
 * Python's `socket` module exposes, plus the limits of the address parsers (layer L1).
 *
 * @module
 */

/**
 * Unspecified address family: let the resolver pick IPv4 or IPv6.
 * @example `await getaddrinfo("localhost", 80, AF_UNSPEC)`
 */
export const AF_UNSPEC = 0;
/**
 * Unix-domain (local) sockets; addresses are filesystem paths or "\0abstract" names.
 * @example `socket(AF_UNIX, SOCK_STREAM)`
 */
export const AF_UNIX = 1;
/**
 * IPv4; addresses are `[host, port]`.
 * @example `socket(AF_INET, SOCK_STREAM)`
 */
export const AF_INET = 2;
/**
 * IPv6; addresses are `[host, port, flowinfo, scope_id]`.
 * @example `socket(AF_INET6, SOCK_DGRAM)`
 */
export const AF_INET6 = 10;

/**
 * Reliable byte stream (TCP for the internet families).
 * @example `socket(AF_INET, SOCK_STREAM)`
 */
export const SOCK_STREAM = 1;
/**
 * Datagrams (UDP for the internet families).
 * @example `socket(AF_INET, SOCK_DGRAM)`
 */
export const SOCK_DGRAM = 2;
/**
 * Raw IP packets (not available in Node; listed for getaddrinfo results).
 * @example `(await getaddrinfo("127.0.0.1", 0)).filter((ai) => ai[1] === SOCK_RAW)`
 */
export const SOCK_RAW = 3;
/**
 * Sequenced, reliable datagrams (SCTP for the internet families).
 * @example `await getaddrinfo("127.0.0.1", 80, AF_INET, SOCK_SEQPACKET)`
 */
export const SOCK_SEQPACKET = 5;

/**
 * Dummy protocol: pick the default for the socket type.
 * @example `socket(AF_INET, SOCK_STREAM, IPPROTO_IP)`
 */
export const IPPROTO_IP = 0;
/**
 * TCP.
 * @example `await getaddrinfo("localhost", 80, 0, 0, IPPROTO_TCP)`
 */
export const IPPROTO_TCP = 6;
/**
 * UDP.
 * @example `await getaddrinfo("localhost", 53, 0, 0, IPPROTO_UDP)`
 */
export const IPPROTO_UDP = 17;
/**
 * IPv6 (also the option level for IPv6 socket options).
 * @example `s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1)`
 */
export const IPPROTO_IPV6 = 41;
/**
 * Raw IP.
 * @example `socket(AF_INET, SOCK_RAW, IPPROTO_RAW) // fails in Node: no raw sockets`
 */
export const IPPROTO_RAW = 255;

/**
 * getaddrinfo flag: a null host means the wildcard address (for bind) instead of loopback.
 * @example `await getaddrinfo(null, 8000, AF_INET, SOCK_STREAM, 0, AI_PASSIVE) // 0.0.0.0`
 */
export const AI_PASSIVE = 1;
/**
 * getaddrinfo flag: fill in the canonical name of the host in the first result.
 * @example `(await getaddrinfo("localhost", 0, 0, 0, 0, AI_CANONNAME))[0][3] // "localhost"`
 */
export const AI_CANONNAME = 2;
/**
 * getaddrinfo flag: the host must be a numeric address; never look a name up.
 * @example `await getaddrinfo("localhost", 80, 0, 0, 0, AI_NUMERICHOST) // gaierror EAI_NONAME`
 */
export const AI_NUMERICHOST = 4;
/**
 * getaddrinfo flag: with AF_INET6, return IPv4 addresses as IPv4-mapped IPv6 ("::ffff:a.b.c.d").
 * @example `await getaddrinfo("127.0.0.1", 80, AF_INET6, 0, 0, AI_V4MAPPED)`
 */
export const AI_V4MAPPED = 8;
/**
 * getaddrinfo flag: with AI_V4MAPPED, return both IPv6 and mapped IPv4 addresses.
 * @example `await getaddrinfo("localhost", 80, AF_INET6, 0, 0, AI_V4MAPPED | AI_ALL)`
 */
export const AI_ALL = 16;
/**
 * getaddrinfo flag: only return families the host has a configured address for.
 * @example `await getaddrinfo("localhost", 80, 0, 0, 0, AI_ADDRCONFIG)`
 */
export const AI_ADDRCONFIG = 32;
/**
 * getaddrinfo flag: the port must be numeric; never look a service name up.
 * @example `await getaddrinfo("localhost", "http", 0, 0, 0, AI_NUMERICSERV) // gaierror`
 */
export const AI_NUMERICSERV = 1024;

/**
 * getnameinfo flag: return the host as a numeric address.
 * @example `await getnameinfo(["127.0.0.1", 80], NI_NUMERICHOST) // ["127.0.0.1", "http"]`
 */
export const NI_NUMERICHOST = 1;
/**
 * getnameinfo flag: return the port as a number string.
 * @example `await getnameinfo(["127.0.0.1", 80], NI_NUMERICSERV) // ["localhost", "80"]`
 */
export const NI_NUMERICSERV = 2;
/**
 * getnameinfo flag: return only the host part of a local name (accepted, no effect here).
 * @example `await getnameinfo(["127.0.0.1", 80], NI_NOFQDN)`
 */
export const NI_NOFQDN = 4;
/**
 * getnameinfo flag: fail with gaierror EAI_NONAME when the address has no name.
 * @example `await getnameinfo(["127.0.0.1", 80], NI_NAMEREQD) // ["localhost", "http"]`
 */
export const NI_NAMEREQD = 8;
/**
 * getnameinfo flag: look the service up as UDP rather than TCP.
 * @example `await getnameinfo(["127.0.0.1", 53], NI_DGRAM) // ["localhost", "domain"]`
 */
export const NI_DGRAM = 16;

/**
 * The IPv4 wildcard address 0.0.0.0, as an integer.
 * @example `intToIPv4(INADDR_ANY) // "0.0.0.0"`
 */
export const INADDR_ANY = 0;
/**
 * The IPv4 limited-broadcast address 255.255.255.255, as an integer.
 * @example `intToIPv4(INADDR_BROADCAST) // "255.255.255.255"`
 */
export const INADDR_BROADCAST = 0xffffffff;
/**
 * The IPv4 loopback address 127.0.0.1, as an integer.
 * @example `intToIPv4(INADDR_LOOPBACK) // "127.0.0.1"`
 */
export const INADDR_LOOPBACK = 0x7f000001;
/**
 * The value C `inet_addr()` returns for an invalid address (same bits as broadcast).
 * @example `INADDR_NONE === 0xffffffff`
 */
export const INADDR_NONE = 0xffffffff;

/**
 * The longest address string (host:port, host name, Unix path) the parsers accept.
 * @example `parseHostPort("x".repeat(MAX_ADDRESS_LENGTH + 1)) // throws OSError EINVAL`
 */
export const MAX_ADDRESS_LENGTH = 1024;

const FAMILY_NAMES: ReadonlyMap<number, string> = new Map([
  [AF_UNSPEC, "AF_UNSPEC"],
  [AF_UNIX, "AF_UNIX"],
  [AF_INET, "AF_INET"],
  [AF_INET6, "AF_INET6"],
]);

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [SOCK_STREAM, "SOCK_STREAM"],
  [SOCK_DGRAM, "SOCK_DGRAM"],
  [SOCK_RAW, "SOCK_RAW"],
  [SOCK_SEQPACKET, "SOCK_SEQPACKET"],
]);

/**
 * The symbolic name of an address family, for traces; unknown values print as the number.
 * @example `familyName(2) // "AF_INET"; familyName(99) // "99"`
 */
export function familyName(n: number): string {
  return FAMILY_NAMES.get(n) ?? String(n);
}

/**
 * The symbolic name of a socket type, for traces; unknown values print as the number.
 * @example `typeName(1) // "SOCK_STREAM"; typeName(0) // "0"`
 */
export function typeName(n: number): string {
  return TYPE_NAMES.get(n) ?? String(n);
}
