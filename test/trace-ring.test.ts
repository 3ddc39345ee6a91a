/**
 * The trace exporter's ring (src/trace-ring.ts), property-tested: any call written is read back
 * as the same call, cut only where the records say (strings to 512 units, lists to 16 values,
 * bytes to 41, data to 64); a call it cannot hold is refused whole and the ring goes on; and
 * under any interleaving of writes and reads across the wrap, records come out in order, none
 * lost, none torn, and an empty ring always takes a record.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { CallEvent, Sym, TraceValue } from "../src/trace.js";
import {
  RECORD_MAX,
  RING_CONTROL_BYTES,
  RING_MIN,
  RING_PREVIEW,
  type RingRecord,
  TraceRing,
} from "../src/trace-ring.js";

const SEED = Number(process.env.FC_SEED ?? 42);

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((u) => Buffer.from(u));
const anyString = fc.string({ unit: "binary", maxLength: 700 });

/** Any value an event may carry, nested up to `depth` lists (the ring takes 4 levels). */
const value = (depth: number): fc.Arbitrary<TraceValue> =>
  fc.letrec<{ v: TraceValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small", maxDepth: depth },
      fc.double(),
      fc.integer(),
      anyString,
      fc.constant(null),
      fc.boolean(),
      bytes(100),
      anyString.map((s): Sym => ({ sym: s })),
      fc.array(tie("v"), { maxLength: 20 }),
    ),
  })).v;

/** What the ring keeps of `v`: the same value, cut as the records cut it. */
function kept(v: TraceValue | undefined): TraceValue {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v.slice(0, 512);
  if (Buffer.isBuffer(v)) return v.subarray(0, 41);
  if (Array.isArray(v)) return (v as readonly TraceValue[]).slice(0, 16).map(kept);
  if (typeof v === "object") return { sym: (v as Sym).sym.slice(0, 512) };
  return v;
}

/** Lists within lists, counting the outermost as 1. */
function depthOf(v: TraceValue | undefined): number {
  return Array.isArray(v) ? 1 + Math.max(0, ...(v as TraceValue[]).slice(0, 16).map(depthOf)) : 0;
}

/** An upper bound on the bytes `v` takes in a record. */
function sizeOf(v: TraceValue | undefined): number {
  if (typeof v === "string") return 3 + 2 * Math.min(v.length, 512);
  if (Buffer.isBuffer(v)) return 2 + Math.min(v.length, 41);
  if (Array.isArray(v))
    return 2 + (v as TraceValue[]).slice(0, 16).reduce((n: number, x) => n + sizeOf(x), 0);
  if (v !== null && typeof v === "object") return 3 + 2 * Math.min((v as Sym).sym.length, 512);
  return 9;
}

const event = fc.record({
  fd: fc.integer({ min: -1, max: 1 << 20 }),
  call: fc.string({ maxLength: 600 }),
  args: fc.array(value(5), { maxLength: 20 }),
  result: fc.option(value(5), { nil: undefined }),
  error: fc.option(fc.record({ name: anyString, code: anyString, errno: fc.double(), message: anyString }), {
    nil: undefined,
  }),
  data: fc.option(bytes(200), { nil: undefined }),
  dataInArgs: fc.boolean(),
  start: fc.double(),
  duration: fc.double(),
  sock: fc.integer({ min: 0, max: 1 << 30 }),
  newSock: fc.option(fc.integer({ min: 0, max: 1 << 30 }), { nil: undefined }),
});

function newRing(bytesOfRecords: number): TraceRing {
  return new TraceRing(new SharedArrayBuffer(RING_CONTROL_BYTES + bytesOfRecords));
}

