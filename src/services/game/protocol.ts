/**
 * The game's datagrams, pure: encode to bytes and decode from bytes, nothing else. Every datagram
 * starts with a version byte and a type byte; a datagram longer than {@link MAX_DATAGRAM}, with
 * another version, an unknown type, a wrong length or a bad field decodes to `undefined` (it is
 * never an exception), so hostile bytes cannot reach the server's state.
 *
 * A snapshot always carries the whole arena: the arena is capped at {@link MAX_WIDTH} x
 * {@link MAX_HEIGHT} cells and a cell is 4 bits (0 empty, 1..8 the trail of player 0..7), so the
 * largest snapshot, 8 players with 16-byte names, is 15 + 8 x 22 + 64 x 32 / 2 = 1215 bytes: one
 * datagram below the 1472 bytes that fit an Ethernet frame, never fragmented.
 *
 * @module
 */

/**
 * The protocol version: byte 0 of every datagram.
 * @example `encode({ type: "leave", token: 1 })[0] === VERSION // true`
 */
export const VERSION = 1;

/**
 * The largest datagram either side sends or accepts, in bytes.
 * @example `const p = await pc.readFrom(MAX_DATAGRAM + 1); // longer: drop it`
 */
export const MAX_DATAGRAM = 1400;

/**
 * Arena bounds (cells).
 * @example `new Arena(MAX_WIDTH, MAX_HEIGHT)`
 */
export const MAX_WIDTH = 64;
/**
 * Arena bounds (cells).
 * @example `new Arena(MAX_WIDTH, MAX_HEIGHT)`
 */
export const MAX_HEIGHT = 32;
/**
 * At most this many players in one match.
 * @example `await GameServer.listen("127.0.0.1:0", { maxPlayers: MAX_PLAYERS })`
 */
export const MAX_PLAYERS = 8;
/**
 * A player's name: 1 to 16 printable ASCII characters.
 * @example `name.length <= MAX_NAME`
 */
export const MAX_NAME = 16;

/**
 * Directions: up, right, down, left.
 * @example `const right: Dir = 1;`
 */
export type Dir = 0 | 1 | 2 | 3;

/**
 * What a match is doing.
 * @example `if (snapshot.phase === "over") console.log(resultOf(snapshot));`
 */
export type Phase = "lobby" | "countdown" | "running" | "over";
const PHASES: readonly Phase[] = ["lobby", "countdown", "running", "over"];

/**
 * Why the server refused a join.
 * @example `const r: RejectReason = "full";`
 */
export type RejectReason = "full" | "bad-name" | "name-taken" | "running";
const REASONS: readonly RejectReason[] = ["full", "bad-name", "name-taken", "running"];

/**
 * Message type bytes (byte 1).
 * @example `encode({ type: "leave", token: 1 })[1] === TYPE.leave // true`
 */
export const TYPE = {
  join: 1,
  input: 2,
  leave: 3,
  welcome: 10,
  reject: 11,
  snapshot: 12,
} as const;

/**
 * Client → server: asks for a place; resent until a welcome or a reject comes.
 * @example `encode({ type: "join", name: "alice" })`
 */
export interface Join {
  readonly type: "join";
  readonly name: string;
}
/**
 * Client → server: the latest steering input; resent until the server acknowledges `seq`.
 * @example `encode({ type: "input", token: welcome.token, seq: 1, dir: 1 })`
 */
export interface Input {
  readonly type: "input";
  /** The secret the welcome gave (a datagram without it changes nothing). */
  readonly token: number;
  /** Grows by one for each new input; the server keeps the highest. */
  readonly seq: number;
  readonly dir: Dir;
}
/**
 * Client → server: leaving now.
 * @example `encode({ type: "leave", token: welcome.token })`
 */
export interface Leave {
  readonly type: "leave";
  readonly token: number;
}
/**
 * Server → client: the place given.
 * @example `{ type: "welcome", token: 0x1234abcd, id: 0, width: 48, height: 24, tickHz: 20 }`
 */
export interface Welcome {
  readonly type: "welcome";
  readonly token: number;
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly tickHz: number;
}
/**
 * Server → client: no place.
 * @example `{ type: "reject", reason: "name-taken" }`
 */
