/**
 * Every example of the JSON-RPC 2.0 specification (section 7) as a table, sent byte for byte to
 * sockit's server over a real socket (TCP on 127.0.0.1 and [::1], and a Unix path): one
 * connection per example, the client half-closes after it, and everything the server sends back
 * before closing is compared with the specification's answer by `code` and `id` (and `result`
 * for successes). "Nothing" means the server closed without sending a byte.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jsonStream } from "../src/codec/index.js";
import { JsonRpcServer, type RpcListener } from "../src/jsonrpc/index.js";
import { dial, type StreamNetwork } from "../src/net/index.js";
import { tempSocketPath } from "./support/kit.js";
import { within } from "./support/leaks.js";

/** The specification's expected answer: an object or a batch array of `{id, result|code}`; or none. */
type Want = { id: unknown; result?: unknown; code?: number };
interface Example {
  readonly name: string;
  readonly send: string;
  readonly want: Want | Want[] | "nothing";
}

const EXAMPLES: Example[] = [
  {
    name: "positional parameters (1)",
    send: '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
    want: { result: 19, id: 1 },
  },
  {
    name: "positional parameters (2)",
    send: '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
    want: { result: -19, id: 2 },
  },
  {
    name: "named parameters (1)",
    send: '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
    want: { result: 19, id: 3 },
  },
  {
    name: "named parameters (2)",
    send: '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
    want: { result: 19, id: 4 },
  },
  {
    name: "a notification",
    send: '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
    want: "nothing",
  },
  {
    name: "a notification of a method that does not exist",
    send: '{"jsonrpc": "2.0", "method": "foobar"}',
    want: "nothing",
  },
  {
    name: "non-existent method",
    send: '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
    want: { code: -32601, id: "1" },
  },
  {
    name: "invalid JSON",
    send: '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
    want: { code: -32700, id: null },
  },
  {
    name: "invalid Request object",
    send: '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
    want: { code: -32600, id: null },
  },
  {
    name: "batch, invalid JSON",
    send: '[\n  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},\n  {"jsonrpc": "2.0", "method"\n]',
    want: { code: -32700, id: null },
  },
  { name: "an empty array", send: "[]", want: { code: -32600, id: null } },
  { name: "an invalid batch (but not empty)", send: "[1]", want: [{ code: -32600, id: null }] },
  {
    name: "an invalid batch",
    send: "[1,2,3]",
    want: [
      { code: -32600, id: null },
      { code: -32600, id: null },
      { code: -32600, id: null },
    ],
  },
  {
    name: "a batch",
    send: `[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]`,
    want: [
      { result: 7, id: "1" },
      { result: 19, id: "2" },
      { code: -32600, id: null },
      { code: -32601, id: "5" },
      { result: ["hello", 5], id: "9" },
    ],
  },
  {
    name: "a batch of notifications only",
    send: `[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`,
    want: "nothing",
  },
];

/** The methods the specification's examples call. */
function specServer(): JsonRpcServer {
  const s = new JsonRpcServer();
  s.method("subtract", (p: number[] | { minuend: number; subtrahend: number }) =>
    Array.isArray(p) ? p[0]! - p[1]! : p.minuend - p.subtrahend,
  );
  s.method("sum", (p: number[]) => p.reduce((a, b) => a + b, 0));
  s.method("update", () => undefined);
  s.method("notify_hello", () => undefined);
  s.method("notify_sum", () => undefined);
  s.method("get_data", () => ["hello", 5]);
  return s;
}

/** Sends `bytes`, half-closes, and parses everything the server sends before it closes. */
async function exchange(network: StreamNetwork, address: string, bytes: string): Promise<unknown[]> {
  const conn = await dial(network, address);
  try {
    await conn.write(bytes);
    await conn.closeWrite();
    const d = jsonStream({ maxFrame: 1 << 20 }).decoder();
    const got: unknown[] = [];
    for (;;) {
      const b = await within(conn.read(), 5000, "the server's answer or its close");
      if (b === null) break;
      got.push(...d.push(b));
    }
    got.push(...d.end());
    return got;
  } finally {
    await conn.close();
  }
}

