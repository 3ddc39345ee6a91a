/**
 * The authoritative game server: one UDP socket (`listenPacket`), one simulation stepped at a
 * fixed tick, a snapshot to every player each tick.
 *
 * Each datagram passes, in order: the size bound ({@link MAX_DATAGRAM}), the source's token
 * bucket (per address:port, plus one for all sources), then {@link decode}; whatever fails is
 * dropped and counted in {@link GameStats}, and nothing a datagram holds can throw out of the
 * receive loop. A player is its source address and port plus the secret token of its welcome:
 * an input or leave from another address, or with another token, changes nothing.
 *
 * Match flow: players join in the lobby; when `minPlayers` are in, a countdown starts (more may
 * join during it), then the match runs until at most one cycle lives; the result is broadcast
 * for `overMs` and the players still there go back to the lobby for the next match. A player not
 * heard from for `playerTimeoutMs` is removed (its cycle crashes).
 *
 * @module
 */
import { randomInt } from "node:crypto";
import { type IpEndpoint, listenPacket, type PacketConn } from "../../net/index.js";
import { RateLimiter } from "../rfc/ratelimit.js";
import {
  decode,
  DRAW,
  encode,
  type Message,
  MAX_DATAGRAM,
  MAX_PLAYERS,
  newer,
  type Phase,
  type RejectReason,
} from "./protocol.js";
import { Arena } from "./sim.js";

/**
 * Options of {@link GameServer.listen}; every field has a default.
 *
 * @example
 * ```ts
 * const opts: GameServerOptions = { minPlayers: 3, tickHz: 20, playerTimeoutMs: 3000 };
 * const server = await GameServer.listen("127.0.0.1:0", opts);
 * ```
 */
export interface GameServerOptions {
  /** Players a match waits for before its countdown (2..8, default 2). */
  readonly minPlayers?: number;
  /** Players at most (minPlayers..8, default 8). */
  readonly maxPlayers?: number;
  /** Simulation steps (and snapshots) per second (1..60, default 20). */
  readonly tickHz?: number;
  /** Arena size in cells (default 48 x 24; at most 64 x 32). */
  readonly width?: number;
  readonly height?: number;
  /** Countdown before a match, ms (default 2000). */
  readonly countdownMs?: number;
  /** How long the result is broadcast before the next lobby, ms (default 3000). */
  readonly overMs?: number;
  /** A player silent this long is removed, ms (default 3000). */
  readonly playerTimeoutMs?: number;
  /** Datagrams per second per source address:port (default 40, bursts of 40). */
  readonly sourceRate?: number;
  /** Datagrams per second from all sources together (default 2000). */
  readonly totalRate?: number;
  /** Called for joins, leaves, timeouts, match start and end. */
  readonly onEvent?: (e: GameEvent) => void;
}

/**
 * What happened, for logs.
 * @example `{ kind: "over", tick: 412, winner: "alice" }`
 */
export type GameEvent =
  | { kind: "join"; id: number; name: string; address: string }
  | { kind: "leave" | "timeout"; id: number; name: string; address: string }
  | { kind: "start"; tick: number; players: string[] }
  | { kind: "over"; tick: number; winner: string | undefined };

/**
 * Datagrams dropped and why (each counts once, at the first check it fails).
 * @example `server.stats.malformed // datagrams that did not decode`
 */
export interface GameStats {
  received: number;
  /** Longer than MAX_DATAGRAM. */
  oversize: number;
  /** Over the source's or the total rate. */
  limited: number;
  /** Not a message of this version (garbage, wrong version, bad fields). */
  malformed: number;
  /** An input/leave from an address that has no player. */
  unknown: number;
  /** An input/leave whose token is not the player's. */
  spoofed: number;
  /** A server-to-client message sent to the server. */
  unexpected: number;
  /** Joins refused. */
  rejected: number;
  /** Snapshots that could not be sent. */
  sendErrors: number;
  /** Snapshots sent. */
  snapshots: number;
}

interface Player {
  readonly id: number;
  readonly name: string;
  readonly token: number;
  readonly endpoint: IpEndpoint;
  readonly address: string;
  lastHeard: number;
  ack: number;
}

const clampInt = (name: string, v: number | undefined, dflt: number, lo: number, hi: number) => {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new RangeError(`${name} must be ${lo}..${hi}, got ${n}`);
  return n;
};

/**
 * A running game server.
 *
 * @example
 * ```ts
 * const server = await GameServer.listen("127.0.0.1:7777", { onEvent: (e) => console.log(e) });
 * // sockit game join 127.0.0.1:7777 --name alice
 * await server.close();
 * ```
 */
