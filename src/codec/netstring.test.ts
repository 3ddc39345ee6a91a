import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decodeAll,
  fails,
  fcParams,
  hostile,
  roundTrip,
  sameAtEverySplit,
  split,
} from "./codec.test-support.js";
import { FrameTooLargeError, MalformedFrameError } from "./errors.js";
import { netstring } from "./netstring.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const MALFORMED = fails("MalformedFrameError");

describe("netstring()", () => {
  test("decodes netstrings, including empty ones, at every split", () => {
    sameAtEverySplit(netstring({ maxFrame: 12 }), b("5:hello,0:,12:hello world!,"), {
      frames: [b("hello"), b(""), b("hello world!")],
    });
  });

  test("rejects leading zeros but accepts a lone 0", () => {
    const c = netstring({ maxFrame: 99 });
    sameAtEverySplit(c, b("0:,"), { frames: [b("")] });
    sameAtEverySplit(c, b("05:hello,"), MALFORMED);
    sameAtEverySplit(c, b("00:,"), MALFORMED);
    assert.throws(() => decodeAll(c, [b("05:hello,")]), /leading zero at byte offset 0/);
  });

  test("a missing comma, an empty length or a stray byte is malformed, with the offset", () => {
    const c = netstring({ maxFrame: 99 });
    assert.throws(
      () => decodeAll(c, [b("3:abc;")]),
      (e: unknown) =>
        e instanceof MalformedFrameError &&
        e.offset === 5 &&
        /expected ',' after a 3-byte netstring, got 0x3b \(';'\)/.test(e.message),
    );
    sameAtEverySplit(c, b("3:abcd,"), MALFORMED);
    sameAtEverySplit(c, b(":,"), MALFORMED);
    sameAtEverySplit(c, b(" 3:abc,"), MALFORMED);
    sameAtEverySplit(c, b("3:abc,\n"), fails("MalformedFrameError", b("abc")));
    sameAtEverySplit(c, b("-1:,"), MALFORMED);
  });

  test("a length past maxFrame throws as soon as its digits exceed it", () => {
    const c = netstring({ maxFrame: 100 });
    sameAtEverySplit(c, b("101:"), fails("FrameTooLargeError"));
    sameAtEverySplit(c, b("100:"), fails("TruncatedFrameError"));
    const d = c.decoder();
    assert.deepEqual(d.push(b("99")), []);
    assert.throws(() => d.push(b("9")), FrameTooLargeError, "the third digit is enough");
    const e = netstring({ maxFrame: 5 }).decoder();
    assert.throws(() => e.push(b("9999999999999999999999999999")), FrameTooLargeError);
  });

  test("EOF mid-netstring is truncation, wherever it falls", () => {
    const c = netstring({ maxFrame: 9 });
    for (const s of ["3", "3:", "3:ab", "3:abc"]) assert.throws(() => decodeAll(c, [b(s)]), /stream ended/);
  });

  test("encode writes <len>:<bytes>, and refuses frames past maxFrame", () => {
    const c = netstring({ maxFrame: 5 });
    assert.deepEqual(c.encode(b("hello")), b("5:hello,"));
    assert.deepEqual(c.encode(b("")), b("0:,"));
    assert.throws(() => c.encode(b("hello!")), FrameTooLargeError);
  });

  test("property: decode(encode(frames)) = frames under random chunking", () => {
    const frame = fc.uint8Array({ maxLength: 120 }).map((u) => Buffer.from(u));
    roundTrip(netstring({ maxFrame: 120 }), fc.array(frame, { maxLength: 10 }));
  });

  test("property: hostile bytes decode or throw a CodecError, within the buffer bound", () => {
    hostile(netstring({ maxFrame: 30 }), [...b("0123456789:,")]);
  });

  test("property: a netstring past maxFrame always throws FrameTooLargeError", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.nat(700)),
        (max, extra, cs) => {
          const wire = netstring({ maxFrame: max + extra }).encode(Buffer.alloc(max + extra));
          assert.throws(() => decodeAll(netstring({ maxFrame: max }), split(wire, cs)), FrameTooLargeError);
        },
      ),
      fcParams(200),
    );
  });
});
