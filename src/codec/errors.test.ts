import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CodecError, FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";

describe("codec errors", () => {
  test("each class has its code, name and fields, and is a CodecError", () => {
    const big = new FrameTooLargeError("line longer than 8 bytes — raise maxLine", 8, 9);
    assert.ok(big instanceof CodecError && big instanceof Error);
    assert.deepEqual(
      [big.name, big.code, big.limit, big.size],
      ["FrameTooLargeError", "EFRAMETOOLARGE", 8, 9],
    );
    assert.equal(new FrameTooLargeError("x", 8).size, undefined);
    const bad = new MalformedFrameError("netstring length has a leading zero", 12, "fix the peer");
    assert.deepEqual([bad.name, bad.code, bad.offset], ["MalformedFrameError", "EMALFORMED", 12]);
    assert.equal(bad.message, "netstring length has a leading zero at byte offset 12 — fix the peer");
    const cut = new TruncatedFrameError("stream ended inside a line", 3);
    assert.deepEqual([cut.name, cut.code, cut.received], ["TruncatedFrameError", "ETRUNCATED", 3]);
    assert.match(cut.message, /^stream ended inside a line — /);
  });
});

describe("codec errors are the error model's", () => {
  test("the classes are those of src/errors (core readline and codecs share them)", async () => {
    const l0 = await import("../errors/index.js");
    assert.equal(FrameTooLargeError, l0.FrameTooLargeError);
    assert.equal(CodecError, l0.CodecError);
  });
});
