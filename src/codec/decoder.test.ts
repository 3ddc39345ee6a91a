import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BaseDecoder, checkMaxFrame } from "./decoder.js";
import { MalformedFrameError } from "./errors.js";

/** Frames are single bytes; "!" is bad input. */
class Bytes extends BaseDecoder<number> {
  released = 0;
  protected decode(b: Buffer, out: number[]): void {
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 0x21) throw new MalformedFrameError("bang", this.offset + i);
      out.push(b[i]!);
    }
  }
  protected finish(): number[] {
    return [];
  }
  protected held(): number {
    return 0;
  }
  protected release(): void {
    this.released++;
  }
}

describe("BaseDecoder", () => {
  test("frames before a bad byte are returned; the error comes next and sticks", () => {
    const d = new Bytes();
    assert.deepEqual(d.push(Buffer.from("ab")), [0x61, 0x62]);
    assert.deepEqual(d.push(Uint8Array.from([0x63, 0x21, 0x64])), [0x63], "a Uint8Array works too");
    assert.throws(
      () => d.push(new Uint8Array(0)),
      (e: unknown) => e instanceof MalformedFrameError && e.offset === 3,
    );
    assert.throws(() => d.end(), MalformedFrameError);
    assert.equal(d.released, 1);
  });

  test("an error with no frames before it throws at once", () => {
    const d = new Bytes();
    assert.throws(() => d.push(Buffer.from("!")), MalformedFrameError);
  });

  test("misuse throws TypeError; maxFrame is required", () => {
    assert.throws(() => new Bytes().push("ab" as unknown as Uint8Array), TypeError);
    assert.throws(() => checkMaxFrame("maxFrame", undefined), /maxFrame must be set/);
    assert.throws(() => checkMaxFrame("maxFrame", 2 ** 31), RangeError);
    assert.equal(checkMaxFrame("maxFrame", 10), 10);
  });
});
