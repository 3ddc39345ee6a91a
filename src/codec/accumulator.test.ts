import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Accumulator } from "./accumulator.js";

describe("Accumulator", () => {
  test("appends copies, concatenates into a fresh buffer and empties", () => {
    const acc = new Accumulator(100);
    const src = Buffer.from("hello");
    acc.append(src, 1, 4);
    src.fill(0);
    assert.equal(acc.length, 3);
    assert.equal(acc.view().toString(), "ell");
    assert.equal(acc.at(0), 0x65);
    const out = acc.concat(Buffer.from("o!"), 0, 1);
    assert.equal(out.toString(), "ello");
    assert.equal(acc.length, 0);
  });

  test("grows past its doubling cap exactly, and releases large buffers", () => {
    const acc = new Accumulator(10);
    for (let i = 0; i < 100; i++) acc.append(Buffer.of(i));
    assert.equal(acc.length, 100);
    assert.deepEqual(
      [...acc.view()],
      Array.from({ length: 100 }, (_, i) => i),
    );
    acc.append(Buffer.alloc(10_000));
    acc.clear();
    assert.equal(acc.length, 0);
    acc.release();
    assert.equal(acc.view().length, 0);
  });
});
