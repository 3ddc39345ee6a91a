/**
 * Chapter 6: speaking the game's protocol (docs/game.md) by hand over UDP. It joins a
 * `sockit game serve` as a player, reads its welcome and first snapshot field by field (every
 * integer big-endian), prints them, and leaves. Join is resent every 200 ms until an answer:
 * over UDP a datagram may be lost, and nothing else would notice.
 *
 * Run:   npm run build && node build/examples/06-protocols/game-peek.js HOST PORT [NAME]
 * Pair:  sockit game serve --host 127.0.0.1     (UDP port 7777)
 */
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "7777", name = "ada"] = process.argv.slice(2);
const VERSION = 1;
const [JOIN, LEAVE, WELCOME, REJECT, SNAPSHOT] = [1, 3, 10, 11, 12];
const PHASES = ["lobby", "countdown", "running", "over"];
const DIRS = ["up", "right", "down", "left"];

const game = await dial("udp", `${host}:${port}`); // a fixed peer: only its datagrams reach us

/** The next datagram of `type` from the server, or undefined after `ms` without one. */
async function next(type: number, ms: number): Promise<Buffer | undefined> {
  const signal = AbortSignal.timeout(ms);
  try {
    for (;;) {
      const d = await game.read(1500, { signal });
      if (d.length >= 2 && d[0] === VERSION && (d[1] === type || d[1] === REJECT)) return d;
    }
  } catch {
    return undefined; // the time is up
  }
}

// #region join
// JOIN: version | type | name length | name
const join = Buffer.concat([Buffer.from([VERSION, JOIN, name.length]), Buffer.from(name, "latin1")]);
let welcome: Buffer | undefined;
for (let tries = 1; welcome === undefined && tries <= 25; tries++) {
  await game.write(join);
  welcome = await next(WELCOME, 200); // no answer in 200 ms: send it again
}
if (welcome === undefined) throw new Error(`no answer from ${host}:${port}: is a game server there?`);
if (welcome[1] === REJECT)
  throw new Error(`refused, reason ${welcome[2]} (0 full, 1 bad name, 2 name taken, 3 match running)`);
// WELCOME: version | type | token (4) | id | width | height | tick Hz
const token = welcome.readUInt32BE(2);
const [id, width, height, hz] = [welcome[6]!, welcome[7]!, welcome[8]!, welcome[9]!];
console.log(`welcome: ${welcome.length} bytes, player id ${id}, arena ${width}x${height}, ${hz} Hz`);
// #endregion join

// #region snapshot
const snap = await next(SNAPSHOT, 2000);
if (snap === undefined || snap[1] !== SNAPSHOT) throw new Error("no snapshot within 2 s");
const tick = snap.readUInt32BE(2);
const phase = PHASES[snap[6]!];
const ack = snap.readUInt32BE(8);
const count = snap[14]!;
console.log(`snapshot: ${snap.length} bytes, tick ${tick}, phase ${phase}, ack ${ack}, ${count} player(s)`);
let at = 15;
let names = 0;
for (let i = 0; i < count; i++) {
  // per player: id | flags (bit 0 alive, bits 1-2 dir) | x | y | name length | name | 0
  const [pid, flags, x, y, n] = [snap[at]!, snap[at + 1]!, snap[at + 2]!, snap[at + 3]!, snap[at + 4]!];
  const who = snap.toString("latin1", at + 5, at + 5 + n);
  const alive = flags & 1 ? "alive" : "out";
  console.log(
    `  player ${pid} "${who}"${pid === id ? " (me)" : ""}: ${alive}, at (${x}, ${y}), heading ${DIRS[(flags >> 1) & 3]}`,
  );
  at += 6 + n;
  names += n;
}
const cells = Math.ceil((snap[12]! * snap[13]!) / 2); // 4 bits a cell
console.log(
  `size: 15 + ${count} x 6 + ${names} (names) + ${cells} (cells) = ${15 + count * 6 + names + cells}`,
);
// #endregion snapshot

// #region leave
// LEAVE: version | type | token — the token proves it is us
const leave = Buffer.alloc(6);
leave.writeUInt8(VERSION, 0);
leave.writeUInt8(LEAVE, 1);
leave.writeUInt32BE(token, 2);
await game.write(leave);
console.log("left");
// #endregion leave
await game.close();
