/**
 * Hostile input to sockit's JSON-RPC server, with fast-check (fixed seed; FC_SEED overrides):
 * any JSON value given to the dispatcher, and any bytes sent over a real TCP connection, give
 * only well-formed JSON-RPC responses with the specification's codes — no crash, no other error,
 * no prototype lookups; and memory stays bounded: a message past `maxMessage` is refused after
 * about that many bytes (the server stops reading and closes), a batch past `maxBatch` is refused,
 * and a client that pipelines requests without reading the replies gets at most `concurrency`
 * of them running.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, test } from "node:test";
import fc from "fast-check";
import { jsonStream } from "../src/codec/index.js";
import { connect, JsonRpcServer } from "../src/jsonrpc/index.js";
import { type Conn, dial } from "../src/net/index.js";
import { within } from "./support/leaks.js";

const seed = Number(process.env.FC_SEED ?? 42);
const CODES = new Set([-32700, -32600, -32601, -32602, -32603, -32001, -32000]);

function server(opts: ConstructorParameters<typeof JsonRpcServer>[0] = {}): JsonRpcServer {
  return new JsonRpcServer(opts)
    .method("add", (p: unknown) => {
      if (!Array.isArray(p) || typeof p[0] !== "number" || typeof p[1] !== "number")
        throw new TypeError("add wants two numbers");
      return p[0] + p[1];
    })
    .method("echo", (p: unknown) => p ?? null);
}

/** Asserts `r` is one well-formed response; returns its error code (or undefined). */
function checkResponse(r: unknown): number | undefined {
  assert.ok(typeof r === "object" && r !== null && !Array.isArray(r), `not an object: ${JSON.stringify(r)}`);
  const o = r as Record<string, unknown>;
  assert.equal(o.jsonrpc, "2.0");
  assert.ok("id" in o, "a response always has an id");
  assert.ok(o.id === null || typeof o.id === "string" || typeof o.id === "number");
  assert.notEqual("result" in o, "error" in o, "exactly one of result and error");
  if (!("error" in o)) return undefined;
  const e = o.error as { code: unknown; message: unknown };
  assert.equal(typeof e.message, "string");
  assert.ok(CODES.has(e.code as number), `unexpected code ${String(e.code)}`);
  return e.code as number;
}

const methodName = fc.oneof(
  fc.constantFrom("add", "echo", "__proto__", "constructor", "toString", "hasOwnProperty", ""),
  fc.string({ maxLength: 8 }),
);
const id = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 6 }),
  fc.constant(null),
  fc.double(),
  fc.object({ maxDepth: 1 }),
);
const requestish = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant("2.0"), fc.constant("1.0"), fc.jsonValue({ maxDepth: 1 })),
    method: fc.oneof(methodName, fc.jsonValue({ maxDepth: 1 })),
    params: fc.oneof(
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    id,
  },
  { requiredKeys: [] },
);
const message = fc.oneof(
  requestish,
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.oneof(requestish, fc.jsonValue({ maxDepth: 1 })), { maxLength: 6 }),
);

