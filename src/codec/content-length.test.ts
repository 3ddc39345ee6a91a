import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  assertTooLarge,
  decodeAll,
  fails,
  hostile,
  roundTrip,
  sameAtEverySplit,
} from "./codec.test-support.js";
import { contentLength } from "./content-length.js";
import { MalformedFrameError } from "./errors.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");

describe("contentLength()", () => {
  test("decodes LSP-style messages, other headers skipped, at every split", () => {
    const c = contentLength({ maxFrame: 64, maxHeader: 64 });
    sameAtEverySplit(
      c,
      b(
        "Content-Length: 2\r\n\r\n{}content-length:3\r\nContent-Type: application/json\r\n\r\n[1]Content-Length: 0\r\n\r\n",
      ),
      { frames: [b("{}"), b("[1]"), b("")] },
    );
  });

  test("encodes the header and the body", () => {
    assert.equal(
      contentLength({ maxFrame: 10 }).encode(b("hello")).toString("latin1"),
      "Content-Length: 5\r\n\r\nhello",
    );
  });

  test("round trip under any chunking", () => {
    const c = contentLength({ maxFrame: 300, maxHeader: 300 });
    roundTrip(
      c,
      fc.array(
        fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
        { maxLength: 6 },
      ),
    );
  });

  test("malformed headers: no Content-Length, a bad value, two of them, a line without a colon", () => {
    const c = contentLength({ maxFrame: 64, maxHeader: 64 });
    const M = fails("MalformedFrameError");
    sameAtEverySplit(c, b("Content-Type: x\r\n\r\n{}"), M);
    sameAtEverySplit(c, b("Content-Length: -1\r\n\r\n"), M);
    sameAtEverySplit(c, b("Content-Length: 1\r\nContent-Length: 1\r\n\r\nx"), M);
    sameAtEverySplit(c, b("hello\r\n\r\n"), M);
    assert.throws(() => decodeAll(c, [b("Content-Length: 2x\r\n\r\n")]), MalformedFrameError);
  });

  test("a body past maxFrame fails on the header, before any of it is held; endless headers fail at maxHeader", () => {
    const c = contentLength({ maxFrame: 16, maxHeader: 24 });
    assertTooLarge(c, [b("Content-Length: 17\r\n\r\n")]);
    sameAtEverySplit(c, b("X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaa"), fails("MalformedFrameError"));
    assert.throws(() => decodeAll(c, [b("A: ".padEnd(100, "a"))]), /no blank line after 24 bytes/);
  });

  test("EOF inside the headers or the body is a truncated frame", () => {
    const c = contentLength({ maxFrame: 64, maxHeader: 64 });
    sameAtEverySplit(c, b("Content-Length: 5\r\n\r\nabc"), fails("TruncatedFrameError"));
    sameAtEverySplit(c, b("Content-Le"), fails("TruncatedFrameError"));
  });

  test("hostile bytes: frames or a CodecError, never anything else, memory bounded", () => {
    hostile(contentLength({ maxFrame: 64, maxHeader: 64 }), [...b("Content-Length: 0123456789\r\n:x")]);
  });
});
