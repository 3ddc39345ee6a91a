import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";

// nested JSON grows as size^depth: these properties keep fast-check's small default base size
// (test/support/fc-size.ts raises it for the others)
fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: "small" });
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
import { ndjson } from "./ndjson.js";

const b = (s: string): Buffer => Buffer.from(s, "utf8");

describe("ndjson()", () => {
  test("parses one value per line, skipping blank lines and CRs", () => {
    sameAtEverySplit(ndjson({ maxFrame: 64 }), b('{"a":1}\n\n  \r\n[1,"é"]\r\n"x"\n4\nnull\n'), {
      frames: [{ a: 1 }, [1, "é"], "x", 4, null],
    });
  });

  test("a line that is not JSON names its line number and offset", () => {
    const c = ndjson({ maxFrame: 64 });
    assert.throws(
      () => decodeAll(c, [b('1\n\n{"a":\n')]),
      (e: unknown) =>
        e instanceof MalformedFrameError && e.offset === 3 && /^line 3 is not valid JSON/.test(e.message),
    );
    sameAtEverySplit(c, b("[1]\n{bad}\n"), fails("MalformedFrameError", [1]));
    sameAtEverySplit(c, Buffer.from([0x22, 0xff, 0x22, 0x0a]), fails("MalformedFrameError"));
    assert.throws(() => decodeAll(c, [Buffer.from([0x22, 0xff, 0x22, 0x0a])]), /line 1 is not valid UTF-8/);
  });

  test("a last line without newline is accepted at EOF if it parses", () => {
    const c = ndjson({ maxFrame: 64 });
    assert.deepEqual(decodeAll(c, [b('1\n{"a":2}')]), [1, { a: 2 }]);
    assert.deepEqual(decodeAll(c, [b("1\n  ")]), [1]);
    assert.throws(() => decodeAll(c, [b('1\n{"a":')]), TruncatedFrameError);
  });

  test("a line past maxFrame throws FrameTooLargeError; exactly maxFrame passes", () => {
    const c = ndjson({ maxFrame: 7 });
    sameAtEverySplit(c, b('"abcde"\r\n'), { frames: ["abcde"] });
    sameAtEverySplit(c, b('"abcdef"\n'), fails("FrameTooLargeError"));
    assert.throws(() => c.encode("abcdef"), FrameTooLargeError);
  });

  test("encode is JSON.stringify plus LF and refuses what JSON cannot hold", () => {
    const c = ndjson({ maxFrame: 64 });
    assert.deepEqual(c.encode({ s: "a\nb" }), b('{"s":"a\\nb"}\n'));
    assert.throws(() => c.encode(undefined), TypeError);
    assert.throws(() => c.encode(() => 1), TypeError);
    assert.throws(() => c.encode(1n), TypeError);
  });

  test("property: decode(encode(values)) = values under random chunking", () => {
    const c = ndjson({ maxFrame: 4096 });
    roundTrip(c, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), 150, (vs) =>
      vs.map((v) => JSON.parse(JSON.stringify(v))),
    );
  });

  test("property: hostile bytes decode or throw a CodecError, within the buffer bound", () => {
    hostile(ndjson({ maxFrame: 20 }), [...b('{}[]"1 \n\r\\:,')]);
  });

  test("property: a value past maxFrame always throws FrameTooLargeError", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.nat(200)),
        (max, extra, cs) => {
          const wire = b(`${JSON.stringify("x".repeat(max + extra))}\n`);
          assert.throws(() => decodeAll(ndjson({ maxFrame: max }), split(wire, cs)), FrameTooLargeError);
        },
      ),
      fcParams(200),
    );
  });
});
