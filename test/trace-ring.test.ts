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
import {
  BatchError,
  checkBinaryBatch,
  parseBatch,
  parseBinaryBatch,
} from "../src/services/traceview/batch.js";
import { type CallEvent, renderValue, type Sym, type TraceValue } from "../src/trace.js";
import { batchHead } from "../src/trace-export.js";
import {
  decodeRecords,
  RECORD_MAX,
  RING_CONTROL_BYTES,
  RING_MIN,
  RING_PREVIEW,
  type RingRecord,
  TraceRing,
} from "../src/trace-ring.js";

const SEED = Number(process.env.FC_SEED ?? 42);

// fast-check's default size keeps arrays and strings to ~10 items: each of these mixes short
// values with long ones, so that the cuts (41 bytes of an argument, 64 of data, 512 units of a
// string, 16 values of a list) are met too
const bytes = (max: number) =>
  fc
    .oneof(
      { arbitrary: fc.uint8Array({ maxLength: 16 }), weight: 3 },
      fc.uint8Array({ minLength: 17, maxLength: max, size: "max" }),
    )
    .map((u) => Buffer.from(u));
const anyString = fc.oneof(
  { arbitrary: fc.string({ unit: "binary", maxLength: 24 }), weight: 6 },
  fc.string({ unit: "binary", minLength: 400, maxLength: 700, size: "max" }),
);

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
      fc.array(fc.integer(), { minLength: 14, maxLength: 20, size: "max" }),
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
  // mostly call names, sometimes anything (refused)
  call: fc.oneof(
    { arbitrary: fc.stringMatching(/^[a-z_]{1,32}$/), weight: 4 },
    { arbitrary: fc.string({ maxLength: 600 }), weight: 1 },
  ),
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
      const named = /^[a-z_]{1,32}$/.test(e.call);
      if (named && !deep && size + 16 < RECORD_MAX) assert.ok(ok, `a call of ~${size} bytes fits a record`);
      if (deep) assert.equal(ok, false, "lists nested deeper than 4 are refused");
      if (!named) assert.equal(ok, false, "a call whose name is not a call's name is refused");
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
        call: e.call,
        args: args.slice(0, 16).map(kept),
        start: e.start,
        duration: e.duration,
      };
      if (e.error)
        want.error = {
          name: e.error.name.slice(0, 512),
          code: e.error.code.slice(0, 512),
          errno: Number.isInteger(e.error.errno) ? e.error.errno : 0,
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
      fc.array(
        // writes (8 records each) more often than reads: the writer runs ahead and wraps while
        // records wait, so a reader meets the wrap mark in the middle of what it takes
        fc.oneof(
          { arbitrary: fc.integer({ min: 0, max: 512 }), weight: 6 },
          fc.constant(-1),
          fc.constant(-2),
          fc.constant(-3),
          fc.constant(-4),
          fc.constant(-5),
        ),
        { minLength: 1, maxLength: 400 },
      ),
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
        /** The worker's way: whole records copied out in runs, at most `max`, as many as fit. */
        const takeMany = (room: number, max: number): void => {
          const out = Buffer.alloc(room);
          const { n, end } = ring.take(out, 0, max);
          assert.ok(n <= max && end <= room);
          const got = decodeRecords(out.subarray(0, end), max);
          assert.equal(got.length, n, "the count and the bytes agree");
          for (const r of got) {
            assert.equal(r.fd, model.shift(), "in order, none lost");
            assert.equal(r.args[0], "x".repeat(r.result as number), "whole");
          }
          // it stops early only when nothing waits or the next record (≤ ~1.1 KB here) does not fit
          if (n < max && model.length > 0) assert.ok(room - end < 1200, `${room - end} bytes left unused`);
        };
        for (const op of ops) {
          if (op === -1) take("next");
          else if (op === -2) take("skip");
          else if (op === -3) takeMany(64 * 1024, 5);
          else if (op === -4) takeMany(3000, 64);
          else if (op === -5)
            takeMany(64 * 1024, 1000); // all that waits, across the wrap
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

test("take() copies runs of records up to a wrap mark the writer left behind, then goes on at the start", () => {
  const ring = newRing(RING_MIN + 24 * 1024);
  const rec = (i: number): CallEvent => ({
    fd: i,
    call: "send",
    args: ["y".repeat(480)],
    result: 0,
    start: i,
    duration: 0,
  });
  const out = Buffer.alloc(1 << 20);
  let i = 0;
  // the reader catches up past RECORD_MAX: the writer may wrap from now on
  for (; i < 20; i++) assert.ok(ring.put(rec(i), 1, i, undefined, undefined, 0));
  assert.equal(ring.take(out, 0, 1000).n, 20);
  // the writer runs on to the end of its room, wraps (a mark where it stopped) and goes on at 0
  // until the ring is full: ~21 records of ~1 KB before the mark, ~4 after it
  const first = i;
  while (i < first + 100 && ring.put(rec(i), 1, i, undefined, undefined, 0)) i++;
  const waiting = i - first;
  assert.ok(waiting > 21 && waiting < 100, `${waiting} records on both sides of the mark`);
  const { n, end } = ring.take(out, 0, 1000);
  assert.equal(n, waiting, "every record that waits, before and after the mark");
  assert.deepEqual(
    decodeRecords(out.subarray(0, end), 1000).map((r) => r.fd),
    Array.from({ length: waiting }, (_, k) => first + k),
    "in order, the mark not among them",
  );
  assert.equal(ring.take(out, 0, 1000).n, 0);
});

test("a buffer smaller than the ring needs is refused with a clear error", () => {
  assert.throws(() => newRing(RING_MIN - 8), /TraceRing: the buffer needs \d+ bytes or more/);
});

/** Calls as the collector takes them (a call name, integer fds and errnos, finite times). */
const plainValue = fc.letrec<{ v: TraceValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    fc.integer(),
    anyString,
    fc.constant(null),
    fc.boolean(),
    bytes(100),
    fc.constantFrom("AF_INET", "SOCK_STREAM", "MSG_PEEK").map((s): Sym => ({ sym: s })),
    fc.array(tie("v"), { maxLength: 20 }),
  ),
})).v;
const plainEvent = fc.record({
  fd: fc.integer({ min: -1, max: 1 << 20 }),
  call: fc.constantFrom("socket", "bind", "connect", "accept", "send", "recv", "recvfrom", "close"),
  args: fc.array(plainValue, { maxLength: 16 }),
  result: fc.option(plainValue, { nil: undefined }),
  error: fc.option(fc.record({ name: anyString, code: anyString, errno: fc.integer(), message: anyString }), {
    nil: undefined,
  }),
  data: fc.option(bytes(200), { nil: undefined }),
  start: fc.double({ min: 0, max: 1e9, noNaN: true }),
  duration: fc.double({ min: 0, max: 1e6, noNaN: true }),
});

