/**
 * The Go-style face (`sockit/net`): `dial`, `listen`, `Conn`, `Listener`.
 *
 * @example
 * ```ts
 * import { dial, listen } from "sockit/net";
 * const ln = await listen("tcp", "127.0.0.1:0");
 * const conn = await dial("tcp", ln.address);
 * ```
 * @module
 */

export {
  OSError,
  SSLCertVerificationError,
  SSLEOFError,
  SSLError,
  SSLZeroReturnError,
  TimeoutError,
  UnexpectedEOFError,
} from "../errors/index.js";
export type { Network, PacketNetwork, StreamNetwork } from "./address.js";
export { type CallOptions, Conn, type ConnLike, type Deadline } from "./conn.js";
export { type DialOptions, dial } from "./dial.js";
export { Listener, type ListenOptions, listen } from "./listen.js";
export { SendQueue, type SendQueueOptions, type SendTarget } from "./send-queue.js";
export { type ListenPacketOptions, listenPacket, type Packet, PacketConn } from "./packet.js";
export type { Endpoint, IpEndpoint, UnixEndpoint } from "../core/endpoint.js";
export {
  type Certificate,
  type CertOptions,
  createCertificate,
  fingerprint,
  type PeerCertificate,
  type PemInput,
  type TLSInfo,
  type TLSOptions,
  type TLSVersion,
  type UpgradeOptions,
  upgradeTLS,
} from "./tls.js";
