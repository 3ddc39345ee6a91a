/**
 * `sockit game join`'s screen: the arena as text, pure (a snapshot in, a frame out), and the keys.
 * Walls are `#`, each player's trail is its number (1..8), a living cycle's head `@` (a crashed
 * one `X`); below the arena one line per player. Colour (one per player) only when asked.
 *
 * @module
 */
import { DRAW, type Dir, type Snapshot } from "../../services/game/index.js";

/** Foreground colours of players 1..8. */
const COLORS = [31, 32, 33, 34, 35, 36, 91, 93];

/** What a key does. */
export type KeyAction = { kind: "steer"; dir: Dir } | { kind: "quit" };

const KEYS: Readonly<Record<string, KeyAction>> = {
  "\x1b[A": { kind: "steer", dir: 0 },
  "\x1b[C": { kind: "steer", dir: 1 },
  "\x1b[B": { kind: "steer", dir: 2 },
  "\x1b[D": { kind: "steer", dir: 3 },
  "\x1bOA": { kind: "steer", dir: 0 },
  "\x1bOC": { kind: "steer", dir: 1 },
  "\x1bOB": { kind: "steer", dir: 2 },
  "\x1bOD": { kind: "steer", dir: 3 },
  w: { kind: "steer", dir: 0 },
  d: { kind: "steer", dir: 1 },
  s: { kind: "steer", dir: 2 },
  a: { kind: "steer", dir: 3 },
  q: { kind: "quit" },
  "\x03": { kind: "quit" }, // Ctrl-C in raw mode
  "\x04": { kind: "quit" }, // Ctrl-D
};

/**
 * The actions in a chunk of raw terminal input (arrows, WASD in either case, q/Ctrl-C/Ctrl-D to
 * quit); other bytes are ignored.
 * @example `parseKeys("\x1b[Aq") // [{ kind: "steer", dir: 0 }, { kind: "quit" }]`
 */
export function parseKeys(text: string): KeyAction[] {
  const out: KeyAction[] = [];
  for (let i = 0; i < text.length;) {
    const three = text.slice(i, i + 3);
    const k3 = KEYS[three];
    if (k3 !== undefined && three.length === 3) {
      out.push(k3);
      i += 3;
      continue;
    }
    const k1 = KEYS[text[i]!.toLowerCase()];
    if (k1 !== undefined) out.push(k1);
    i++;
  }
  return out;
}

/**
 * The result as the one line printed at the end: `result: winner alice` or `result: draw`.
 * @example `resultLine(snapshot) // "result: winner alice"`
 */
export function resultLine(s: Snapshot): string {
  if (s.phase !== "over" || s.arg === DRAW) return "result: draw";
  return `result: winner ${s.players.find((p) => p.id === s.arg)?.name ?? "?"}`;
}

function status(s: Snapshot, tickHz: number): string {
  switch (s.phase) {
    case "lobby":
      return "waiting for players";
    case "countdown":
      return `starting in ${Math.ceil(s.arg / tickHz)}`;
    case "running":
      return "running: arrows or WASD steer, q quits";
    case "over":
      return resultLine(s).replace("result: ", "over: ");
  }
}

/**
 * One frame: a title line, the arena inside its walls, one line per player; lines joined with
 * CRLF (the terminal is in raw mode). `me` is this player's id.
 * @example `renderFrame(snapshot, 0, { color: false, tickHz: 20, name: "alice" }).includes("#") // true`
 */
export function renderFrame(
  s: Snapshot,
  me: number,
  o: { readonly color: boolean; readonly tickHz: number; readonly name: string },
): string {
  const paint = (id: number, ch: string) => (o.color ? `\x1b[${COLORS[id]}m${ch}\x1b[0m` : ch);
  const heads = new Map(s.players.map((p) => [p.y * s.width + p.x, p]));
  const lines = [`sockit game  ${o.name} (player ${me + 1})  tick ${s.tick}  ${status(s, o.tickHz)}`];
  const wall = "#".repeat(s.width + 2);
  lines.push(wall);
  for (let y = 0; y < s.height; y++) {
    let row = "#";
    for (let x = 0; x < s.width; x++) {
      const k = y * s.width + x;
      const head = heads.get(k);
      const c = s.cells[k]!;
      if (head !== undefined) row += paint(head.id, head.alive ? "@" : "X");
      else row += c === 0 ? " " : paint(c - 1, String(c));
    }
    lines.push(`${row}#`);
  }
  lines.push(wall);
  for (const p of s.players) {
    const you = p.id === me ? " (you)" : "";
    lines.push(`${paint(p.id, String(p.id + 1))} ${p.name}${you}: ${p.alive ? "alive" : "crashed"}`);
  }
  return lines.join("\x1b[K\r\n") + "\x1b[K\x1b[J";
}