export class GameServer {
  readonly stats: GameStats = {
    received: 0,
    oversize: 0,
    limited: 0,
    malformed: 0,
    unknown: 0,
    spoofed: 0,
    unexpected: 0,
    rejected: 0,
    sendErrors: 0,
    snapshots: 0,
  };
  readonly #pc: PacketConn;
  readonly #players = new Map<string, Player>();
  readonly #limiter: RateLimiter;
  readonly #o: Required<Omit<GameServerOptions, "onEvent">>;
  readonly #onEvent: (e: GameEvent) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #loop: Promise<void>;
  #arena: Arena;
  #phase: Phase = "lobby";
  #phaseTicks = 0;
  #winner = DRAW;
  #tick = 0;
  #closed = false;

  private constructor(pc: PacketConn, o: GameServerOptions) {
    this.#pc = pc;
    const minPlayers = clampInt("minPlayers", o.minPlayers, 2, 2, MAX_PLAYERS);
    const tickHz = clampInt("tickHz", o.tickHz, 20, 1, 60);
    this.#o = {
      minPlayers,
      maxPlayers: clampInt("maxPlayers", o.maxPlayers, MAX_PLAYERS, minPlayers, MAX_PLAYERS),
      tickHz,
      width: o.width ?? 48,
      height: o.height ?? 24,
      countdownMs: clampInt("countdownMs", o.countdownMs, 2000, 0, 60_000),
      overMs: clampInt("overMs", o.overMs, 3000, 0, 60_000),
      playerTimeoutMs: clampInt("playerTimeoutMs", o.playerTimeoutMs, 3000, 100, 600_000),
      sourceRate: o.sourceRate ?? 40,
      totalRate: o.totalRate ?? 2000,
    };
    this.#arena = new Arena(this.#o.width, this.#o.height);
    this.#limiter = new RateLimiter({
      rate: this.#o.sourceRate,
      burst: this.#o.sourceRate,
      totalRate: this.#o.totalRate,
      maxSources: 1024,
    });
    this.#onEvent = o.onEvent ?? (() => {});
    this.#timer = setInterval(() => this.#step(), 1000 / tickHz);
    this.#loop = this.#receive();
  }

  /**
   * Binds `address` ("127.0.0.1:7777", "[::]:0") and starts the tick. Throws RangeError for
   * options out of range, OSError when the address cannot be bound.
   */
  static async listen(address: string, opts: GameServerOptions = {}): Promise<GameServer> {
    new Arena(opts.width ?? 48, opts.height ?? 24); // checks the size before binding
    const pc = await listenPacket("udp", address, { queueCount: 1024 });
    try {
      return new GameServer(pc, opts);
    } catch (err) {
      await pc.close();
      throw err;
    }
  }

  /** The bound address: `"127.0.0.1:7777"`. */
  get address(): string {
    return this.#pc.localAddress;
  }

  /** The bound port. */
  get port(): number {
    return this.#pc.port;
  }

  /** The current phase and tick. */
  get phase(): Phase {
    return this.#phase;
  }

  /** The server's tick number. */
  get tick(): number {
    return this.#tick;
  }

  /** The players' names by id. */
  players(): { id: number; name: string; address: string }[] {
    return [...this.#players.values()].map((p) => ({ id: p.id, name: p.name, address: p.address }));
  }

  /** Stops the tick and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#pc.close();
    await this.#loop;
  }

  async #receive(): Promise<void> {
    try {
      for await (const p of this.#pc) {
        this.stats.received++;
        try {
          this.#datagram(p.data, p.endpoint, p.address);
        } catch {
          // the decoder never throws; this guard keeps the loop alive should a bug ever do
          this.stats.malformed++;
        }
      }
    } catch {
      // the socket failed; close() still ends cleanly
    }
  }

  #datagram(data: Buffer, endpoint: IpEndpoint, address: string): void {
    if (data.length > MAX_DATAGRAM) {
      this.stats.oversize++;
      return;
    }
    if (this.#limiter.allow(address, performance.now()) !== "ok") {
      this.stats.limited++;
      return;
    }
    const m = decode(data);
    if (m === undefined) {
      this.stats.malformed++;
      return;
    }
    this.#message(m, endpoint, address);
  }

  #message(m: Message, endpoint: IpEndpoint, address: string): void {
    if (m.type === "join") return this.#join(m.name, endpoint, address);
    if (m.type !== "input" && m.type !== "leave") {
      this.stats.unexpected++;
      return;
    }
    const p = this.#players.get(address);
    if (p === undefined) {
      this.stats.unknown++;
      return;
    }
    if (p.token !== m.token) {
      this.stats.spoofed++;
      return;
    }
    p.lastHeard = performance.now();
    if (m.type === "leave") return this.#drop(p, "leave");
    if (newer(m.seq, p.ack)) {
      p.ack = m.seq;
      if (this.#phase === "running" || this.#phase === "countdown") this.#arena.steer(p.id, m.dir);
    }
  }

  #join(name: string, endpoint: IpEndpoint, address: string): void {
    const had = this.#players.get(address);
    if (had !== undefined) {
      // a resent join (the welcome was lost): the same place again
      if (had.name === name) this.#send(this.#welcome(had), had.endpoint);
      else this.#reject("name-taken", endpoint);
      return;
    }
    const names = [...this.#players.values()];
    if (this.#phase === "running" || this.#phase === "over") return this.#reject("running", endpoint);
    if (names.length >= this.#o.maxPlayers) return this.#reject("full", endpoint);
    if (names.some((p) => p.name === name)) return this.#reject("name-taken", endpoint);
    const used = new Set(names.map((p) => p.id));
    let id = 0;
    while (used.has(id)) id++;
    const p: Player = {
      id,
      name,
      token: randomInt(1, 2 ** 32 - 1),
      endpoint,
      address,
      lastHeard: performance.now(),
      ack: 0,
    };
    this.#players.set(address, p);
    this.#onEvent({ kind: "join", id, name, address });
    this.#send(this.#welcome(p), endpoint);
    this.#lobbyArena();
    if (this.#phase === "lobby" && this.#players.size >= this.#o.minPlayers) this.#enter("countdown");
  }

  #welcome(p: Player): Buffer {
    const { width, height, tickHz } = this.#o;
    return encode({ type: "welcome", token: p.token, id: p.id, width, height, tickHz });
  }

  #reject(reason: RejectReason, endpoint: IpEndpoint): void {
    this.stats.rejected++;
    this.#send(encode({ type: "reject", reason }), endpoint);
  }

  #drop(p: Player, kind: "leave" | "timeout"): void {
    this.#players.delete(p.address);
    this.#onEvent({ kind, id: p.id, name: p.name, address: p.address });
    if (this.#phase === "running") this.#arena.remove(p.id);
    else if (this.#phase !== "over") {
      this.#lobbyArena();
      if (this.#phase === "countdown" && this.#players.size < 2) this.#enter("lobby");
    }
  }

  /** Before a match: a fresh arena with every player at its start. */
  #lobbyArena(): void {
    if (this.#phase === "running" || this.#phase === "over") return;
    this.#arena = new Arena(this.#o.width, this.#o.height);
    for (const p of [...this.#players.values()].sort((a, b) => a.id - b.id)) this.#arena.add(p.id, p.name);
  }

  #enter(phase: Phase): void {
    this.#phase = phase;
    this.#phaseTicks = 0;
    if (phase === "lobby" || phase === "countdown") this.#lobbyArena();
  }

  #ticksOf(ms: number): number {
    return Math.round((ms * this.#o.tickHz) / 1000);
  }

  #step(): void {
    this.#tick = (this.#tick + 1) >>> 0;
    this.#phaseTicks++;
    const now = performance.now();
    for (const p of [...this.#players.values()])
      if (now - p.lastHeard > this.#o.playerTimeoutMs) this.#drop(p, "timeout");
    let arg = 0;
    switch (this.#phase) {
      case "lobby":
        if (this.#players.size >= this.#o.minPlayers) this.#enter("countdown");
        break;
      case "countdown": {
        const left = this.#ticksOf(this.#o.countdownMs) - this.#phaseTicks;
        if (left > 0) {
          arg = Math.min(255, left);
          break;
        }
        this.#enter("running");
        this.#onEvent({
          kind: "start",
          tick: this.#tick,
          players: [...this.#players.values()].map((p) => p.name),
        });
        break;
      }
      case "running": {
        this.#arena.step();
        const r = this.#arena.result();
        if (r !== undefined) {
          this.#winner = r;
          this.#enter("over");
          const winner = r === DRAW ? undefined : this.#arena.cycles.get(r)?.name;
          this.#onEvent({ kind: "over", tick: this.#tick, winner });
          arg = r;
        }
        break;
      }
      case "over":
        arg = this.#winner;
        if (this.#phaseTicks >= this.#ticksOf(this.#o.overMs)) {
          this.#enter("lobby");
          arg = 0;
        }
        break;
    }
    this.#broadcast(arg);
  }

  #broadcast(arg: number): void {
    if (this.#players.size === 0) return;
    const a = this.#arena;
    const b = encode({
      type: "snapshot",
      tick: this.#tick,
      phase: this.#phase,
      arg,
      ack: 0,
      width: a.width,
      height: a.height,
      players: a.view(),
      cells: a.cells,
    });
    for (const p of this.#players.values()) {
      const mine = Buffer.from(b);
      mine.writeUInt32BE(p.ack, 8); // the only per-player field
      this.#send(mine, p.endpoint, true);
    }
  }

  #send(b: Buffer, to: IpEndpoint, snapshot = false): void {
    if (this.#closed) return;
    this.#pc.writeTo(b, to).then(
      () => {
        if (snapshot) this.stats.snapshots++;
      },
      () => {
        this.stats.sendErrors++;
      },
    );
  }
}
