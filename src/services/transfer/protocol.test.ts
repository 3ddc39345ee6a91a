import assert from "node:assert/strict";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  checkName,
  formatReceiver,
  formatSender,
  isRefusal,
  MAX_DEPTH,
  MAX_LINE,
  NAME_MAX,
  parseReceiverLine,
  parseSenderLine,
  partName,
  type ReceiverMessage,
  type SenderMessage,
  splitPath,
} from "./protocol.js";

const params = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });
const b = (s: string) => Buffer.from(s, "utf8");
const HASH = "a".repeat(64);

/** A component the receiver must accept: no separator, no control character, not . or .., ≤ 255 bytes. */
const goodName = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .map((s) => s.replace(/[/\\\u0000-\u001f\u007f-\u009f]/g, "_"))
  .filter((s) => s !== "." && s !== ".." && Buffer.byteLength(s) <= NAME_MAX);
const goodPath = fc.array(goodName, { minLength: 1, maxLength: 4 }).map((p) => p.join("/"));

/** Pieces hostile names are made of: traversal, separators, encodings of them, controls, NUL. */
const hostilePiece = fc.constantFrom(
  "..",
  ".",
  "/",
  "\\",
  "%2f",
  "..%2f",
  "\u0000",
  "\n",
  "\r",
  "\u001b[2J",
  "\u0085",
  "\u007f",
  "／",
  "a",
  "é",
  " ",
  "",
  "x".repeat(100),
);
const hostilePath = fc.array(hostilePiece, { minLength: 1, maxLength: 12 }).map((a) => a.join(""));

/** What must hold of every path the parser lets through: each component valid, inside the root. */
function assertContained(path: string): void {
  for (const c of path.split("/")) assert.equal(checkName(c), undefined, `component ${JSON.stringify(c)}`);
  const root = resolve("/srv/in");
  const rel = relative(root, resolve(root, ...path.split("/")));
  assert.ok(rel !== "" && rel.split(sep)[0] !== ".." && !isAbsolute(rel), `${path} escapes: ${rel}`);
}

describe("transfer protocol: names", () => {
  test("checkName refuses .., separators, control characters and names over 255 bytes", () => {
    for (const [name, errno] of [
      ["..", "EINVAL"],
      [".", "EINVAL"],
      ["", "EINVAL"],
      ["a/b", "EINVAL"],
      ["..\\x", "EINVAL"],
      ["a\u0000b", "EINVAL"],
      ["a\nb", "EINVAL"],
      ["a\u001b[2J", "EINVAL"],
      ["\u0085", "EINVAL"],
      ["é".repeat(128), "ENAMETOOLONG"], // 256 bytes
      ["x".repeat(256), "ENAMETOOLONG"],
    ] as const)
      assert.equal(checkName(name)?.errno, errno, JSON.stringify(name));
    for (const name of ["a.bin", "x".repeat(255), "é".repeat(127), "..a", "a..", "%2e%2e", "日本語.txt"])
      assert.equal(checkName(name), undefined, name);
  });

  test("splitPath refuses a path deeper than MAX_DEPTH and empty components (leading, double, trailing /)", () => {
    assert.deepEqual(splitPath("a/b/c"), ["a", "b", "c"]);
    for (const p of [
      "/etc/passwd",
      "a//b",
      "a/",
      "a/../../b",
      Array(MAX_DEPTH + 1)
        .fill("d")
        .join("/"),
    ])
      assert.ok(isRefusal(splitPath(p)), p);
  });

  test("partName is .NAME.part, and still a valid name (≤ 255 bytes) for a 255-byte NAME", () => {
    assert.equal(partName("a.bin"), ".a.bin.part");
    const long = partName("x".repeat(255));
    assert.equal(checkName(long), undefined);
    assert.equal(long, partName("x".repeat(255)), "a re-run finds the same .part");
    assert.notEqual(long, partName("y".repeat(255)));
  });
});

