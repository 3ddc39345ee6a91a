/**
 * The classic Internet services (RFC 862 echo, 863 discard, 864 chargen, 865 qotd, 867 daytime,
 * 868 time): pure protocol functions, one small server function per service and transport, a
 * host that runs several safely ({@link serve}), and clients.
 *
 * @example
 * ```ts
 * import { serve, time } from "sockit/services/rfc";
 * const host = await serve({ services: [{ name: "time", port: 0 }] });
 * console.log(await time(host.bound[0].address));
 * await host.close();
 * ```
 * @module
 */
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
export {
  formatCounters,
  formatEvent,
  newCounters,
  type ServiceCounters,
  type ServiceEvent,
  type ServiceEventType,
} from "./events.js";
export { type BoundService, type HostOptions, ServiceHost, type ServiceSpec, serve } from "./host.js";
export {
  DEFAULT_LIMITS,
  DEFAULT_PORT_BASE,
  isServiceName,
  resolveLimits,
  SERVICE_NAMES,
  SERVICE_RFC,
  type ServiceLimits,
  type ServiceName,
  WELL_KNOWN_PORTS,
} from "./limits.js";
export * from "./protocol.js";
export { BUILTIN_QUOTES, MAX_QUOTES, MAX_QUOTES_FILE, parseQuotes, QuotesError } from "./quotes.js";
export { descriptorLimit, descriptorsExhausted, openDescriptors } from "./fds.js";
export { type SettleConn, type SettleEnd, settle } from "./linger.js";
export { sourceKey } from "./source.js";
export { RateLimiter, type RateLimits, TokenBucket, type Verdict } from "./ratelimit.js";
export * from "./tcp.js";
export * from "./udp.js";
