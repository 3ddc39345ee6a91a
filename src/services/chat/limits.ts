/**
 * The chat server's limits and their defaults.
 *
 * @module
 */

/**
 * Limits of a chat server (times in ms).
 *
 * @example
 * ```ts
 * const limits: ChatLimits = { ...DEFAULT_CHAT_LIMITS, maxClients: 100 };
 * ```
 */
export interface ChatLimits {
  /** Connections at once; one more is told `ERROR :Closing Link … (Too many connections)`. */
  readonly maxClients: number;
  /** Connections at once from one address (IPv6: one /64). */
  readonly maxPerSource: number;
  /** An IRC client must finish NICK/USER within this; plain users count as registered at their first line. */
  readonly registrationMs: number;
  /** An IRC client silent this long is sent PING. */
  readonly pingMs: number;
  /** …and dropped (`Ping timeout`) if it still says nothing this long after. */
  readonly pongMs: number;
  /** Bytes queued for one client; past it the client is dropped (`SendQ exceeded`). */
  readonly sendQueueBytes: number;
  /** Lines per second a client may send on average (flood control token bucket). */
  readonly floodRate: number;
  /** Lines a client may send at once before it is slowed down to `floodRate`. */
  readonly floodBurst: number;
  /** Lines read but held back by flood control; past it the client is dropped (`Excess Flood`). */
  readonly floodMaxPending: number;
  /** At shutdown, how long clients get to read the goodbye before they are cut off. */
  readonly graceMs: number;
}

/**
 * The defaults: 1024 clients, 64 per address, 60 s to register, PING after 120 s of silence and
 * drop 60 s later, 256 KiB send queue, 10 lines/s with bursts of 20, at most 200 lines held back,
 * 5 s grace at shutdown.
 *
 * @example `DEFAULT_CHAT_LIMITS.floodRate // 10`
 */
export const DEFAULT_CHAT_LIMITS: ChatLimits = {
  maxClients: 1024,
  maxPerSource: 64,
  registrationMs: 60_000,
  pingMs: 120_000,
  pongMs: 60_000,
  sendQueueBytes: 256 * 1024,
  floodRate: 10,
  floodBurst: 20,
  floodMaxPending: 200,
  graceMs: 5_000,
};
