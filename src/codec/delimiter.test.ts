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
import { delimiter } from "./delimiter.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const frames = (...xs: string[]): { frames: Buffer[] } => ({ frames: xs.map(b) });

describe("delimiter()", () => {
  test("finds a multi-byte delimiter split across chunks at every offset", () => {
    const c = delimiter({ delimiter: "\r\n\r\n", maxFrame: 64 });
    sameAtEverySplit(
      c,
      b("GET /\r\nA: b\r\n\r\n\r\n\r\nx\r\n\r\r\n\r\n"),
      frames("GET /\r\nA: b", "", "x\r\n\r"),
    );
  });

  test("overlapping delimiter bytes match leftmost, like indexOf", () => {
    sameAtEverySplit(delimiter({ delimiter: "aa", maxFrame: 8 }), b("aaab aa"), frames("", "ab "));
    sameAtEverySplit(delimiter({ delimiter: "aa", maxFrame: 8 }), b("aaabaaaa"), frames("", "ab", ""));
    sameAtEverySplit(delimiter({ delimiter: "abab", maxFrame: 8 }), b("xabababab"), frames("x", ""));
  });

  test("accepts byte delimiters, including NUL", () => {
    sameAtEverySplit(
      delimiter({ delimiter: Uint8Array.of(0), maxFrame: 8 }),
      b("a\0\0bc\0"),
      frames("a", "", "bc"),
    );
  });

  test("a frame of exactly maxFrame passes while its delimiter trickles in; one more byte throws", () => {
    const c = delimiter({ delimiter: "\r\n\r\n", maxFrame: 4 });
    sameAtEverySplit(c, b("abcd\r\n\r\nwxyz\r\n\r\n"), frames("abcd", "wxyz"));
    sameAtEverySplit(c, b("abcde\r\n\r\n"), fails("FrameTooLargeError"));
    const d = c.decoder();
    assert.deepEqual(d.push(b("abcd\r\n\r")), []);
    assert.equal(d.buffered, 7, "a full frame plus m-1 delimiter bytes may be held");
  });

  test("an endless frame throws early and never holds more than maxFrame + m - 1 bytes", () => {
    const d = delimiter({ delimiter: "||", maxFrame: 1000 }).decoder();
    assert.throws(() => {
      for (let i = 0; i < 100; i++) {
        d.push(Buffer.alloc(100, 0x7c - 1));
        assert.ok(d.buffered <= 1001);
      }
    }, FrameTooLargeError);
  });

  test("EOF with held bytes is truncation unless allowUnterminatedAtEnd", () => {
    assert.throws(
      () => decodeAll(delimiter({ delimiter: ",", maxFrame: 9 }), [b("a,b")]),
      TruncatedFrameError,
    );
    assert.deepEqual(
      decodeAll(delimiter({ delimiter: ",", maxFrame: 9, allowUnterminatedAtEnd: true }), [b("a,b")]),
      [b("a"), b("b")],
    );
  });

  test("encode refuses frames that contain the delimiter or end with part of it", () => {
    const c = delimiter({ delimiter: "\r\n\r\n", maxFrame: 9 });
    assert.deepEqual(c.encode(b("hi")), b("hi\r\n\r\n"));
    assert.throws(() => c.encode(b("a\r\n\r\nb")), MalformedFrameError);
    assert.throws(() => c.encode(b("a\r\n")), MalformedFrameError);
    assert.throws(() => c.encode(b("0123456789")), FrameTooLargeError);
    assert.throws(() => delimiter({ delimiter: "", maxFrame: 9 }), TypeError);
    assert.throws(() => delimiter({ delimiter: "x" } as { delimiter: string; maxFrame: number }), TypeError);
  });

  test("scanning is linear: 4 MiB in 1-byte-delimiter-free chunks is not rescanned", () => {
    const c = delimiter({ delimiter: "\r\n\r\n", maxFrame: 8 * 1024 * 1024 });
    const d = c.decoder();
    const chunk = Buffer.alloc(1024, 0x0d); // CRs only: the worst case for a naive rescan
    const t0 = performance.now();
    for (let i = 0; i < 4096; i++) d.push(chunk);
    assert.deepEqual(d.push(b("\n\r\n")), [Buffer.alloc(4 * 1024 * 1024 - 1, 0x0d)]);
    // a rescan per push would be ~8 G byte comparisons; linear is a few ms (generous bound)
    assert.ok(performance.now() - t0 < 2000);
  });

  test("property: decode(encode(frames)) = frames under random chunking", () => {
    for (const delim of ["\n", "\r\n\r\n", "abab", "\0\0\0"]) {
      const c = delimiter({ delimiter: delim, maxFrame: 40 });
      const frame = fc
        .array(fc.constantFrom(..."ab\r\n\0x"), { maxLength: 40 })
        .map((a) => b(a.join("")))
        .filter((f) => b(`${f.toString("latin1")}${delim}`).indexOf(delim) === f.length);
      roundTrip(c, fc.array(frame, { maxLength: 12 }), 150);
    }
  });

  test("property: hostile bytes decode or throw a CodecError, within the buffer bound", () => {
    hostile(delimiter({ delimiter: "\r\n\r\n", maxFrame: 16 }), [0x0d, 0x0a, 0x61]);
    hostile(delimiter({ delimiter: "aab", maxFrame: 5, allowUnterminatedAtEnd: true }), [0x61, 0x62]);
  });

  test("property: a frame past maxFrame always throws FrameTooLargeError", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 80 }),
        fc.array(fc.nat(200)),
        (max, extra, cs) => {
          const wire = b(`${"x".repeat(max + extra)}\r\n\r\n`);
          assert.throws(
            () => decodeAll(delimiter({ delimiter: "\r\n\r\n", maxFrame: max }), split(wire, cs)),
            FrameTooLargeError,
          );
        },
      ),
      fcParams(200),
    );
  });
});
