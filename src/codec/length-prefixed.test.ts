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
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import { lengthPrefixed } from "./length-prefixed.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ""), "hex");

describe("lengthPrefixed()", () => {
  test("decodes 1-, 2- and 4-byte headers in both byte orders", () => {
    const frames = { frames: [hex("6869"), hex(""), hex("ff")] };
    sameAtEverySplit(
      lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 9 }),
      hex("02 6869 00 01 ff"),
      frames,
    );
    sameAtEverySplit(
      lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: 9 }),
      hex("0002 6869 0000 0001 ff"),
      frames,
    );
    sameAtEverySplit(
      lengthPrefixed({ headerBytes: 2, endian: "little", maxFrame: 9 }),
      hex("0200 6869 0000 0100 ff"),
      frames,
    );
    sameAtEverySplit(
      lengthPrefixed({ headerBytes: 4, endian: "little", maxFrame: 9 }),
      hex("02000000 6869 00000000 01000000 ff"),
      frames,
    );
  });

  test("includesHeader: the length counts the header; a length below it is malformed", () => {
    const c = lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: 9, includesHeader: true });
    assert.deepEqual(c.encode(hex("6869")), hex("0004 6869"));
    sameAtEverySplit(c, hex("0004 6869 0002"), { frames: [hex("6869"), hex("")] });
    assert.throws(
      () => decodeAll(c, [hex("0004 6869 0001")]),
      (e: unknown) =>
        e instanceof MalformedFrameError &&
        e.offset === 4 &&
        /smaller than the 2-byte header/.test(e.message),
    );
  });

  test("a header announcing more than maxFrame throws before any body is buffered", () => {
    const c = lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 1024 });
    const d = c.decoder();
    assert.throws(
      () => d.push(hex("ffffffff")),
      (e: unknown) => e instanceof FrameTooLargeError && e.size === 0xffffffff && e.limit === 1024,
    );
    assert.equal(d.buffered, 0);
    sameAtEverySplit(c, hex("00000401"), fails("FrameTooLargeError"));
    sameAtEverySplit(c, hex("00000400"), fails("TruncatedFrameError"));
  });

  test("EOF inside a header or a body is truncation", () => {
    const c = lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 64 });
    assert.throws(() => decodeAll(c, [hex("0000")]), /inside a length header \(2 of 4 bytes\)/);
    assert.throws(
      () => decodeAll(c, [hex("00000005 6162")]),
      (e: unknown) => e instanceof TruncatedFrameError && e.received === 2 && /5-byte frame/.test(e.message),
    );
  });

  test("a frame within one chunk is a view, a frame across chunks a copy", () => {
    const d = lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 9 }).decoder();
    const chunk = hex("02 6869 03 61");
    const [f] = d.push(chunk);
    assert.equal(f?.buffer, chunk.buffer);
    chunk.fill(0); // the decoder keeps no reference to the chunk
    assert.deepEqual(d.push(hex("6263")), [Buffer.from("abc")]);
  });

  test("encode refuses bodies the header cannot announce or past maxFrame", () => {
    assert.throws(
      () => lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 300 }).encode(Buffer.alloc(256)),
      FrameTooLargeError,
    );
    assert.throws(
      () =>
        lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 300, includesHeader: true }).encode(
          Buffer.alloc(255),
        ),
      FrameTooLargeError,
    );
    assert.throws(
      () => lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: 3 }).encode(Buffer.alloc(4)),
      FrameTooLargeError,
    );
    assert.throws(() => lengthPrefixed({ headerBytes: 3 as 2, endian: "big", maxFrame: 3 }), TypeError);
    assert.throws(
      () => lengthPrefixed({ headerBytes: 2, endian: "middle" as "big", maxFrame: 3 }),
      TypeError,
    );
  });

  test("property: decode(encode(frames)) = frames under random chunking", () => {
    for (const headerBytes of [1, 2, 4] as const)
      for (const endian of ["big", "little"] as const)
        for (const includesHeader of [false, true]) {
          const c = lengthPrefixed({ headerBytes, endian, maxFrame: 200, includesHeader });
          const frame = fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u));
          roundTrip(c, fc.array(frame, { maxLength: 10 }), 60);
        }
  });

  test("property: hostile bytes decode or throw a CodecError, within the buffer bound", () => {
    hostile(lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 100 }), [0, 1, 2, 0x61]);
    hostile(
      lengthPrefixed({ headerBytes: 2, endian: "little", maxFrame: 100, includesHeader: true }),
      [0, 1, 2, 3],
    );
    hostile(lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 100 }), [0, 5, 0x61]);
  });

  test("property: a body past maxFrame always throws FrameTooLargeError, whatever the chunking", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.nat(300)),
        (max, extra, cs) => {
          const big = lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: max + extra });
          const wire = big.encode(Buffer.alloc(max + extra));
          assert.throws(
            () =>
              decodeAll(lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: max }), split(wire, cs)),
            FrameTooLargeError,
          );
        },
      ),
      fcParams(200),
    );
  });
});
