import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  CHARGEN_LINE_BYTES,
  CHARGEN_RING,
  CHARGEN_WIDTH,
  chargenCycle,
  chargenLine,
  chargenFollows,
  chargenLike,
  chargenLineStart,
  decodeTime,
  encodeTime,
  formatDaytime,
  looksLikeText,
  RFC868_OFFSET,
  TimeReplyError,
} from "./protocol.js";

/** fast-check parameters: fixed seed (FC_SEED overrides; fast-check prints the failing seed). */
const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

describe("chargen (RFC 864)", () => {
  test("the ring is the 95 printable ASCII characters, space to tilde", () => {
    assert.equal(CHARGEN_RING.length, 95);
    assert.equal(
      CHARGEN_RING.toString("latin1"),
      " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    );
  });

  test("the first two lines are RFC 864's example lines, 72 characters and CRLF", () => {
    assert.equal(
      chargenLine(0).toString("latin1"),
      "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n",
    );
    assert.equal(
      chargenLine(1).toString("latin1"),
      "\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi\r\n",
    );
    assert.equal(chargenLine(0).length, CHARGEN_LINE_BYTES);
  });

  test("each line starts one character later, wrapping after the tilde; 95 lines make a cycle", () => {
    for (let n = 0; n < 200; n++) {
      const line = chargenLine(n);
      assert.equal(chargenLineStart(line.subarray(0, CHARGEN_WIDTH)), (n + 1) % 95);
    }
    assert.ok(chargenLine(95).equals(chargenLine(0)));
    assert.equal(
      chargenLine(93).toString("latin1").slice(0, 2),
      "~ ",
      "the line starting at ~ wraps to space",
    );
  });

  test("the cycle is the 95 lines back to back (7 030 bytes), so writing it repeatedly is the stream", () => {
    const c = chargenCycle();
    assert.equal(c.length, 95 * 74);
    for (let n = 0; n < 95; n++) assert.ok(c.subarray(n * 74, n * 74 + 74).equals(chargenLine(n)));
    assert.equal(chargenCycle(), c, "built once");
  });

  test("chargenLineStart accepts any 72-character window of the ring and rejects any change to one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 94 }),
        fc.integer({ min: 0, max: 71 }),
        fc.integer({ min: 0, max: 255 }),
        (start, pos, byte) => {
          const line = Buffer.from(Array.from({ length: 72 }, (_, i) => 0x20 + ((start + i) % 95)));
          assert.equal(chargenLineStart(line), start);
          if (line[pos] === byte) return;
          line[pos] = byte;
          assert.equal(chargenLineStart(line), -1);
        },
      ),
      fcParams(500),
    );
  });

  test("chargenLike also accepts xinetd's ring (! to }) and fragments, and nothing that skips a character", () => {
    assert.equal(chargenLike(chargenLine(7).subarray(0, 72)), true);
    assert.equal(chargenLike(Buffer.from('xyz{|}!"#$')), true);
    assert.equal(chargenLike(Buffer.from("}~ !")), true);
    assert.equal(chargenLike(Buffer.from("abd")), false);
    assert.equal(chargenLike(Buffer.from("ab\r")), false);
    assert.equal(chargenLike(Buffer.alloc(0)), false);
    assert.equal(chargenLike(Buffer.alloc(73, 0x41)), false);
    assert.equal(chargenFollows(0x7d, 0x21), true);
    assert.equal(chargenFollows(0x41, 0x43), false);
  });

  test("chargenLike never throws on hostile input and agrees with the strict check on 72-byte RFC lines", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const like = chargenLike(b);
        if (chargenLineStart(b) >= 0) assert.equal(like, true);
        if (like) assert.ok(b.length >= 1 && b.length <= 72);
      }),
      fcParams(500),
    );
  });

  test("chargenLineStart rejects hostile input of any length without throwing", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const r = chargenLineStart(b);
        assert.ok(r === -1 || (r >= 0 && r < 95 && b.length === 72));
      }),
      fcParams(500),
    );
  });
});

describe("time (RFC 868)", () => {
  test("the Unix epoch is 2 208 988 800 seconds after 1900, sent big-endian in 4 bytes", () => {
    assert.equal(RFC868_OFFSET, 2_208_988_800);
    assert.equal(encodeTime(new Date(0)).toString("hex"), "83aa7e80");
    assert.equal(encodeTime(new Date(1999)).toString("hex"), "83aa7e81", "whole seconds, truncated");
  });

  test("a 4-byte reply decodes to the date it encodes, from 1968 to 2104 (era 1 after 2036)", () => {
    const min = Date.UTC(1968, 0, 20, 3, 14, 8);
    const max = Date.UTC(2104, 1, 26);
    fc.assert(
      fc.property(fc.integer({ min, max }), (ms) => {
        const r = decodeTime(encodeTime(new Date(ms)));
        assert.equal(r.bytes, 4);
        assert.equal(r.date.getTime(), Math.floor(ms / 1000) * 1000);
      }),
      fcParams(1000),
    );
    assert.equal(decodeTime(Buffer.from("00000000", "hex")).date.toISOString(), "2036-02-07T06:28:16.000Z");
  });

  test("an 8-byte reply is read both as a 64-bit count and as 4 bytes plus padding (inetd on 64-bit)", () => {
    const t = new Date("2026-11-21T22:30:00Z");
    const four = encodeTime(t);
    const padded = Buffer.concat([four, Buffer.alloc(4)]);
    const wide = Buffer.concat([Buffer.alloc(4), four]);
    assert.deepEqual(decodeTime(padded).date, t);
    assert.equal(decodeTime(padded).bytes, 8);
    assert.deepEqual(decodeTime(wide).date, t);
    const after2036 = Buffer.from("0000000100000010", "hex");
    assert.equal(decodeTime(after2036).date.toISOString(), "2036-02-07T06:28:32.000Z");
  });

  test("replies of other sizes are refused, quoting a text reply (a server's busy message)", () => {
    for (const n of [0, 1, 3, 5, 7, 9, 16])
      assert.throws(() => decodeTime(Buffer.alloc(n, 1)), TimeReplyError);
    assert.throws(
      () => decodeTime(Buffer.from("sockit: too many connections\r\n")),
      /got 30: "sockit: too many connections"/,
    );
  });

  test("any bytes decode to a date or throw TimeReplyError, nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (b) => {
        try {
          const r = decodeTime(b);
          assert.ok(b.length === 4 || b.length === 8);
          assert.ok(!Number.isNaN(r.date.getTime()));
        } catch (err) {
          assert.ok(err instanceof TimeReplyError, String(err));
        }
      }),
      fcParams(1000),
    );
  });

  test("looksLikeText tells a text message from binary data", () => {
    assert.equal(looksLikeText(Buffer.from("busy\r\n")), true);
    assert.equal(looksLikeText(Buffer.from([0xe9, 0x8a, 0, 1])), false);
    assert.equal(looksLikeText(Buffer.alloc(0)), false);
  });
});

describe("daytime (RFC 867)", () => {
  test("one ctime-style line in UTC with the zone, ended by CRLF", () => {
    assert.equal(formatDaytime(new Date("2026-11-21T22:30:00Z")), "Sat Nov 21 22:30:00 2026 UTC\r\n");
    assert.equal(formatDaytime(new Date("2027-01-05T03:04:05Z")), "Tue Jan  5 03:04:05 2027 UTC\r\n");
  });

  test("the line is always 30 printable bytes with CRLF for any date in 1000–9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const s = formatDaytime(new Date(ms));
        assert.equal(s.length, 30);
        assert.match(s, /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} UTC\r\n$/);
      }),
      fcParams(300),
    );
  });
});
