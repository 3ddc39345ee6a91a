/**
 * A simple player for tests and demos: it keeps going straight while that leaves room, and
 * otherwise turns toward the side with the most free cells (a bounded flood fill), so it avoids
 * walls and trails. Pure: a snapshot in, a direction out.
 *
 * @module
 */
import type { Dir, Snapshot } from "./protocol.js";
import { DX, DY } from "./sim.js";

/** Cells a flood fill counts at most (bounds the work per tick). */
const FILL_LIMIT = 400;

function room(s: Snapshot, busy: Uint8Array, x0: number, y0: number): number {
  const free = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < s.width && y < s.height && busy[y * s.width + x] === 0;
  if (!free(x0, y0)) return 0;
  const seen = new Uint8Array(s.width * s.height);
  const stack = [y0 * s.width + x0];
  seen[stack[0]!] = 1;
  let n = 0;
  while (stack.length > 0 && n < FILL_LIMIT) {
    const k = stack.pop()!;
    n++;
    const [x, y] = [k % s.width, Math.floor(k / s.width)];
    for (let d = 0; d < 4; d++) {
      const [nx, ny] = [x + DX[d]!, y + DY[d]!];
      const nk = ny * s.width + nx;
      if (free(nx, ny) && seen[nk] === 0) {
        seen[nk] = 1;
        stack.push(nk);
      }
    }
  }
  return n;
}

/**
 * The direction the bot takes for player `id` in snapshot `s` (its current one when it is not
 * in the snapshot or not alive). Cells next to another living cycle's head count as taken.
 * @example `const dir = botMove(snapshot, welcome.id); client.steer(dir);`
 */
export function botMove(s: Snapshot, id: number): Dir {
  const me = s.players.find((p) => p.id === id);
  if (me === undefined || !me.alive) return me?.dir ?? 0;
  const busy = Uint8Array.from(s.cells);
  for (const p of s.players) {
    if (p.id === id || !p.alive) continue;
    for (let d = 0; d < 4; d++) {
      const [x, y] = [p.x + DX[d]!, p.y + DY[d]!];
      if (x >= 0 && y >= 0 && x < s.width && y < s.height) busy[y * s.width + x] = 9;
    }
  }
  let best: Dir = me.dir;
  let bestRoom = -1;
  for (const turn of [0, 1, 3]) {
    const d = ((me.dir + turn) % 4) as Dir;
    const r = room(s, busy, me.x + DX[d]!, me.y + DY[d]!);
    // straight on wins ties and anything nearly as roomy: fewer turns, fewer surprises
    const score = turn === 0 && r >= Math.min(FILL_LIMIT, 40) ? FILL_LIMIT + 1 : r;
    if (score > bestRoom) {
      best = d;
      bestRoom = score;
    }
  }
  return best;
}
