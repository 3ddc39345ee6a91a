import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CHAT_MAX_LINE, type ChatLine, escapeLine, LineSplitter, NICK_RE } from "./chat.js";

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

describe("LineSplitter", () => {
  const texts = (ls: ChatLine[]) => ls.map((l) => `${l.text.toString("latin1")}${l.cut ? "|cut" : ""}`);

  test("splits on LF, drops one CR, keeps a last unterminated line for end()", () => {
    const s = new LineSplitter(100);
    assert.deepEqual(texts(s.push(Buffer.from("a\r\nb\n\nc\r\r\nd"))), ["a", "b", "", "c\r"]);
    assert.deepEqual(texts(s.end()), ["d"]);
    assert.deepEqual(texts(s.end()), []);
  });

  test("a line of exactly max bytes (with or without CR) is whole; one more byte is cut", () => {
    const s = new LineSplitter(4);
    assert.deepEqual(texts(s.push(Buffer.from("abcd\r\nabcd\nabcde\nok\n"))), [
      "abcd",
      "abcd",
      "abcd|cut",
      "ok",
    ]);
  });

  test("a long line is cut at max bytes and the rest up to LF is discarded, holding at most max", () => {
    const s = new LineSplitter(CHAT_MAX_LINE);
    const out: ChatLine[] = [];
    out.push(...s.push(Buffer.alloc(3000, "x")));
    out.push(...s.push(Buffer.alloc(3000, "y")));
    for (let i = 0; i < 100; i++) out.push(...s.push(Buffer.alloc(65536, "z")));
    out.push(...s.push(Buffer.from("zzz\nnext\n")));
    assert.equal(out.length, 2);
    assert.equal(out[0]!.cut, true);
    assert.equal(out[0]!.text.length, CHAT_MAX_LINE);
    assert.equal(out[0]!.text.toString(), "x".repeat(3000) + "y".repeat(CHAT_MAX_LINE - 3000));
    assert.deepEqual(texts([out[1]!]), ["next"]);
  });

  test("a cut never splits a UTF-8 character", () => {
    const s = new LineSplitter(5);
    const [l] = s.push(Buffer.from("abcd日本\n")); // 日 spans bytes 4..6
    assert.equal(l!.text.toString(), "abcd");
    assert.equal(l!.cut, true);
  });

  test("the lines do not depend on how the stream is chunked", () => {
    const unit = fc.constantFrom("a", "b", "\r", "\n", "é");
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 60 }),
        fc.array(fc.nat(60), { maxLength: 8 }),
        (text, cuts) => {
          const whole = Buffer.from(text);
          const one = new LineSplitter(6);
          const want = texts([...one.push(whole), ...one.end()]);
          const s = new LineSplitter(6);
          const got: ChatLine[] = [];
          let at = 0;
          for (const c of [...cuts].sort((x, y) => x - y)) {
            const end = Math.min(c, whole.length);
            if (end < at) continue;
            got.push(...s.push(whole.subarray(at, end)));
            at = end;
          }
          got.push(...s.push(whole.subarray(at)), ...s.end());
          assert.deepEqual(texts(got), want);
        },
      ),
      fcParams(2000),
    );
  });

  test("held lines are copies: reusing a pushed chunk does not change them", () => {
    const s = new LineSplitter(100);
    const chunk = Buffer.from("abc");
    s.push(chunk);
    chunk.fill(0x21);
    assert.deepEqual(texts(s.push(Buffer.from("\n"))), ["abc"]);
  });
});

describe("NICK_RE", () => {
  for (const ok of ["alice", "a", "Bob_2", "x-y", "0x", "a".repeat(16)]) {
    test(`accepts ${ok}`, () => assert.match(ok, NICK_RE));
  }
  for (const bad of ["", "a".repeat(17), "bad nick", "é", "a!", "123", "alice\n", "<x>"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.doesNotMatch(bad, NICK_RE));
  }
});
