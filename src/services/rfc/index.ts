/**
 * The classic Internet services (RFC 862 echo, 863 discard, 864 chargen, 865 qotd, 867 daytime,
 * 868 time): pure protocol functions, one small server function per service and transport, a
 * host that runs several safely ({@link serve}), and clients.
 *
 * @example
 * ```ts
 * import { serve, time } from "sockit/services/rfc";
 * const host = await serve({ services: [{ name: "time", port: 0 }] });
 * console.log(await time(host.bound[0]!.address));
 * await host.close();
 * ```
 * @module
 */
// Explicit lists: what docs/services.md documents. The host's own machinery (the UDP gate and
// serveUdp, counters, limit resolution, quote picking, …) is imported by path inside the package.
export {
  type ChargenOptions,
  type ChargenResult,
  type ClientOptions,
  chargen,
  daytime,
  type EchoResult,
  echo,
  MAX_TEXT_REPLY,
  qotd,
  type TimeResult,
  time,
} from "./client.js";
export { descriptorLimit, descriptorsExhausted, openDescriptors } from "./fds.js";
export {
  formatCounters,
  formatEvent,
  type ServiceCounters,
  type ServiceEvent,
  type ServiceEventType,
} from "./events.js";
export { type BoundService, type HostOptions, ServiceHost, type ServiceSpec, serve } from "./host.js";
export {
  DEFAULT_LIMITS,
  DEFAULT_PORT_BASE,
  SERVICE_NAMES,
  SERVICE_RFC,
  type ServiceLimits,
  type ServiceName,
  WELL_KNOWN_PORTS,
} from "./limits.js";
export { type SettleConn, type SettleEnd, settle } from "./linger.js";
export {
  CHARGEN_CYCLE_LINES,
  CHARGEN_LINE_BYTES,
  CHARGEN_RING,
  CHARGEN_WIDTH,
  chargenCycle,
  chargenLike,
  chargenLine,
  chargenLineStart,
  decodeTime,
  encodeTime,
  formatDaytime,
  QOTD_MAX,
  RFC868_OFFSET,
  type TimeReply,
  TimeReplyError,
} from "./protocol.js";
export { BUILTIN_QUOTES, MAX_QUOTES, MAX_QUOTES_FILE, parseQuotes, QuotesError } from "./quotes.js";
export { RateLimiter, type RateLimits, TokenBucket, type Verdict } from "./ratelimit.js";
export { sourceKey } from "./source.js";
export {
  chargenTcp,
  daytimeTcp,
  discardTcp,
  echoTcp,
  qotdTcp,
  type ServiceConn,
  type StopReason,
  TCP_SERVICES,
  type TcpService,
  type TcpServiceOptions,
  timeTcp,
} from "./tcp.js";
export { udpResponder, type UdpResponderOptions } from "./udp.js";
