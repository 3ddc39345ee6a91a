/** The game screen and keys, pure: a snapshot in, text out; raw key bytes in, actions out. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Arena, type Snapshot } from "../../services/game/index.js";
import { parseKeys, renderFrame, resultLine } from "./render.js";

function snapshot(phase: Snapshot["phase"], arg = 0): Snapshot {
  const a = new Arena(10, 8);
  a.add(0, "alice");
  a.add(1, "bob");
  a.step();
  return {
    type: "snapshot",
    tick: 9,
    phase,
    arg,
    ack: 0,
    width: 10,
    height: 8,
    players: a.view(),
    cells: a.cells,
  };
}

test("parseKeys: arrows (CSI and SS3), WASD in either case, q / Ctrl-C / Ctrl-D quit, the rest ignored", () => {
  assert.deepEqual(
    parseKeys("\x1b[A\x1b[C\x1bOB\x1b[DwDsAx"),
    [0, 1, 2, 3, 0, 1, 2, 3].map((dir) => ({ kind: "steer", dir })),
  );
  for (const k of ["q", "Q", "\x03", "\x04"]) assert.deepEqual(parseKeys(k), [{ kind: "quit" }]);
  assert.deepEqual(parseKeys("\x1b[Z1 "), []);
});

test("renderFrame without colour: walls, trails as player numbers, heads, one line per player", () => {
  const f = renderFrame(snapshot("running"), 1, { color: false, tickHz: 20, name: "bob" });
  assert.ok(!f.includes("\x1b[3"), "no colour codes");
  const lines = f.split("\x1b[K\r\n");
  assert.match(lines[0]!, /bob \(player 2\)\s+tick 9\s+running/);
  assert.equal(lines[1], "#".repeat(12));
  assert.equal(lines[2 + 8]!, "#".repeat(12));
  // alice started at (2, 1) facing right and moved to (3, 1); bob from (7, 1) to (6, 1)
  assert.equal(lines[3], "#  1@  @2  #");
  assert.match(lines[11]!, /^1 alice: alive$/);
  assert.match(lines[12]!, /^2 bob \(you\): alive/);
});

test("renderFrame with colour paints each player's trail and head in its colour", () => {
  const f = renderFrame(snapshot("running"), 0, { color: true, tickHz: 20, name: "alice" });
  assert.ok(f.includes("\x1b[31m1\x1b[0m\x1b[31m@\x1b[0m"), JSON.stringify(f));
  assert.ok(f.includes("\x1b[32m@\x1b[0m\x1b[32m2\x1b[0m"));
});

test("the status line and the result line say who won", () => {
  assert.match(
    renderFrame(snapshot("countdown", 39), 0, { color: false, tickHz: 20, name: "alice" }),
    /starting in 2/,
  );
  assert.match(
    renderFrame(snapshot("lobby"), 0, { color: false, tickHz: 20, name: "alice" }),
    /waiting for players/,
  );
  assert.equal(resultLine(snapshot("over", 1)), "result: winner bob");
  assert.equal(resultLine(snapshot("over", 255)), "result: draw");
  assert.match(
    renderFrame(snapshot("over", 0), 0, { color: false, tickHz: 20, name: "alice" }),
    /over: winner alice/,
  );
});
