import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  assertTooLarge,
  decodeAll,
  fails,
  fcParams,
  hostile,
  roundTrip,
  sameAtEverySplit,
  split,
} from "./codec.test-support.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import { lines } from "./lines.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const noNewline = (s: string): boolean => !s.includes("\n");

describe("lines()", () => {
  test("splits on LF and strips one CR before it (lenient default)", () => {
    const c = lines({ maxLine: 64 });
    sameAtEverySplit(c, b("a\nbb\r\n\r\n\n c \r\r\n"), { frames: ["a", "bb", "", "", " c \r"] });
  });

  test("returns strings in utf8 by default, latin1 or Buffers on request", () => {
    const wire = Buffer.from("héllo\n", "utf8");
    assert.deepEqual(decodeAll(lines({ maxLine: 64 }), [wire]), ["héllo"]);
    assert.deepEqual(decodeAll(lines({ maxLine: 64, encoding: "latin1" }), [wire]), ["hÃ©llo"]);
    assert.deepEqual(decodeAll(lines({ maxLine: 64, encoding: "buffer" }), [wire]), [Buffer.from("héllo")]);
  });

  test("a multi-byte character split across chunks decodes whole", () => {
    const wire = Buffer.from("€uro\n", "utf8");
    sameAtEverySplit(lines({ maxLine: 8 }), wire, { frames: ["€uro"] });
  });

  test('crlf "strict" requires CRLF and reports the bare LF offset', () => {
    const c = lines({ maxLine: 64, crlf: "strict" });
    assert.deepEqual(decodeAll(c, [b("a\r\nb\r\n")]), ["a", "b"]);
    assert.throws(
      () => decodeAll(c, [b("ok\r\nbad\n")]),
      (e: unknown) =>
        e instanceof MalformedFrameError && e.offset === 7 && /bare LF at byte offset 7/.test(e.message),
    );
    sameAtEverySplit(c, b("ok\r\nbad\n"), fails("MalformedFrameError", "ok"));
  });

  test("a line of exactly maxLine bytes passes, with or without CR; one more byte throws", () => {
    const c = lines({ maxLine: 4 });
    sameAtEverySplit(c, b("abcd\nabcd\r\n"), { frames: ["abcd", "abcd"] });
    sameAtEverySplit(c, b("abcde\n"), fails("FrameTooLargeError"));
    sameAtEverySplit(c, b("abcd\r\r\n"), fails("FrameTooLargeError"));
  });

  test("an endless line throws FrameTooLargeError early, holding at most maxLine + 1 bytes", () => {
    const c = lines({ maxLine: 8192 });
    const d = c.decoder();
    let err: unknown;
    for (let i = 0; i < 100 && err === undefined; i++) {
      try {
        d.push(Buffer.alloc(1000, 0x61));
        assert.ok(d.buffered <= 8193);
      } catch (e) {
        err = e;
      }
    }
    assert.ok(err instanceof FrameTooLargeError);
    assert.equal(err.limit, 8192);
    assert.match(
      err.message,
      /line longer than 8192 bytes — raise maxLine or check that the peer sends newlines/,
    );
    assert.throws(
      () => d.push(b("\n")),
      (e: unknown) => e === err,
      "poisoned: the same error again",
    );
    assert.equal(d.buffered, 0, "buffers released after the error");
  });

  test("at EOF a partial line throws TruncatedFrameError unless allowUnterminatedAtEnd", () => {
    assert.throws(() => decodeAll(lines({ maxLine: 9 }), [b("a\nbc")]), TruncatedFrameError);
    assert.deepEqual(decodeAll(lines({ maxLine: 9, allowUnterminatedAtEnd: true }), [b("a\nbc")]), [
      "a",
      "bc",
    ]);
    assert.deepEqual(decodeAll(lines({ maxLine: 9 }), []), []);
    const d = lines({ maxLine: 9 }).decoder();
    assert.deepEqual(d.end(), []);
    assert.deepEqual(d.end(), [], "end() twice is harmless");
    assert.throws(() => d.push(b("x")), /push\(\) after end\(\)/);
  });

  test("encode appends the eol and refuses what cannot be a line", () => {
    assert.deepEqual(lines({ maxLine: 9 }).encode("hi"), b("hi\n"));
    assert.deepEqual(lines({ maxLine: 9, eol: "\r\n" }).encode("hi"), b("hi\r\n"));
    assert.deepEqual(lines({ maxLine: 9, crlf: "strict" }).encode("hi"), b("hi\r\n"));
    assert.deepEqual(lines({ maxLine: 9, encoding: "buffer" }).encode(b("hi")), b("hi\n"));
    assert.throws(() => lines({ maxLine: 9 }).encode("a\nb"), MalformedFrameError);
    assert.throws(() => lines({ maxLine: 9 }).encode("a\r"), MalformedFrameError);
    assert.throws(() => lines({ maxLine: 9, crlf: "strict" }).encode("a\rb"), MalformedFrameError);
    assert.throws(() => lines({ maxLine: 9, encoding: "latin1" }).encode("€"), MalformedFrameError);
    assert.throws(() => lines({ maxLine: 2 }).encode("abc"), FrameTooLargeError);
    assert.throws(() => lines({ maxLine: 2 }).encode("€"), FrameTooLargeError, "maxLine counts bytes");
    assert.throws(() => lines({ maxLine: 2 }).encode(3 as unknown as string), TypeError);
  });

  test("options are checked: maxLine is required", () => {
    assert.throws(() => lines({} as { maxLine: number }), TypeError);
    assert.throws(() => lines({ maxLine: 0 }), RangeError);
    assert.throws(() => lines({ maxLine: 1.5 }), TypeError);
    assert.throws(() => lines({ maxLine: 9, crlf: "x" as "strict" }), TypeError);
  });

  test("property: decode(encode(lines)) = lines under random chunking", () => {
    const text = fc
      .string({ unit: "grapheme", maxLength: 30 })
      .filter((s) => noNewline(s) && !s.endsWith("\r"));
    roundTrip(lines({ maxLine: 200 }), fc.array(text, { maxLength: 20 }));
    const latin = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((n) => String.fromCharCode(n)) });
    roundTrip(
      lines({ maxLine: 200, encoding: "latin1", crlf: "strict" }),
      fc.array(
        latin.filter((s) => !/[\r\n]/.test(s)),
        { maxLength: 20 },
      ),
    );
    roundTrip(
      lines({ maxLine: 50, encoding: "buffer", eol: "\r\n" }),
      fc.array(
        fc.uint8Array({ maxLength: 50 }).map((u) => Buffer.from(u.filter((x) => x !== 10))),
        { maxLength: 20 },
      ),
    );
  });

  test("property: hostile bytes decode or throw a CodecError, within the buffer bound", () => {
    hostile(lines({ maxLine: 16 }), [0x0a, 0x0d, 0x61, 0xc3, 0xa9]);
    hostile(lines({ maxLine: 16, crlf: "strict", allowUnterminatedAtEnd: true }), [0x0a, 0x0d, 0x61]);
  });

  test("property: a line past maxLine always throws FrameTooLargeError", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.nat(300)),
        (max, extra, cs) => {
          const wire = Buffer.concat([Buffer.alloc(max + extra, 0x78), b("\n")]);
          assertTooLarge(lines({ maxLine: max }), split(wire, cs));
        },
      ),
      fcParams(200),
    );
  });
});
