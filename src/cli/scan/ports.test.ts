/**
 * The PORTS parser of `sockit scan`: forms by table, mistakes as UsageError, and properties over
 * generated lists (fast-check).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../exit.js";
import { MAX_SCAN_PORTS, parsePorts } from "./ports.js";

/** fast-check parameters: fixed seed (FC_SEED overrides; fast-check prints the failing seed). */
const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

test("parsePorts: single ports, ranges and lists, ascending and without duplicates", () => {
  const table: Array<[string, number[]]> = [
    ["22", [22]],
    ["1", [1]],
    ["65535", [65535]],
    ["0080", [80]],
    ["80,22", [22, 80]],
    ["20-23", [20, 21, 22, 23]],
    ["5-5", [5]],
    ["80,20-23,22,80", [20, 21, 22, 23, 80]],
    ["9000-9002,8080", [8080, 9000, 9001, 9002]],
    ["3-5,1-4", [1, 2, 3, 4, 5]],
  ];
  for (const [text, want] of table) assert.deepEqual(parsePorts(text), want, text);
  assert.equal(parsePorts("1-1024,8080,9000-9010").length, 1024 + 1 + 11);
  assert.equal(parsePorts("1-65535").length, MAX_SCAN_PORTS);
});

test("parsePorts: reversed ranges, port 0, out-of-range ports and garbage are UsageErrors", () => {
  const table: Array<[string, RegExp]> = [
    ["", /empty/],
    ["10-1", /reversed range "10-1": write 1-10/],
    ["0", /out of range/],
    ["0-10", /out of range/],
    ["65536", /out of range/],
    ["1-70000", /out of range/],
    ["123456", /bad port/],
    ["http", /bad port/],
    ["22,", /empty item/],
    [",22", /empty item/],
    ["22,,80", /empty item/],
    ["1-2-3", /bad port/],
    ["-5", /bad port/],
    ["5-", /bad port/],
    [" 22", /bad port/],
    ["22 ", /bad port/],
    ["+22", /bad port/],
    ["2e3", /bad port/],
    ["1".repeat(70_000), /longer than/],
  ];
  for (const [text, re] of table) {
    assert.throws(
      () => parsePorts(text),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      `${JSON.stringify(text.slice(0, 30))} should fail with ${re}`,
    );
  }
});

test("parsePorts stays fast on a long list of repeated full ranges", () => {
  const t0 = performance.now();
  const ports = parsePorts(Array(5000).fill("1-65535").join(","));
  assert.equal(ports.length, 65535);
  assert.ok(performance.now() - t0 < 5000);
});

test("property: parsePorts of generated lists is the sorted set of their ports", () => {
  const item = fc.oneof(
    fc.integer({ min: 1, max: 65535 }).map((p) => ({ text: String(p), lo: p, hi: p })),
    fc
      .tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 300 }))
      .map(([lo, len]) => ({ lo, hi: Math.min(65535, lo + len) }))
      .map((r) => ({ ...r, text: `${r.lo}-${r.hi}` })),
  );
  fc.assert(
    fc.property(fc.array(item, { minLength: 1, maxLength: 20 }), (items) => {
      const want = new Set<number>();
      for (const { lo, hi } of items) for (let p = lo; p <= hi; p++) want.add(p);
      assert.deepEqual(
        parsePorts(items.map((i) => i.text).join(",")),
        [...want].sort((a, b) => a - b),
      );
    }),
    fcParams(500),
  );
});

test("property: hostile PORTS text parses or raises UsageError, never anything else", () => {
  const arb = fc.oneof(
    fc
      .array(fc.constantFrom("1", "0", "9", "65535", "65536", "-", ",", " ", "x", "99999"), { maxLength: 15 })
      .map((p) => p.join("")),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ maxLength: 200 }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      try {
        const ports = parsePorts(s);
        assert.ok(ports.length >= 1 && ports.length <= MAX_SCAN_PORTS);
        for (let i = 0; i < ports.length; i++) {
          assert.ok(Number.isInteger(ports[i]) && ports[i]! >= 1 && ports[i]! <= 65535);
          if (i > 0) assert.ok(ports[i]! > ports[i - 1]!);
        }
      } catch (e) {
        assert.ok(e instanceof UsageError, `${JSON.stringify(s)} threw ${String(e)}`);
      }
    }),
    fcParams(3000),
  );
});
