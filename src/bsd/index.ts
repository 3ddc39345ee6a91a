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
export type { Inet6Address, InetAddress, SockAddr, UnixAddress } from "../addr/address.js";
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
export * from "../errors/oserror.js";
export * from "./constants.js";
export type { Membership } from "./dgram-options.js";
export * from "./functions.js";
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
export { type Readiness, Socket, socket } from "./socket.js";
export { getdefaulttimeout, setdefaulttimeout } from "./timeout.js";
export { errno, errorcode } from "../errors/linux.js";