/** `events` as the exporter's worker POSTs them: a header, then the records out of a ring. */
function binaryBatch(events: readonly CallEvent[], dropped = 0): { body: Buffer; n: number } {
  const ring = newRing(RING_MIN);
  const out = Buffer.alloc(1 << 20);
  let n = 0;
  let end = 0;
  events.forEach((ev, i) => {
    const data = ev.data;
    if (!ring.put(ev, i + 1, ev.fd, undefined, data, data?.length ?? 0)) return;
    const got = ring.take(out, end, 1);
    n += got.n;
    end = got.end;
  });
  const head = batchHead({ pid: 4242, proc: "lab.js", origin: 1.7e12, dropped });
  return { body: Buffer.concat([head, out.subarray(0, end)]), n };
}

test("a binary batch reads back as the calls rendered: what the exporter sends is what the viewer shows", () => {
  fc.assert(
    fc.property(fc.array(plainEvent, { maxLength: 12 }), fc.nat(1000), (es, dropped) => {
      const events: CallEvent[] = es.map((e) => ({
        fd: e.fd,
        call: e.call,
        args: e.args,
        ...(e.error !== undefined ? { error: e.error } : e.result !== undefined ? { result: e.result } : {}),
        ...(e.data !== undefined ? { data: e.data } : {}),
        start: e.start,
        duration: e.duration,
      }));
      const { body, n } = binaryBatch(events, dropped);
      let batch;
      try {
        batch = parseBinaryBatch(body);
      } catch (err) {
        // the one thing the collector refuses in a well-formed batch: a port that is no port
        assert.ok(err instanceof BatchError && /port/.test(err.message), String(err));
        return;
      }
      assert.equal(batch.dropped, dropped);
      assert.equal(batch.events.length, n);
      // the binary path checks less because its types are fixed: the JSON path's full check
      // takes every record it made, unchanged
      assert.deepEqual(parseBatch(JSON.stringify({ events: batch.events })).events, batch.events);
      const kept1 = events.filter((_, i) => i < n); // small calls: every one fits
      assert.equal(n, events.length, "every call of this size fits");
      batch.events.forEach((r, i) => {
        const ev = kept1[i]!;
        assert.equal(r.pid, 4242);
        assert.equal(r.proc, "lab.js");
        assert.equal(r.sock, i + 1);
        assert.equal(r.fd, ev.fd);
        assert.equal(r.call, ev.call);
        assert.deepEqual(
          r.args,
          ev.args.slice(0, 16).map((a) => renderValue(kept(a)).slice(0, 512)),
        );
        if (ev.error)
          assert.deepEqual(
            r.error,
            ev.error && {
              ...ev.error,
              name: ev.error.name.slice(0, 512),
              code: ev.error.code.slice(0, 512),
              message: ev.error.message.slice(0, 512),
            },
          );
        else assert.equal(r.result, renderValue(kept(ev.result)).slice(0, 512));
        if (ev.data) {
          assert.equal(r.len, ev.data.length);
          assert.equal(r.hex, ev.data.subarray(0, 64).toString("hex"));
        } else assert.equal(r.len, undefined);
        assert.equal(r.t, Math.round((1.7e12 + ev.start) * 1000) / 1000);
      });
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test("hostile binary batches: the collector's parser answers BatchError (400/413), never anything else", () => {
  const valid = binaryBatch([
    { fd: 3, call: "connect", args: [["127.0.0.1", 7013]], result: 0, start: 1, duration: 0.1 },
    { fd: 3, call: "recv", args: [1024], result: 5, data: Buffer.from("hello"), start: 2, duration: 0 },
    { fd: 3, call: "accept", args: [], result: [4, ["::1", 5, 0, 0]], start: 3, duration: 0 },
  ]).body;
  const only = (f: () => unknown): void => {
    try {
      f();
    } catch (err) {
      assert.ok(err instanceof BatchError, `a BatchError, not ${String(err)}`);
      assert.ok(err.status === 400 || err.status === 413);
    }
  };
  fc.assert(
    fc.property(
      fc.oneof(
        // anything at all
        fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)),
        // a valid batch with bytes changed
        fc
          .array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 })
          .map((edits) => {
            const b = Buffer.from(valid);
            for (const [at, v] of edits) b[at] = v;
            return b;
          }),
        // a valid batch cut short, or with bytes after it
        fc.nat(valid.length).map((k) => valid.subarray(0, k)),
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((u) => Buffer.concat([valid, u])),
      ),
      (body) => {
        only(() => parseBinaryBatch(body));
        // the collector checks on arrival and decodes later: the check and the decode agree
        let checked: number | string;
        let decoded: number | string;
        try {
          checked = checkBinaryBatch(body).count;
        } catch (err) {
          checked = (err as Error).message;
        }
        try {
          decoded = parseBinaryBatch(body).events.length;
        } catch (err) {
          decoded = (err as Error).message;
        }
        assert.equal(checked, decoded);
      },
    ),
    { seed: SEED, numRuns: 3000 },
  );
  assert.equal(parseBinaryBatch(valid).events.length, 3, "the unchanged batch is taken");
  assert.throws(
    () => parseBinaryBatch(valid, valid.length - 1),
    (e: unknown) => e instanceof BatchError && e.status === 413,
  );
  assert.throws(
    () => parseBinaryBatch(valid, undefined, 2),
    (e: unknown) => e instanceof BatchError && e.status === 413,
  );
});
