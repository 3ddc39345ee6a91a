import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Fifo } from "./fifo.js";

test("Fifo keeps order through pushes, shifts and front replacements", () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  q.push(1);
  q.push(2);
  q.push(3);
  assert.equal(q.length, 3);
  assert.equal(q.at(), 1);
  assert.equal(q.at(2), 3);
  q.replaceFront(10);
  assert.equal(q.shift(), 10);
  assert.deepEqual(q.drain(), [2, 3]);
  assert.equal(q.length, 0);
});

test("Fifo behaves as an array queue for any sequence of operations (and compacts)", () => {
  const seed = Number(process.env.FC_SEED ?? Date.now());
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant("shift" as const), fc.integer({ min: 0, max: 3000 })), {
        maxLength: 6000,
      }),
      (ops) => {
        const q = new Fifo<number>();
        const model: number[] = [];
        for (const op of ops) {
          if (op === "shift") assert.equal(q.shift(), model.shift());
          else {
            // pushes in bursts so the front grows past the compaction point
            for (let i = 0; i < (op % 3) + 1; i++) {
              q.push(op + i);
              model.push(op + i);
            }
          }
          assert.equal(q.length, model.length);
          assert.equal(q.at(), model[0]);
        }
      },
    ),
    { seed, numRuns: 100 },
  );
});
