import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../exit.js";
import { ShellwordsError, shellQuote, shellwords } from "./shellwords.js";

/** fast-check parameters: fixed seed (FC_SEED overrides; fast-check prints the failing seed). */
const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

describe("shellwords", () => {
  const table: Array<[string, string[]]> = [
    ["", []],
    ["   \t\n ", []],
    ["cat", ["cat"]],
    ["  cat   -u  ", ["cat", "-u"]],
    ["a\tb\nc", ["a", "b", "c"]],
    ["grep -e 'a b'", ["grep", "-e", "a b"]],
    ['echo "a b"  c', ["echo", "a b", "c"]],
    ["a'b c'd", ["ab cd"]],
    ['a"b c"d', ["ab cd"]],
    ["''", [""]],
    ['""', [""]],
    ["x '' y", ["x", "", "y"]],
    ["'it'\\''s'", ["it's"]],
    ["a\\ b", ["a b"]],
    ["a\\\\b", ["a\\b"]],
    ["\\'", ["'"]],
    ['\\"', ['"']],
    ["a\\\nb", ["ab"]],
    ["a \\\n b", ["a", "b"]],
    ["\\\n", []],
    ["trailing\\", ["trailing\\"]],
    ["'back\\slash'", ["back\\slash"]],
    ['"\\$HOME \\` \\" \\\\"', ['$HOME ` " \\']],
    ['"\\a\\n"', ["\\a\\n"]],
    ['"a\\\nb"', ["ab"]],
    ["'a\nb'", ["a\nb"]],
    ["echo $HOME *.txt ~ `id`", ["echo", "$HOME", "*.txt", "~", "`id`"]],
    ["a|b ; c && d > e", ["a|b", ";", "c", "&&", "d", ">", "e"]],
    ["# not a comment", ["#", "not", "a", "comment"]],
    ["sh -c 'echo $SOCKIT_PEER_ADDR'", ["sh", "-c", "echo $SOCKIT_PEER_ADDR"]],
    ["naïve 日本 \u{1f600}", ["naïve", "日本", "\u{1f600}"]],
  ];
  for (const [input, want] of table) {
    test(`splits ${JSON.stringify(input)}`, () => {
      assert.deepEqual(shellwords(input), want);
    });
  }

  const bad: Array<[string, number, string]> = [
    ["echo 'oops", 6, "single"],
    ['echo "oops', 6, "double"],
    ["'", 1, "single"],
    ['"\\"', 1, "double"],
    ["a 'b' \"c", 7, "double"],
    ["\"it's", 1, "double"],
  ];
  for (const [input, column, kind] of bad) {
    test(`rejects ${JSON.stringify(input)} with a UsageError naming the ${kind} quote at column ${column}`, () => {
      assert.throws(
        () => shellwords(input),
        (err: unknown) => {
          assert.ok(err instanceof ShellwordsError);
          assert.ok(err instanceof UsageError);
          assert.equal(err.column, column);
          assert.match(err.message, new RegExp(`unterminated ${kind} quote .* column ${column}`));
          return true;
        },
      );
    });
  }

  test("never throws anything but ShellwordsError, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        try {
          const words = shellwords(s);
          assert.ok(Array.isArray(words));
          for (const w of words) assert.equal(typeof w, "string");
        } catch (err) {
          assert.ok(err instanceof ShellwordsError, String(err));
          assert.ok(err.column >= 1 && err.column <= s.length);
          assert.ok(s[err.column - 1] === "'" || s[err.column - 1] === '"');
        }
      }),
      fcParams(2000),
    );
  });

  test("input with no quotes never throws", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", " ", "\\", "\n", "\t", "$", "é") }), (s) => {
        shellwords(s);
      }),
      fcParams(1000),
    );
  });

  test("shellQuote round-trips any argv", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 20 }), { maxLength: 8 }), (argv) => {
        assert.deepEqual(shellwords(argv.map(shellQuote).join(" ")), argv);
      }),
      fcParams(1000),
    );
  });

  test("splits like /bin/sh does (quote removal only, no operators or expansion in the alphabet)", () => {
    // printf prints one bracketed line per argument; the leading "x" makes "no argument" visible
    const sh = (line: string): string[] => {
      const out = execFileSync("/bin/sh", ["-c", `printf '[%s]\\n' x ${line}`], {
        encoding: "utf8",
        timeout: 5000,
      });
      const lines = out.split("\n").slice(0, -1);
      return lines.slice(1).map((l) => l.slice(1, -1));
    };
    const alphabet = fc.constantFrom("a", "b", " ", "\t", "'", '"', "\\", "\\", "$");
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 24 }), (line) => {
        // "$" only where the shell cannot expand it: before a blank or at the end
        if (/\$(?![ \t]|$)/.test(line)) return;
        let ours: string[] | undefined;
        try {
          ours = shellwords(line);
        } catch (err) {
          assert.ok(err instanceof ShellwordsError);
          return; // the shell reports a syntax error for these; nothing to compare
        }
        assert.deepEqual(ours, sh(line), `for ${JSON.stringify(line)}`);
      }),
      fcParams(150),
    );
  });
});
