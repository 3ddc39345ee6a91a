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
import { jsonStream } from "./json-stream.js";

const b = (s: string): Buffer => Buffer.from(s, "utf8");
const MALFORMED = fails("MalformedFrameError");

describe("jsonStream()", () => {
  test("splits concatenated values with or without whitespace, at every offset", () => {
    sameAtEverySplit(
      jsonStream({ maxFrame: 64 }),
      b('{"a":1}{"b":2} [3] "x" 4 \n\ttrue"y"null{}-1.5e3[[]]'),
      {
        frames: [{ a: 1 }, { b: 2 }, [3], "x", 4, true, "y", null, {}, -1500, [[]]],
      },
    );
  });

  test("brackets and quotes inside strings do not count; escapes are honoured", () => {
    sameAtEverySplit(jsonStream({ maxFrame: 64 }), b('{"k":"}]\\"{["}["\\\\"]"é\\u00e9"'), {
      frames: [{ k: '}]"{[' }, ["\\"], "éé"],
    });
  });

  test("a bare number at the end is complete only at EOF", () => {
    const d = jsonStream({ maxFrame: 64 }).decoder();
    assert.deepEqual(d.push(b("12")), []);
    assert.deepEqual(d.push(b("34")), []);
    assert.deepEqual(d.push(b("[")), [1234]);
    assert.deepEqual(d.push(b("]7")), [[]]);
    assert.deepEqual(d.end(), [7]);
  });

  test("garbage between or inside values is malformed, with the offset", () => {
    const c = jsonStream({ maxFrame: 64 });
    assert.throws(
      () => decodeAll(c, [b("[1] ,[2]")]),
      (e: unknown) =>
        e instanceof MalformedFrameError && e.offset === 4 && /unexpected byte 0x2c \(','\)/.test(e.message),
    );
    assert.throws(
      () => decodeAll(c, [b('[1] {"a" 1}')]),
      (e: unknown) =>
        e instanceof MalformedFrameError && e.offset === 4 && /JSON value is not valid JSON/.test(e.message),
    );
    for (const s of ["]", "}", "truefalse", "{]", "[1,]", "nul", "01", '"\\x"', ":"])
      sameAtEverySplit(c, b(s), MALFORMED);
    sameAtEverySplit(c, b('1 [2] 3x "4"'), fails<unknown>("MalformedFrameError", 1, [2]));
    sameAtEverySplit(c, Buffer.from([0x22, 0xff, 0x22]), MALFORMED);
  });

  test("EOF inside an object, array or string is truncation", () => {
    const c = jsonStream({ maxFrame: 64 });
    for (const s of ['{"a":', "[[1]", '"abc', '"ab\\"'])
      assert.throws(() => decodeAll(c, [b(s)]), TruncatedFrameError, s);
    assert.throws(() => decodeAll(c, [b("[[1]")]), /2 open brackets|1 open bracket/);
    assert.deepEqual(decodeAll(c, [b(" \n ")]), [], "whitespace only is no value");
  });

  test("a value past maxFrame throws; whitespace is never held", () => {
    const c = jsonStream({ maxFrame: 7 });
    sameAtEverySplit(c, b('"abcde"   [1,2,3]'), { frames: ["abcde", [1, 2, 3]] });
    sameAtEverySplit(c, b('"abcdef"'), fails("FrameTooLargeError"));
    sameAtEverySplit(c, b("12345678"), fails("FrameTooLargeError"));
    const d = c.decoder();
    for (let i = 0; i < 100; i++) d.push(Buffer.alloc(1000, 0x20));
    assert.equal(d.buffered, 0);
    assert.throws(() => {
      for (let i = 0; i < 10; i++) d.push(b("[[[[[[[["));
    }, FrameTooLargeError);
  });

  test("scanning is linear: 4 MiB of nested arrays in 1 KiB chunks", () => {
    const d = jsonStream({ maxFrame: 16 * 1024 * 1024 }).decoder();
    const open = Buffer.alloc(1024, 0x5b);
    const t0 = performance.now();
    for (let i = 0; i < 4096; i++) d.push(open);
    assert.equal(d.buffered, 4 * 1024 * 1024);
    assert.ok(performance.now() - t0 < 3000);
  });

  test("encode is JSON.stringify plus LF", () => {
    const c = jsonStream({ maxFrame: 8 });
    assert.deepEqual(c.encode([1, "a"]), b('[1,"a"]\n'));
    assert.throws(() => c.encode("abcdefgh"), FrameTooLargeError);
    assert.throws(() => c.encode(undefined), TypeError);
  });

  test("property: decode(concatenated values) = values, with any whitespace, under random chunking", () => {
    const c = jsonStream({ maxFrame: 4096 });
    const norm = (vs: unknown[]): unknown[] => vs.map((v) => JSON.parse(JSON.stringify(v)));
    roundTrip(c, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), 150, norm);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("", " ", "\n", "\r\n\t ")), {
          maxLength: 8,
        }),
        fc.array(fc.nat(2000), { maxLength: 8 }),
        (vs, cs) => {
          // values packed with no separator where none is needed (only bare scalars need one)
          const text = vs
            .map(([v, ws]) => {
              const t = JSON.stringify(v);
              return /^[-0-9tfn]/.test(t) ? `${t} ` : `${t}${ws}`;
            })
            .join("");
          assert.deepEqual(decodeAll(c, split(b(text), cs)), norm(vs.map(([v]) => v)));
        },
      ),
      fcParams(150),
    );
  });

  test("property: hostile bytes decode or throw a CodecError, within the buffer bound", () => {
    hostile(jsonStream({ maxFrame: 20 }), [...b('{}[]"1 \n\\:,tn-e.')]);
  });

  test("property: a value past maxFrame always throws FrameTooLargeError", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.nat(200)),
        (max, extra, cs) => {
          const wire = b(JSON.stringify(["x".repeat(max + extra)]));
          assert.throws(() => decodeAll(jsonStream({ maxFrame: max }), split(wire, cs)), FrameTooLargeError);
        },
      ),
      fcParams(200),
    );
  });
});