test("a call written into the ring reads back the same, cut where the records say", () => {
  const ring = newRing(RING_MIN);
  let accepted = 0;
  fc.assert(
    fc.property(event, (e) => {
      // the data, when the call has some, also stands among its arguments (a send's buffer)
      const args = e.data !== undefined && e.dataInArgs ? [...e.args.slice(0, 15), e.data] : e.args;
      const ev: CallEvent = {
        fd: e.fd,
        call: e.call,
        args,
        ...(e.error !== undefined ? { error: e.error } : e.result !== undefined ? { result: e.result } : {}),
        start: e.start,
        duration: e.duration,
      };
      const ok = ring.put(ev, e.sock, e.fd, e.newSock, e.data, e.data?.length ?? 0);
      const deep = Math.max(depthOf(ev.result), ...args.slice(0, 16).map(depthOf)) > 4;
      const size =
        64 +
        2 * Math.min(e.call.length, 512) +
        args.slice(0, 16).reduce((n: number, a) => n + sizeOf(a), 0) +
        (e.error
          ? 20 +
            2 *
              (Math.min(e.error.name.length, 512) +
                Math.min(e.error.code.length, 512) +
                Math.min(e.error.message.length, 512))
          : sizeOf(ev.result)) +
        (e.data ? 5 + RING_PREVIEW : 0);
      if (!deep && size + 16 < RECORD_MAX) assert.ok(ok, `a call of ~${size} bytes fits a record`);
      if (deep) assert.equal(ok, false, "lists nested deeper than 4 are refused");
      const back = ring.next();
      if (!ok) {
        assert.equal(back, undefined, "a refused call leaves nothing behind");
        return;
      }
      accepted++;
      assert.ok(back !== undefined);
      assert.equal(ring.next(), undefined, "one call, one record");
      const want: Record<string, unknown> = {
        sock: e.sock,
        fd: e.fd,
        call: e.call.slice(0, 512),
        args: args.slice(0, 16).map(kept),
        start: e.start,
        duration: e.duration,
      };
      if (e.error)
        want.error = {
          name: e.error.name.slice(0, 512),
          code: e.error.code.slice(0, 512),
          errno: e.error.errno,
          message: e.error.message.slice(0, 512),
        };
      else if (ev.result !== undefined) want.result = kept(ev.result);
      if (e.newSock !== undefined) want.newSock = e.newSock;
      if (e.data !== undefined) {
        want.len = e.data.length;
        want.head = e.data.subarray(0, RING_PREVIEW);
      }
      assert.deepStrictEqual({ ...back }, want);
    }),
    { seed: SEED, numRuns: 400 },
  );
  assert.ok(accepted > 200, `most calls fit (${accepted} of 400)`);
});

test("across the wrap: records come out in order, whole, none lost; an empty ring takes a record", () => {
  /** A call whose one argument (a string of `n` units) makes its record ~2n bytes. */
  const sized = (n: number, i: number): CallEvent => ({
    fd: i,
    call: "send",
    args: ["x".repeat(n), i],
    result: n,
    start: i,
    duration: 0,
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3 }).map((k) => RING_MIN + 8 * 1024 * k),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 512 }), fc.constant(-1), fc.constant(-2)), {
        minLength: 1,
        maxLength: 400,
      }),
      (bytesOfRecords, ops) => {
        const ring = newRing(bytesOfRecords);
        const model: number[] = [];
        let i = 0;
        const take = (how: "next" | "skip"): void => {
          if (how === "skip") {
            assert.equal(ring.skip(), model.length > 0);
            model.shift();
            return;
          }
          const r: RingRecord | undefined = ring.next();
          const want = model.shift();
          if (want === undefined) return assert.equal(r, undefined, "an empty ring reads nothing");
          assert.ok(r !== undefined, `record ${want} is there`);
          assert.equal(r.fd, want, "in order");
          assert.deepStrictEqual(r.args, [r.args[0], want]);
          assert.equal(r.args[0], "x".repeat(r.result as number), "whole");
        };
        for (const op of ops) {
          if (op === -1) take("next");
          else if (op === -2) take("skip");
          else {
            // a few records at once: the writer runs ahead of the reader and meets the tail
            for (let k = 0; k < 8; k++) {
              const n = (op * (k + 1)) % 513;
              const ok = ring.put(sized(n, i), 1, i, undefined, undefined, 0);
              if (model.length === 0) assert.ok(ok, "an empty ring always takes a record");
              if (ok) model.push(i);
              i++;
            }
          }
        }
        while (model.length > 0) take("next");
        assert.equal(ring.next(), undefined);
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});

test("a buffer smaller than the ring needs is refused with a clear error", () => {
  assert.throws(() => newRing(RING_MIN - 8), /TraceRing: the buffer needs \d+ bytes or more/);
});
