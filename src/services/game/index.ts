/**
 * A light-cycle arena for 2 to 8 players over UDP (`sockit game serve` / `sockit game join`): an
 * authoritative server steps a deterministic simulation at a fixed tick and sends every player a
 * snapshot each tick; clients send sequenced inputs. docs/game.md describes the protocol.
 *
 * @example
 * ```ts
 * const server = await GameServer.listen("127.0.0.1:0", { minPlayers: 2 });
 * const a = await GameClient.join(server.address, { name: "alice" });
 * const b = await GameClient.join(server.address, { name: "bob" });
 * let s = await a.next();
 * while (s.phase !== "over") {
 *   a.steer(botMove(s, a.welcome.id));
 *   s = await a.next();
 * }
 * await Promise.all([a.close(), b.close(), server.close()]);
 * ```
 * @module
 */
export { botMove } from "./bot.js";
export {
  type ClientStats,
  GameClient,
  type GameClientOptions,
  HEARTBEAT_MS,
  JOIN_RESEND_MS,
} from "./client.js";
export {
  decode,
  type Dir,
  DRAW,
  encode,
  type Input,
  type Join,
  type Leave,
  MAX_DATAGRAM,
  MAX_HEIGHT,
  MAX_NAME,
  MAX_PLAYERS,
  MAX_WIDTH,
  type Message,
  newer,
  type Phase,
  type PlayerView,
  type Reject,
  type RejectReason,
  type Snapshot,
  TYPE,
  validName,
  VERSION,
  type Welcome,
} from "./protocol.js";
export { type GameEvent, GameServer, type GameServerOptions, type GameStats } from "./server.js";
export { Arena, type Cycle, DX, DY } from "./sim.js";