describe("JSON-RPC server under hostile input", () => {
  test("dispatch: any JSON value gives nothing, a response, or a batch of them — never a throw", async () => {
    const s = server();
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const out = await s.handle(m);
        if (out === undefined) return;
        if (Array.isArray(out)) {
          assert.ok(Array.isArray(m) && out.length > 0 && out.length <= m.length);
          out.forEach(checkResponse);
        } else checkResponse(out);
        // a request for a name the server does not have is never found on Object.prototype
        const r = m as { method?: unknown; id?: unknown; jsonrpc?: unknown };
        if (
          !Array.isArray(m) &&
          r?.jsonrpc === "2.0" &&
          typeof r.method === "string" &&
          !["add", "echo"].includes(r.method)
        ) {
          if (!Array.isArray(out) && "error" in out && out.error.code !== -32600)
            assert.equal(out.error.code, -32601);
        }
      }),
      { seed, numRuns: 400 },
    );
  });

  test("any bytes over TCP: only well-formed responses, then the server closes; it keeps serving", async () => {
    const ln = await server({ maxMessage: 256 }).listen("tcp://127.0.0.1:0");
    const pieces = fc.constantFrom(
      '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}',
      '{"jsonrpc":"2.0","method":"echo"}',
      "[",
      "]",
      "{",
      "}",
      '"',
      "\\",
      ",",
      ":",
      "\n",
      " ",
      "1",
      "null",
      "\u00e9",
      "\u0000",
      "\xff",
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)),
      fc.array(pieces, { maxLength: 60 }).map((a) => Buffer.from(a.join(""), "utf8")),
    );
    try {
      await fc.assert(
        fc.asyncProperty(bytes, async (data) => {
          const conn = await dial("tcp", ln.address);
          try {
            await conn.write(data).catch(() => {}); // the server may already have closed
            await conn.closeWrite().catch(() => {});
            const d = jsonStream({ maxFrame: 1 << 16 }).decoder();
            const got: unknown[] = [];
            for (;;) {
              const b = await within(
                conn.read().catch(() => null),
                5000,
                "the server's replies and close",
              );
              if (b === null) break;
              got.push(...d.push(b));
            }
            got.push(...d.end());
            for (const r of got) (Array.isArray(r) ? r : [r]).forEach(checkResponse);
          } finally {
            await conn.close();
          }
        }),
        { seed, numRuns: 60 },
      );
      const c = await connect(ln.address);
      assert.equal(await c.call("add", [2, 2]), 4, "the server still serves");
      await c.close();
    } finally {
      await ln.close();
    }
  });

  test("a message past maxMessage is refused (-32600, id null) and the server stops reading", async () => {
    const ln = await server({ maxMessage: 1024 }).listen("tcp://127.0.0.1:0");
    const conn: Conn = await dial("tcp", ln.address);
    try {
      const reply = conn.read();
      // an endless string: no framing can end it; the server must not keep it
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      let refused: unknown;
      await conn.write('{"jsonrpc":"2.0","method":"echo","params":["');
      while (sent < 64 * 1024 * 1024) {
        try {
          await within(conn.write(chunk), 5000, "a write");
        } catch (err) {
          refused = err;
          break;
        }
        sent += chunk.length;
      }
      assert.ok(refused !== undefined, `the server took all ${sent} bytes`);
      // loopback buffers hold a few MiB at most: the server stopped long before 64 MiB
      assert.ok(sent < 16 * 1024 * 1024, `sent ${sent} bytes before the server closed`);
      const r = JSON.parse((await within(reply, 5000, "the reply"))!.toString()) as {
        error: { code: number };
        id: unknown;
      };
      assert.equal(r.error.code, -32600);
      assert.equal(r.id, null);
    } finally {
      conn.abort();
      await ln.close();
    }
  });

  test("a batch past maxBatch is refused as a whole", async () => {
    const ln = await server({ maxBatch: 10 }).listen("tcp://127.0.0.1:0");
    const c = await connect(ln.address);
    try {
      const items = Array.from({ length: 11 }, () => ({ method: "echo", params: [1] }));
      // the server answers one error with id null: every call of the batch gets it
      const r = await c.batch(items);
      assert.equal(r.length, 11);
      for (const x of r)
        assert.ok(!x.ok && (x.error as { code?: number }).code === -32600, JSON.stringify(x));
    } finally {
      await c.close();
      await ln.close();
    }
  });

  test("500 pipelined requests from a client that does not read: at most `concurrency` run", async () => {
    let running = 0;
    let most = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const s = new JsonRpcServer({ concurrency: 4 }).method("wait", async () => {
      most = Math.max(most, ++running);
      await gate;
      running--;
      return 1;
    });
    const ln = await s.listen("tcp://127.0.0.1:0");
    const conn = await dial("tcp", ln.address);
    try {
      const reqs = Array.from({ length: 500 }, (_, i) =>
        JSON.stringify({ jsonrpc: "2.0", method: "wait", id: i }),
      );
      await conn.write(`${reqs.join("\n")}\n`);
      await sleep(100);
      assert.equal(most, 4, "no more than 4 started while they hang");
      release();
      const d = jsonStream({ maxFrame: 1 << 16 }).decoder();
      const got: unknown[] = [];
      while (got.length < 500) {
        const b = await within(conn.read(), 5000, "the replies");
        assert.ok(b !== null, `closed after ${got.length} replies`);
        got.push(...d.push(b));
      }
      assert.equal(most, 4);
      assert.deepEqual(new Set(got.map((r) => (r as { id: number }).id)).size, 500);
    } finally {
      await conn.close();
      await ln.close();
    }
  });

  test("a client that sends requests and never reads the replies: the server stops reading it", async () => {
    // replies wait to be written: they count against `concurrency` until written, so a client
    // that does not read ends up blocked by TCP flow control instead of queueing replies here
    const ln = await server({ concurrency: 4 }).listen("tcp://127.0.0.1:0");
    const conn = await dial("tcp", ln.address);
    try {
      const one = `${JSON.stringify({ jsonrpc: "2.0", method: "echo", params: ["x".repeat(200)], id: 1 })}\n`;
      const chunk = Buffer.from(one.repeat(Math.floor((256 * 1024) / one.length)));
      let sent = 0;
      let stalled = false;
      while (sent < 128 * 1024 * 1024) {
        const w = conn.write(chunk);
        const t = new Promise<"stall">((r) => setTimeout(() => r("stall"), 1000).unref());
        if ((await Promise.race([w, t])) === "stall") {
          stalled = true;
          w.catch(() => {}); // settles (EBADF) when the connection is closed below
          break;
        }
        sent += chunk.length;
      }
      assert.ok(stalled, `the server read all ${sent} bytes of requests without their replies being read`);
      assert.ok(sent < 64 * 1024 * 1024, `stalled only after ${sent} bytes`);
    } finally {
      conn.abort();
      await ln.close();
    }
  });
});
