/**
 * sockit: socket programming for TypeScript on Node.js.
 *
 * The root export holds both faces: the Berkeley/Python-style API (`socket`, constants, address
 * functions, errors) and the Go-style API (`dial`, `listen`), plus the trace channel.
 *
 * @example
 * ```ts
 * import { socket, AF_INET, SOCK_STREAM, dial } from "sockit";
 * ```
 * @module
 */
export * from "./bsd/index.js";
export { UnexpectedEOFError } from "./errors/index.js";
export {
  type CallOptions,
  Conn,
  type Deadline,
  type DialOptions,
  dial,
  Listener,
  type ListenOptions,
  type ListenPacketOptions,
  listen,
  listenPacket,
  type Network,
  type Packet,
  PacketConn,
  type PacketNetwork,
  type StreamNetwork,
} from "./net/index.js";
export {
  type CallEvent,
  isCallEvent,
  renderCall,
  subscribeTrace,
  type Sym,
  TRACE_CHANNEL,
  type TraceValue,
} from "./trace.js";
