/**
 * The trace viewer's collector under hostile input: oversize bodies, bad JSON, malformed binary
 * batches, wrong types and methods answer 4xx and the collector goes on taking good batches;
 * the batch parser, fed any JSON value or any string (fast-check, fixed seed; FC_SEED
 * overrides), returns checked events or throws a BatchError with a 4xx status — nothing else —
 * and refuses a body past its maximum size.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import {
  BatchError,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  MAX_KEPT_EVENTS,
  parseBatch,
  serveTraceView,
} from "../src/services/traceview/index.js";
import { batchHead, TRACE_BATCH_TYPE } from "../src/trace-export.js";
import { RING_CONTROL_BYTES, RING_MIN, TraceRing } from "../src/trace-ring.js";

const seed = Number(process.env.FC_SEED ?? 42);

const GOOD = {
  pid: 7,
  proc: "app.js",
  sock: 1,
  fd: 3,
  call: "send",
  args: ["b'hi'"],
  result: "2",
  len: 2,
  hex: "6869",
  t: 1_700_000_000_000.5,
  dur: 0.1,
};

/** POSTs `body` to the collector at `address`; resolves the status (the answer read). */
async function postTo(address: string, body: string | Uint8Array, type: string): Promise<number> {
  const res = await fetch(`http://${address}/events`, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

describe("the collector answers hostile POSTs with 4xx and keeps working", { timeout: 30_000 }, () => {
  let v: Awaited<ReturnType<typeof serveTraceView>>;
  before(async () => {
    v = await serveTraceView("127.0.0.1:0");
  });
  after(async () => {
    await v.close();
  });

  const post = (body: string | Uint8Array, type = "application/json"): Promise<number> =>
    postTo(v.address, body, type);

  test("oversize, bad JSON, not a batch, bad fields, wrong type, wrong method", async () => {
    assert.equal(await post(Buffer.alloc(MAX_BATCH_BYTES + 1, 0x20)), 413);
    assert.equal(await post("{not json"), 400);
    assert.equal(await post('{"events": 5}'), 400);
    assert.equal(await post(JSON.stringify({ events: [{ ...GOOD, pid: "7" }] })), 400);
    assert.equal(await post(JSON.stringify({ events: [{ ...GOOD, hex: "zz" }] })), 400);
    assert.equal(await post(JSON.stringify({ events: [{ ...GOOD, call: "<script>" }] })), 400);
    assert.equal(await post(JSON.stringify({ events: Array(MAX_BATCH_EVENTS + 1).fill(GOOD) })), 413);
    assert.equal(await post(JSON.stringify({ events: [GOOD] }), "text/plain"), 415);
    const put = await fetch(`http://${v.address}/events`, { method: "PUT", body: "x" });
    await put.arrayBuffer();
    assert.equal(put.status, 405);
    assert.equal(v.web.events.length, 0, "nothing refused was kept");
    assert.equal(await post(JSON.stringify({ events: [GOOD], dropped: 3 })), 204);
    const saved = (await (await fetch(`http://${v.address}/trace.json`)).json()) as unknown[];
    assert.deepEqual(saved, [GOOD]);
    const page = await fetch(`http://${v.address}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>sockit trace-view<\/title>/);
  });

  test("binary batches (the exporter's form): malformed ones answer 400, good ones are kept as records", async () => {
    const before = v.web.events.length;
    const ring = new TraceRing(new SharedArrayBuffer(RING_CONTROL_BYTES + RING_MIN));
    const data = Buffer.from("hi");
    assert.ok(
      ring.put(
        { fd: 3, call: "send", args: [data], result: 2, start: 0.5, duration: 0.1 },
        1,
        3,
        undefined,
        data,
        2,
      ),
    );
    const out = Buffer.alloc(4096);
    const { n, end } = ring.take(out, 0, 16);
    assert.equal(n, 1);
    const head = batchHead({ pid: 7, proc: "app.js", origin: 1_700_000_000_000, dropped: 0 });
    const good = Buffer.concat([head, out.subarray(0, end)]);
    assert.equal(await post(Buffer.from("SKTB"), TRACE_BATCH_TYPE), 400, "cut short");
    assert.equal(
      await post(Buffer.concat([Buffer.from("XXXX"), good.subarray(4)]), TRACE_BATCH_TYPE),
      400,
      "bad magic",
    );
    assert.equal(await post(good.subarray(0, good.length - 8), TRACE_BATCH_TYPE), 400, "a record cut short");
    const badTag = Buffer.from(good);
    badTag[head.length + 4 + 25 + 2 + 8 + 1] = 99; // the argument's tag, after "send"
    assert.equal(await post(badTag, TRACE_BATCH_TYPE), 400, "an unknown value tag");
    assert.equal(v.web.events.length, before, "nothing refused was kept");
    assert.equal(await post(good, TRACE_BATCH_TYPE), 204);
    assert.deepEqual(v.web.events.slice(before), [GOOD]);
  });
});

test(
  "a live viewer keeps the newest MAX_KEPT_EVENTS events, binary and JSON batches alike",
  { timeout: 60_000 },
  async () => {
    const v = await serveTraceView("127.0.0.1:0");
    try {
      const post = (body: string | Uint8Array, type: string): Promise<number> =>
        postTo(v.address, body, type);
      // batches of 1000 binary records, each call numbered in its argument, then one JSON batch
      const ring = new TraceRing(new SharedArrayBuffer(RING_CONTROL_BYTES + (1 << 20)));
      const out = Buffer.alloc(1 << 20);
      const head = batchHead({ pid: 7, proc: "app.js", origin: 1_700_000_000_000, dropped: 0 });
      const batches = 101;
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < 1000; i++)
          assert.ok(
            ring.put(
              { fd: 3, call: "recv", args: [b * 1000 + i], result: 0, start: 1, duration: 0 },
              1,
              3,
              undefined,
              undefined,
              0,
            ),
          );
        const { n, end } = ring.take(out, 0, 1000);
        assert.equal(n, 1000);
        assert.equal(await post(Buffer.concat([head, out.subarray(0, end)]), TRACE_BATCH_TYPE), 204);
      }
      assert.equal(await post(JSON.stringify({ events: [GOOD, GOOD] }), "application/json"), 204);
      assert.equal(v.web.counters.events, batches * 1000 + 2, "every event was taken");
      const saved = (await (await fetch(`http://${v.address}/trace.json`)).json()) as { args: string[] }[];
      assert.equal(saved.length, MAX_KEPT_EVENTS);
      // the oldest 1002 are gone: the first kept is call number 1002, the last two are the JSON ones
      assert.deepEqual(saved[0]!.args, [String(batches * 1000 + 2 - MAX_KEPT_EVENTS)]);
      assert.deepEqual(saved[MAX_KEPT_EVENTS - 3]!.args, [String(batches * 1000 - 1)]);
      assert.deepEqual(saved.slice(-2), [GOOD, GOOD]);
    } finally {
      await v.close();
    }
  },
);

describe("parseBatch on any input", () => {
  const verdict = (body: string): "ok" | number => {
    try {
      const b = parseBatch(body, 4096, 16);
      for (const e of b.events) assert.ok(Number.isInteger(e.pid) && typeof e.call === "string");
      return "ok";
    } catch (err) {
      assert.ok(err instanceof BatchError, `only BatchError escapes, got ${String(err)}`);
      assert.ok(err.status === 400 || err.status === 413, `4xx: ${err.status}`);
      return err.status;
    }
  };

  test("any JSON value: checked events or a 4xx BatchError", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (j) => {
        verdict(JSON.stringify(j) ?? "null");
      }),
      { seed, numRuns: 400 },
    );
  });

  test("batches with fields of any type: checked, never passed through unchecked", () => {
    const field = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...Object.keys(GOOD), "addr", "error", "newSock"), field),
        (over) => {
          const v = verdict(JSON.stringify({ events: [{ ...GOOD, ...over }] }));
          if (v === "ok") {
            const e = parseBatch(JSON.stringify({ events: [{ ...GOOD, ...over }] })).events[0]!;
            assert.equal(typeof e.t, "number");
            assert.ok(e.hex === undefined || /^[0-9a-f]*$/.test(e.hex));
          }
        },
      ),
      { seed, numRuns: 400 },
    );
  });

  test("any string, and any body past the maximum size: 413 before parsing", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        verdict(s);
        assert.equal(verdict(`[${" ".repeat(4096)}${s}]`), 413);
      }),
      { seed, numRuns: 300 },
    );
  });
});
