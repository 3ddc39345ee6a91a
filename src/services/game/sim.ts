/**
 * The light-cycle simulation, pure and deterministic: the same players and the same inputs at
 * the same ticks give the same match. No sockets, no timers, no randomness: the server calls
 * {@link Arena.step} once per tick (20 Hz by default) and sends what {@link Arena.view} shows.
 *
 * Rules: each living cycle moves one cell per tick in its direction and leaves its trail; a
 * cycle that turns back on itself keeps going straight; a cycle that moves into the wall, any
 * trail (its own too) or the cell another cycle enters in the same tick crashes. When at most one
 * cycle is left the match is over: the last one alive wins, none alive is a draw.
 *
 * @module
 */
import { type Dir, DRAW, MAX_HEIGHT, MAX_PLAYERS, MAX_WIDTH, type PlayerView } from "./protocol.js";

/**
 * Cell offsets of each direction (up, right, down, left).
 * @example `const next = [x + DX[dir]!, y + DY[dir]!];`
 */
export const DX: readonly number[] = [0, 1, 0, -1];
/**
 * Cell offsets of each direction (up, right, down, left).
 * @example `const next = [x + DX[dir]!, y + DY[dir]!];`
 */
export const DY: readonly number[] = [-1, 0, 1, 0];

/**
 * A cycle in the arena.
 * @example `const c: Cycle = arena.add(0, "alice"); c.alive // true`
 */
export interface Cycle {
  readonly id: number;
  readonly name: string;
  alive: boolean;
  x: number;
  y: number;
  dir: Dir;
  /** The direction asked for, taken at the next step. */
  next: Dir;
}

/**
 * The arena of one match.
 *
 * @example
 * ```ts
 * const a = new Arena(48, 24);
 * a.add(0, "alice");
 * a.add(1, "bob");
 * while (a.result() === undefined) a.step();
 * a.result(); // 255: a draw (they meet head-on in the middle)
 * ```
 */
export class Arena {
  readonly width: number;
  readonly height: number;
  /** Cells row by row: 0 empty, 1 + id a trail. */
  readonly cells: Uint8Array;
  readonly cycles = new Map<number, Cycle>();

  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || width < 8 || width > MAX_WIDTH)
      throw new RangeError(`width must be 8..${MAX_WIDTH}, got ${width}`);
    if (!Number.isInteger(height) || height < 8 || height > MAX_HEIGHT)
      throw new RangeError(`height must be 8..${MAX_HEIGHT}, got ${height}`);
    this.width = width;
    this.height = height;
    this.cells = new Uint8Array(width * height);
  }

  /**
   * Places player `id` (0..7) at its start: slots alternate between the left and right thirds,
   * spread over the height, facing the middle.
   */
  add(id: number, name: string): Cycle {
    if (!Number.isInteger(id) || id < 0 || id >= MAX_PLAYERS) throw new RangeError(`bad player id ${id}`);
    const row = Math.floor(id / 2);
    const left = id % 2 === 0;
    const x = left ? Math.floor(this.width / 4) : this.width - 1 - Math.floor(this.width / 4);
    const y = Math.floor(((row + 1) * this.height) / 5);
    const dir: Dir = left ? 1 : 3;
    const c: Cycle = { id, name, alive: true, x, y, dir, next: dir };
    this.cycles.set(id, c);
    this.cells[y * this.width + x] = id + 1;
    return c;
  }

  /** Steers player `id` (ignored for a dead or unknown one). */
  steer(id: number, dir: Dir): void {
    const c = this.cycles.get(id);
    if (c?.alive) c.next = dir;
  }

  /** A player left: its cycle stops (crashes); its trail stays. */
  remove(id: number): void {
    const c = this.cycles.get(id);
    if (c) c.alive = false;
  }

  /** True when (x, y) is inside and empty. */
  free(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height && this.cells[y * this.width + x] === 0;
  }

  /** One tick: every living cycle moves one cell; crashes are decided together. */
  step(): void {
    const moving = [...this.cycles.values()].filter((c) => c.alive);
    const target = new Map<number, number>();
    for (const c of moving) {
      if ((c.next + 2) % 4 !== c.dir) c.dir = c.next;
      const [x, y] = [c.x + DX[c.dir]!, c.y + DY[c.dir]!];
      c.x = x;
      c.y = y;
      if (!this.free(x, y)) c.alive = false;
      else {
        const k = y * this.width + x;
        target.set(k, (target.get(k) ?? 0) + 1);
      }
    }
    for (const c of moving) {
      if (!c.alive) continue;
      const k = c.y * this.width + c.x;
      if (target.get(k)! > 1) c.alive = false;
    }
    for (const c of moving) {
      const k = c.y * this.width + c.x;
      if (c.alive || (this.free(c.x, c.y) && target.get(k) !== undefined)) this.cells[k] = c.id + 1;
      if (!c.alive) {
        // a crashed cycle is shown where it last stood
        c.x = Math.min(this.width - 1, Math.max(0, c.x - DX[c.dir]!));
        c.y = Math.min(this.height - 1, Math.max(0, c.y - DY[c.dir]!));
      }
    }
  }

  /** Living cycles. */
  alive(): number {
    let n = 0;
    for (const c of this.cycles.values()) if (c.alive) n++;
    return n;
  }

  /** `undefined` while two or more cycles live; else the winner's id or {@link DRAW}. */
  result(): number | undefined {
    const living = [...this.cycles.values()].filter((c) => c.alive);
    if (living.length > 1) return undefined;
    return living.length === 1 ? living[0]!.id : DRAW;
  }

  /** The players as a snapshot shows them, by id. */
  view(): PlayerView[] {
    return [...this.cycles.values()]
      .sort((a, b) => a.id - b.id)
      .map((c) => ({ id: c.id, name: c.name, alive: c.alive, x: c.x, y: c.y, dir: c.dir }));
  }
}
