/**
 * The Berkeley face (`sockit/bsd`): names exactly as in Python's `socket` module, so textbook
 * code ports line by line.
 *
 * @example
 * ```ts
 * import { socket, AF_INET, SOCK_STREAM } from "sockit/bsd";
 * const s = socket(AF_INET, SOCK_STREAM);
 * await s.connect(["127.0.0.1", 8000]);
 * ```
 * @module
 */
// Explicit lists: only what docs/api.md documents is public. Helpers the other layers share
// (makeOSError, toSocketError, optionName, familyName, …) are imported by path inside the package.
export type { Inet6Address, InetAddress, SockAddr, UnixAddress } from "../addr/address.js";
export {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  AI_ADDRCONFIG,
  AI_ALL,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  AI_V4MAPPED,
  INADDR_ANY,
  INADDR_BROADCAST,
  INADDR_LOOPBACK,
  INADDR_NONE,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_RAW,
  IPPROTO_TCP,
  IPPROTO_UDP,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NOFQDN,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
} from "../addr/constants.js";
export { htonl, htons, inet_aton, inet_ntoa, inet_ntop, inet_pton, ntohl, ntohs } from "../addr/inet.js";
export {
  getaddrinfo,
  getfqdn,
  gethostbyaddr,
  gethostbyname,
  gethostbyname_ex,
  gethostname,
  getnameinfo,
} from "../addr/resolve.js";
export { getservbyname, getservbyport } from "../addr/services.js";
export { errno, errorcode } from "../errors/linux.js";
export {
  BlockingIOError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  error,
  FileNotFoundError,
  gaierror,
  herror,
  InterruptedError,
  OSError,
  type OSErrorDetails,
  PermissionError,
  TimeoutError,
  timeout,
} from "../errors/oserror.js";
export {
  SSL_ERROR,
  SSLCertVerificationError,
  SSLEOFError,
  SSLError,
  SSLZeroReturnError,
} from "../errors/ssl.js";
export {
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TTL,
  IPV6_JOIN_GROUP,
  IPV6_LEAVE_GROUP,
  IPV6_V6ONLY,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_WAITALL,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_ACCEPTCONN,
  SO_BROADCAST,
  SO_DOMAIN,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOL_SOCKET,
  SOMAXCONN,
  TCP_KEEPIDLE,
  TCP_MAXSEG,
  TCP_NODELAY,
} from "./constants.js";
export type { Membership } from "./dgram-options.js";
export {
  create_connection,
  create_server,
  type CreateServerOptions,
  has_dualstack_ipv6,
  socketpair,
} from "./functions.js";
export {
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  POLLRDHUP,
  Poll,
  poll,
  select,
} from "./select.js";
export type { Family, SenderOf, SockAddrArg, SockAddrOf, SockType } from "./sockaddr.js";
export { type Readiness, Socket, socket } from "./socket.js";
export { getdefaulttimeout, setdefaulttimeout } from "./timeout.js";
export {
  CERT_NONE,
  CERT_OPTIONAL,
  CERT_REQUIRED,
  create_default_context,
  type PeerCertDict,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  Purpose,
  SSLContext,
  SSLSocket,
  TLSVersion,
  type WrapOptions,
} from "./ssl.js";
