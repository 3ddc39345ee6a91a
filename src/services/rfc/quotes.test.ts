import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { QOTD_MAX } from "./protocol.js";
import { BUILTIN_QUOTES, parseQuotes, QuotesError } from "./quotes.js";

const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

describe("qotd quotes (RFC 865)", () => {
  test("every built-in quote is under 512 bytes as sent, with CRLF line ends and a final CRLF", () => {
    assert.ok(BUILTIN_QUOTES.length >= 10);
    for (const q of BUILTIN_QUOTES) {
      assert.ok(Buffer.byteLength(q) < QOTD_MAX, q);
      assert.ok(q.endsWith("\r\n"));
      assert.ok(!/[^\r]\n/.test(q), `bare LF in ${JSON.stringify(q)}`);
    }
  });

  test("a fortune file: quotes between % lines, multi-line quotes kept together", () => {
    assert.deepEqual(parseQuotes("one\n%\ntwo\nlines\n%\n\n%\nthree"), [
      "one\r\n",
      "two\r\nlines\r\n",
      "three\r\n",
    ]);
  });

  test("without % lines, blank lines separate quotes; CRLF files read the same", () => {
    assert.deepEqual(parseQuotes("\n\na\nb\n\n\nc\r\n\r\nd\r\n"), ["a\r\nb\r\n", "c\r\n", "d\r\n"]);
  });

  test("a quote of 512 bytes or more is refused, naming its first line", () => {
    const long = "x".repeat(510);
    assert.throws(
      () => parseQuotes(`ok\n\n${long}\n`),
      (e: unknown) => {
        assert.ok(e instanceof QuotesError);
        assert.match(e.message, /starting at line 3 has 512 bytes as sent; RFC 865 quotes must be under 512/);
        return true;
      },
    );
    assert.deepEqual(parseQuotes("y".repeat(509)), [`${"y".repeat(509)}\r\n`], "511 bytes pass");
  });

  test("an empty file or one of only separators is refused", () => {
    assert.throws(() => parseQuotes(""), /holds no quotes/);
    assert.throws(() => parseQuotes("%\n%\n"), /holds no quotes/);
  });

  test("any text gives quotes that are each under 512 bytes and end in CRLF, or a QuotesError", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "é", " ", "\n", "\r", "%", "\t"), maxLength: 1500 }),
        (text) => {
          try {
            const qs = parseQuotes(text);
            assert.ok(qs.length > 0);
            for (const q of qs) {
              assert.ok(Buffer.byteLength(q) < QOTD_MAX);
              assert.ok(q.endsWith("\r\n"));
              assert.ok(q.trim().length > 0);
            }
          } catch (err) {
            assert.ok(err instanceof QuotesError, String(err));
          }
        },
      ),
      fcParams(500),
    );
  });
});