function shape(r: unknown): Want {
  const o = r as { id: unknown; result?: unknown; error?: { code: number; message: unknown } };
  assert.equal(
    (r as { jsonrpc?: unknown }).jsonrpc,
    "2.0",
    `not a JSON-RPC 2.0 response: ${JSON.stringify(r)}`,
  );
  if (o.error !== undefined) {
    assert.equal(typeof o.error.message, "string");
    assert.ok(!("result" in o), "a response has a result or an error, not both");
    return { code: o.error.code, id: o.id };
  }
  return { result: o.result, id: o.id };
}

const PLACES: Array<{ name: string; network: StreamNetwork; listen: () => string }> = [
  { name: "TCP 127.0.0.1", network: "tcp", listen: () => "tcp://127.0.0.1:0" },
  { name: "TCP [::1]", network: "tcp", listen: () => "tcp://[::1]:0" },
  { name: "Unix", network: "unix", listen: () => `unix:${tempSocketPath()}` },
];

for (const place of PLACES) {
  describe(`JSON-RPC 2.0 specification examples (section 7), ${place.name}`, () => {
    let ln: RpcListener;
    before(async () => {
      ln = await specServer().listen(place.listen());
    });
    after(async () => {
      await ln.close();
    });
    for (const ex of EXAMPLES) {
      test(ex.name, async () => {
        const got = await exchange(place.network, ln.address, ex.send);
        if (ex.want === "nothing") {
          assert.deepEqual(got, [], "the server must send nothing back");
          return;
        }
        assert.equal(got.length, 1, `one answer expected, got ${JSON.stringify(got)}`);
        const answer = got[0];
        if (Array.isArray(ex.want)) {
          assert.ok(
            Array.isArray(answer),
            `a batch answer (an array) expected, got ${JSON.stringify(answer)}`,
          );
          // the specification lets a batch's answers come in any order: compare as sets
          const key = (w: Want): string => JSON.stringify([w.id, w.code, w.result]);
          assert.deepEqual(answer.map(shape).map(key).sort(), ex.want.map(key).sort());
        } else {
          assert.ok(!Array.isArray(answer), `one response object expected, got ${JSON.stringify(answer)}`);
          assert.deepEqual(shape(answer), ex.want);
        }
      });
    }
  });
}

describe("JSON-RPC framing on the wire", () => {
  const add = (id: number): string => JSON.stringify({ jsonrpc: "2.0", method: "sum", params: [id, 1], id });

  test("auto (the default) reads values back to back, newline-delimited, CRLF, split anywhere", async () => {
    const ln = await specServer().listen("tcp://127.0.0.1:0");
    try {
      const wire = `${add(1)}${add(2)}\n${add(3)}\r\n  ${add(4)}`;
      const conn = await dial("tcp", ln.address);
      try {
        // one byte at a time: where a message ends never depends on how it arrives
        for (const b of Buffer.from(wire)) await conn.write(Buffer.of(b));
        await conn.closeWrite();
        const d = jsonStream({ maxFrame: 1 << 16 }).decoder();
        const got: unknown[] = [];
        for (let b = await conn.read(); b !== null; b = await within(conn.read(), 5000, "replies"))
          got.push(...d.push(b));
        const byId = new Map(got.map((r) => [(r as { id: number }).id, (r as { result: number }).result]));
        assert.deepEqual([...byId.entries()].sort(), [
          [1, 2],
          [2, 3],
          [3, 4],
          [4, 5],
        ]);
      } finally {
        await conn.close();
      }
    } finally {
      await ln.close();
    }
  });

  test("ndjson (strict) answers values without a newline between them with a parse error", async () => {
    const s = new JsonRpcServer({ framing: "ndjson" }).method("sum", (p: number[]) => p[0]! + p[1]!);
    const ln = await s.listen("tcp://127.0.0.1:0");
    try {
      const got = await exchange("tcp", ln.address, `${add(1)}\n${add(2)}${add(3)}\n`);
      assert.deepEqual(got.map(shape), [
        { result: 2, id: 1 },
        { code: -32700, id: null },
      ]);
    } finally {
      await ln.close();
    }
  });
});
