import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { escapeLine } from "./escape.js";

const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

describe("escapeLine", () => {
  const table: Array<[string, Buffer, string]> = [
    ["printable ASCII and TAB pass", Buffer.from("hello\tworld ~!"), "hello\tworld ~!"],
    [
      "ESC sequences are shown, not sent",
      Buffer.from("\x1b[2J\x1b]0;title\x07"),
      "\\x1b[2J\\x1b]0;title\\x07",
    ],
    ["NUL, CR, BEL, DEL", Buffer.from([0x00, 0x0d, 0x07, 0x7f]), "\\x00\\x0d\\x07\\x7f"],
    ["valid UTF-8 passes", Buffer.from("é 日本 \u{1f600}"), "é 日本 \u{1f600}"],
    ["C1 controls (8-bit CSI) are escaped", Buffer.from("a\u009bb\u0085"), "a\\xc2\\x9bb\\xc2\\x85"],
    ["bidi overrides are escaped", Buffer.from("x\u202ey\u2066"), "x\\xe2\\x80\\xaey\\xe2\\x81\\xa6"],
    ["invalid bytes are escaped one by one", Buffer.from([0x61, 0xff, 0xc3, 0x62]), "a\\xff\\xc3b"],
    [
      "overlong encodings are invalid",
      Buffer.from([0xc0, 0xaf, 0xe0, 0x80, 0xaf]),
      "\\xc0\\xaf\\xe0\\x80\\xaf",
    ],
    ["surrogates are invalid", Buffer.from([0xed, 0xa0, 0x80]), "\\xed\\xa0\\x80"],
    ["a truncated sequence at the end", Buffer.from([0x61, 0xe6, 0x97]), "a\\xe6\\x97"],
  ];
  for (const [what, input, want] of table) {
    test(what, () => assert.equal(escapeLine(input), want));
  }

  test("never lets a control character through, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = escapeLine(bytes);
        for (const ch of s) {
          const cp = ch.codePointAt(0)!;
          assert.ok(
            cp === 9 || (cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp <= 0x9f)),
            `U+${cp.toString(16)} in ${s}`,
          );
          assert.ok(!(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069));
        }
      }),
      fcParams(2000),
    );
  });

  test("valid text without controls is unchanged", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
        fc.pre(!/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u.test(s));
        assert.equal(escapeLine(Buffer.from(s)), s);
      }),
      fcParams(1000),
    );
  });
});
