/** The simulation's rules, deterministic and without sockets. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { botMove } from "./bot.js";
import { DRAW, type Snapshot } from "./protocol.js";
import { Arena } from "./sim.js";

function snapshotOf(a: Arena, tick: number): Snapshot {
  const players = a.view();
  return {
    type: "snapshot",
    tick,
    phase: "running",
    arg: 0,
    ack: 0,
    width: a.width,
    height: a.height,
    players,
    cells: a.cells,
  };
}

test("two cycles driving straight at each other meet in the middle: a draw", () => {
  const a = new Arena(48, 24);
  a.add(0, "alice");
  a.add(1, "bob");
  let ticks = 0;
  while (a.result() === undefined && ticks < 100) {
    a.step();
    ticks++;
  }
  assert.equal(a.result(), DRAW);
  assert.equal(ticks, 12, "12 = 23 cells apart, half each, and one more into the other's trail");
});

test("a cycle that turns away survives the other's crash into the wall and wins", () => {
  const a = new Arena(16, 10);
  a.add(0, "alice"); // (4, 2) facing right
  a.add(1, "bob"); // (11, 2) facing left
  a.steer(0, 2); // down
  a.steer(1, 0); // up: into the wall after two steps
  for (let i = 0; i < 3; i++) a.step();
  assert.equal(a.result(), 0);
  assert.equal(a.cycles.get(1)!.alive, false);
  assert.equal(a.cells[4 * 16 + 4], 1, "alice's trail");
});

test("turning back onto itself is ignored (the cycle keeps going)", () => {
  const a = new Arena(16, 10);
  a.add(0, "alice");
  a.add(1, "bob");
  a.steer(0, 3); // alice faces right; left would be a U-turn
  a.step();
  assert.deepEqual([a.cycles.get(0)!.x, a.cycles.get(0)!.dir], [5, 1]);
});

test("the same inputs give the same match (deterministic), and bots outlive a straight driver", () => {
  const play = () => {
    const a = new Arena(48, 24);
    for (let id = 0; id < 3; id++) a.add(id, `p${id}`);
    let tick = 0;
    while (a.result() === undefined && tick < 2000) {
      const s = snapshotOf(a, tick);
      a.steer(0, botMove(s, 0));
      a.steer(1, botMove(s, 1));
      a.step();
      tick++;
    }
    return { tick, result: a.result(), cells: Buffer.from(a.cells).toString("hex") };
  };
  const one = play();
  assert.deepEqual(play(), one);
  assert.notEqual(one.result, 2, "player 2 never steers and must not win");
  assert.ok(one.tick > 30, `the bots kept going for ${one.tick} ticks`);
});
