/**
 * Chat: an IRC server (RFC 1459/2812 subset) that also welcomes people typing into `nc`, in the
 * same rooms — {@link serveChat} — with the pure IRC wire format ({@link parseLine},
 * {@link formatMessage}, {@link LineReader}, {@link ircLower}) and the transport-free
 * {@link ChatHub} it stands on.
 *
 * @example
 * ```ts
 * import { serveChat } from "sockit/services/chat";
 * const server = await serveChat({ port: 0 });
 * console.log(`irc://${server.address}`);
 * await server.close();
 * ```
 * @module
 */
export {
  type ChatEvent,
  ChatConnections,
  type ConnectionsOptions,
  type ServeOptions,
} from "./connections.js";
export { escapeLine } from "./escape.js";
export {
  type ChatChannel,
  ChatHub,
  type ChatMember,
  type HistoryEntry,
  type HubEvent,
  type HubLink,
  type HubOptions,
  infoOf,
  type MemberInfo,
  prefixOf,
} from "./hub.js";
export { type ChatLimits, DEFAULT_CHAT_LIMITS } from "./limits.js";
export {
  CHANNELLEN,
  type ChatProtocolCode,
  ChatProtocolError,
  cutBytes,
  formatMessage,
  type IrcMessage,
  ircLower,
  isValidChannel,
  isValidNick,
  LineReader,
  MAX_LINE,
  NICKLEN,
  parseLine,
  type ReaderItem,
} from "./protocol.js";
export {
  DEFAULT_NETWORK_EXPIRY_MS,
  joinRedisNetwork,
  redisTarget,
  RedisNetwork,
  type RedisNetworkOptions,
} from "./redis.js";
export { ChatServer, type ChatServerOptions, DEFAULT_CHAT_PORT, serveChat } from "./server.js";
export {
  CHAT_VERSION,
  ChatSession,
  PLAIN_DEFAULT_ROOM,
  renderPlain,
  type SessionIo,
  type SessionShared,
} from "./session.js";