export interface Reject {
  readonly type: "reject";
  readonly reason: RejectReason;
}
/**
 * One player as a snapshot shows it.
 * @example `{ id: 0, name: "alice", alive: true, x: 12, y: 4, dir: 1 }`
 */
export interface PlayerView {
  /** 0..7: the slot, also the trail's cell value minus one. */
  readonly id: number;
  readonly name: string;
  readonly alive: boolean;
  readonly x: number;
  readonly y: number;
  readonly dir: Dir;
}
/**
 * Server → client, every tick: the whole state.
 * @example `const s = decode(packet.data); if (s?.type === "snapshot") draw(s.cells);`
 */
export interface Snapshot {
  readonly type: "snapshot";
  /** The server's tick number; a client drops snapshots older than the newest it has. */
  readonly tick: number;
  readonly phase: Phase;
  /** Countdown: ticks left; over: the winner's id, or 255 for a draw; otherwise 0. */
  readonly arg: number;
  /** The highest input sequence number the server took from this client. */
  readonly ack: number;
  readonly width: number;
  readonly height: number;
  readonly players: readonly PlayerView[];
  /** width x height cells, row by row: 0 empty, 1 + id a trail. */
  readonly cells: Uint8Array;
}

/**
 * Any message.
 * @example `const m: Message | undefined = decode(packet.data);`
 */
export type Message = Join | Input | Leave | Welcome | Reject | Snapshot;

/**
 * The winner byte of a draw.
 * @example `snapshot.arg === DRAW ? "draw" : "a winner"`
 */
export const DRAW = 255;

const NAME = /^[\x21-\x7e][\x20-\x7e]{0,15}$/;

/**
 * True for a valid player name: 1 to 16 printable ASCII characters, not starting with a space.
 * @example `validName("alice") // true`
 */
export function validName(name: string): boolean {
  return NAME.test(name) && !name.endsWith(" ");
}

function header(type: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = VERSION;
  b[1] = type;
  return b;
}

/**
 * Encodes a message. Throws RangeError for a value out of its field's range (a programming
 * error: decoded and locally built messages are always in range).
 * @example `encode({ type: "input", token: 7, seq: 1, dir: 1 }).length // 11`
 */
export function encode(m: Message): Buffer {
  switch (m.type) {
    case "join": {
      if (!validName(m.name)) throw new RangeError(`bad player name ${JSON.stringify(m.name)}`);
      const b = header(TYPE.join, 3 + m.name.length);
      b[2] = m.name.length;
      b.write(m.name, 3, "latin1");
      return b;
    }
    case "input": {
      const b = header(TYPE.input, 11);
      b.writeUInt32BE(m.token, 2);
      b.writeUInt32BE(m.seq, 6);
      b[10] = m.dir;
      return b;
    }
    case "leave": {
      const b = header(TYPE.leave, 6);
      b.writeUInt32BE(m.token, 2);
      return b;
    }
    case "welcome": {
      const b = header(TYPE.welcome, 10);
      b.writeUInt32BE(m.token, 2);
      b[6] = m.id;
      b[7] = m.width;
      b[8] = m.height;
      b[9] = m.tickHz;
      return b;
    }
    case "reject": {
      const b = header(TYPE.reject, 3);
      b[2] = REASONS.indexOf(m.reason);
      return b;
    }
    case "snapshot":
      return encodeSnapshot(m);
  }
}

function encodeSnapshot(m: Snapshot): Buffer {
  if (m.players.length > MAX_PLAYERS) throw new RangeError("too many players");
  if (m.cells.length !== m.width * m.height) throw new RangeError("cells do not match the arena");
  const cellBytes = Math.ceil((m.width * m.height) / 2);
  const names = m.players.reduce((n, p) => n + p.name.length, 0);
  const b = header(TYPE.snapshot, 15 + 6 * m.players.length + names + cellBytes);
  b.writeUInt32BE(m.tick, 2);
  b[6] = PHASES.indexOf(m.phase);
  b[7] = m.arg;
  b.writeUInt32BE(m.ack, 8);
  b[12] = m.width;
  b[13] = m.height;
  b[14] = m.players.length;
  let o = 15;
  for (const p of m.players) {
    b[o] = p.id;
    b[o + 1] = (p.alive ? 1 : 0) | (p.dir << 1);
    b[o + 2] = p.x;
    b[o + 3] = p.y;
    b[o + 4] = p.name.length;
    o += 5;
    o += b.write(p.name, o, "latin1");
    b[o++] = 0; // reserved
  }
  for (let i = 0; i < m.cells.length; i++) {
    const v = m.cells[i]! & 0x0f;
    const k = o + (i >> 1);
    b[k] = b[k]! | (i & 1 ? v : v << 4);
  }
  return b;
}