describe("transfer protocol: lines", () => {
  test("property: every sender message survives format → parse", () => {
    const msg: fc.Arbitrary<SenderMessage> = fc.oneof(
      fc.record({
        kind: fc.constant("FILE" as const),
        size: fc.maxSafeNat(),
        sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
        path: goodPath,
      }),
      fc.record({ kind: fc.constant("DIR" as const), path: goodPath }),
      fc.record({ kind: fc.constant("DATA" as const), from: fc.maxSafeNat() }),
      fc.constant({ kind: "END" as const }),
    );
    fc.assert(
      fc.property(msg, (m) => {
        assert.deepEqual(parseSenderLine(b(formatSender(m))), { ...m });
      }),
      params(2000),
    );
  });

  test("property: every receiver message survives format → parse; a refusal's text loses control characters", () => {
    const msg: fc.Arbitrary<ReceiverMessage> = fc.oneof(
      fc.record({
        kind: fc.constant("OK" as const),
        have: fc.maxSafeNat(),
        sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      }),
      fc.record({ kind: fc.constant("ACK" as const), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }),
      fc.constant({ kind: "HAVE" as const }),
      fc.constant({ kind: "BYE" as const }),
      fc.record({
        kind: fc.constant("NO" as const),
        errno: fc.constantFrom("EEXIST", "ENOSPC", "EFBIG", "EINVAL"),
        text: fc.string({ minLength: 1, maxLength: 200 }),
      }),
    );
    fc.assert(
      fc.property(msg, (m) => {
        const line = formatReceiver(m);
        assert.ok(Buffer.byteLength(line) <= MAX_LINE);
        const back = parseReceiverLine(b(line));
        if (m.kind !== "NO") assert.deepEqual(back, { ...m });
        else {
          assert.deepEqual(isRefusal(back) ? "refusal" : back.kind, "NO");
          const no = back as Extract<ReceiverMessage, { kind: "NO" }>;
          assert.equal(no.errno, m.errno);
          assert.doesNotMatch(no.text, /[\u0000-\u001f\u007f-\u009f]/);
        }
      }),
      params(2000),
    );
  });

  test("property: hostile names in FILE and DIR lines are refused, or accepted only inside the root", () => {
    fc.assert(
      fc.property(hostilePath, fc.boolean(), (path, dir) => {
        const line = dir ? `DIR ${path}\n` : `FILE 10 ${HASH} ${path}\n`;
        const m = parseSenderLine(b(line));
        if (isRefusal(m)) {
          assert.match(m.errno, /^E[A-Z]+$/);
          assert.ok(m.text.length > 0);
          return;
        }
        assert.ok(m.kind === "DIR" || m.kind === "FILE");
        assertContained(m.path);
      }),
      params(5000),
    );
  });

  test("property: arbitrary bytes never throw and never yield a name outside the root", () => {
    const prefix = fc.constantFrom("", "FILE ", `FILE 1 ${HASH} `, "DIR ", "DATA ", "END", "XFER/1");
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 600 }), fc.boolean(), (p, bytes, nl) => {
        const line = Buffer.concat([b(p), bytes, nl ? b("\n") : Buffer.alloc(0)]);
        const m = parseSenderLine(line);
        if (isRefusal(m)) return;
        if (m.kind === "FILE" || m.kind === "DIR") assertContained(m.path);
        if (m.kind === "FILE") assert.ok(Number.isSafeInteger(m.size) && m.size >= 0);
        const r = parseReceiverLine(line);
        if (!isRefusal(r) && r.kind === "NO")
          assert.match((r as Extract<ReceiverMessage, { kind: "NO" }>).errno, /^E[A-Z0-9]+$/);
      }),
      params(5000),
    );
  });

  test("a line over MAX_LINE bytes, a line without its newline and non-UTF-8 are protocol errors", () => {
    const long = `FILE 1 ${HASH} ${"x/".repeat(MAX_LINE)}x\n`;
    assert.equal((parseSenderLine(b(long)) as { errno?: string }).errno, "EPROTO");
    assert.equal((parseSenderLine(b("END")) as { errno?: string }).errno, "EPROTO");
    assert.equal(
      (parseSenderLine(Buffer.from([0x44, 0x49, 0x52, 0x20, 0xff, 0x0a])) as { errno?: string }).errno,
      "EPROTO",
    );
  });

  test("sizes: leading zeros, signs, exponents and values past 2^53 - 1 are refused", () => {
    for (const size of ["01", "-1", "+1", "1e3", "0x10", "9007199254740992", "1 ", ""])
      assert.ok(isRefusal(parseSenderLine(b(`FILE ${size} ${HASH} a\n`))), size);
    assert.ok(!isRefusal(parseSenderLine(b(`FILE 9007199254740991 ${HASH} a\n`))));
    assert.ok(isRefusal(parseSenderLine(b(`FILE 1 ${HASH.toUpperCase()} a\n`))), "hash is lowercase hex");
  });
});