/**
 * Decodes one datagram; `undefined` for anything that is not a well-formed message of this
 * version (never throws).
 * @example `decode(encode({ type: "leave", token: 9 }))?.type // "leave"`
 */
export function decode(b: Uint8Array): Message | undefined {
  if (b.length < 2 || b.length > MAX_DATAGRAM || b[0] !== VERSION) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (b[1]) {
    case TYPE.join: {
      const n = b[2];
      if (n === undefined || b.length !== 3 + n) return undefined;
      const name = Buffer.from(b.subarray(3)).toString("latin1");
      return validName(name) ? { type: "join", name } : undefined;
    }
    case TYPE.input: {
      const dir = b[10];
      if (b.length !== 11 || dir === undefined || dir > 3) return undefined;
      return { type: "input", token: v.getUint32(2), seq: v.getUint32(6), dir: dir as Dir };
    }
    case TYPE.leave:
      return b.length === 6 ? { type: "leave", token: v.getUint32(2) } : undefined;
    case TYPE.welcome: {
      if (b.length !== 10) return undefined;
      const [id, width, height, tickHz] = [b[6]!, b[7]!, b[8]!, b[9]!];
      if (id >= MAX_PLAYERS || !arena(width, height) || tickHz < 1 || tickHz > 100) return undefined;
      return { type: "welcome", token: v.getUint32(2), id, width, height, tickHz };
    }
    case TYPE.reject: {
      const reason = REASONS[b[2] ?? 255];
      return b.length === 3 && reason !== undefined ? { type: "reject", reason } : undefined;
    }
    case TYPE.snapshot:
      return decodeSnapshot(b, v);
    default:
      return undefined;
  }
}

function arena(width: number, height: number): boolean {
  return width >= 4 && width <= MAX_WIDTH && height >= 4 && height <= MAX_HEIGHT;
}

function decodeSnapshot(b: Uint8Array, v: DataView): Snapshot | undefined {
  if (b.length < 15) return undefined;
  const phase = PHASES[b[6]!];
  const [arg, width, height, count] = [b[7]!, b[12]!, b[13]!, b[14]!];
  if (phase === undefined || !arena(width, height) || count > MAX_PLAYERS) return undefined;
  const players: PlayerView[] = [];
  const seen = new Set<number>();
  let o = 15;
  for (let i = 0; i < count; i++) {
    if (o + 6 > b.length) return undefined;
    const [id, flags, x, y, n] = [b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!];
    if (id >= MAX_PLAYERS || seen.has(id) || flags > 7 || x >= width || y >= height) return undefined;
    if (n > MAX_NAME || o + 6 + n > b.length) return undefined;
    const name = Buffer.from(b.subarray(o + 5, o + 5 + n)).toString("latin1");
    if (!validName(name)) return undefined;
    seen.add(id);
    players.push({ id, name, alive: (flags & 1) === 1, dir: (flags >> 1) as Dir, x, y });
    o += 6 + n;
  }
  const cellCount = width * height;
  if (b.length !== o + Math.ceil(cellCount / 2)) return undefined;
  const cells = new Uint8Array(cellCount);
  for (let i = 0; i < cellCount; i++) {
    const byte = b[o + (i >> 1)]!;
    const c = i & 1 ? byte & 0x0f : byte >> 4;
    if (c > MAX_PLAYERS) return undefined;
    cells[i] = c;
  }
  if (phase === "over" && arg !== DRAW && !seen.has(arg)) return undefined;
  return {
    type: "snapshot",
    tick: v.getUint32(2),
    phase,
    arg,
    ack: v.getUint32(8),
    width,
    height,
    players,
    cells,
  };
}

/**
 * True when sequence number `a` is newer than `b` (32-bit serial arithmetic, RFC 1982 style, so a
 * long session wraps cleanly).
 * @example `newer(1, 0xffffffff) // true`
 */
export function newer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
