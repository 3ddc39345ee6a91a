/**
 * Interop with JSON-RPC peers nobody here wrote: npm `jayson` (v4) as a client of sockit's
 * server and as a server for sockit's client, over TCP on 127.0.0.1; and a Python 3 client
 * (json + socket, newline-delimited) that pipelines requests on one connection. jayson's client
 * sends each request followed by "\n" on its own connection; jayson's server answers with JSON
 * values back to back, no separator — sockit's client must split them.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import jayson from "jayson";
import { connect, JsonRpcServer, RpcError } from "../src/jsonrpc/index.js";
import { within } from "./support/leaks.js";
import { runPython } from "./support/python.js";

function sockitServer(): JsonRpcServer {
  return new JsonRpcServer()
    .method("add", ([a, b]: [number, number]) => a + b)
    .method("greet", ({ name }: { name: string }) => `hello, ${name}`)
    .method("fail", () => {
      throw new RpcError(-32000, "it failed", [1, 2]);
    });
}

type Reply = { result?: unknown; error?: { code: number; message: string; data?: unknown }; id?: unknown };

/** jayson's callback client as a promise. */
function jaysonCall(client: jayson.Client, method: string, params: unknown): Promise<Reply> {
  return new Promise((resolve, reject) =>
    client.request(method, params as object, (err: unknown, res: unknown) =>
      err ? reject(err as Error) : resolve(res as Reply),
    ),
  );
}

describe("JSON-RPC interop: jayson", () => {
  test("jayson's TCP client calls sockit's server: positional, named, errors, a batch, a notification", async () => {
    const ln = await sockitServer().listen("tcp://127.0.0.1:0");
    const client = jayson.Client.tcp({ host: "127.0.0.1", port: ln.port });
    try {
      assert.equal((await within(jaysonCall(client, "add", [40, 2]), 5000, "add")).result, 42);
      assert.equal((await jaysonCall(client, "greet", { name: "jayson" })).result, "hello, jayson");
      const nf = await jaysonCall(client, "nope", []);
      assert.equal(nf.error?.code, -32601);
      const f = await jaysonCall(client, "fail", []);
      assert.deepEqual(f.error, { code: -32000, message: "it failed", data: [1, 2] });
      const batch = await new Promise<Reply[]>((resolve, reject) =>
        client.request(
          [jayson.Utils.request("add", [1, 2]), jayson.Utils.request("add", [3, 4])],
          (err: unknown, errors: unknown, successes: unknown) =>
            err
              ? reject(err as Error)
              : resolve([...((errors as Reply[]) ?? []), ...((successes as Reply[]) ?? [])]),
        ),
      );
      assert.deepEqual(batch.map((r) => r.result).sort(), [3, 7]);
      // a notification (id null in jayson's API means: no id): jayson gets no reply and ends at once
      const n = await new Promise<unknown>((resolve, reject) =>
        client.request("add", [1, 1], null, (err: unknown, res: unknown) =>
          err ? reject(err as Error) : resolve(res),
        ),
      );
      assert.equal(n, undefined);
    } finally {
      await ln.close();
    }
  });

  test("sockit's client calls jayson's TCP server: many in flight on one connection, errors, batch", async () => {
    const server = new jayson.Server({
      add: (args: [number, number], cb: (e: unknown, r?: unknown) => void) => cb(null, args[0] + args[1]),
      slow: (args: [number, string], cb: (e: unknown, r?: unknown) => void) =>
        void setTimeout(() => cb(null, args[1]), args[0]),
      fail: (_args: unknown, cb: (e: unknown) => void) => cb({ code: 4000, message: "nope from jayson" }),
    });
    const tcp = server.tcp();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const { port } = tcp.address() as AddressInfo;
    const client = await connect(`tcp://127.0.0.1:${port}`, { timeout: 5000 });
    try {
      // jayson answers as each method finishes, values back to back without a separator
      const calls = Array.from({ length: 16 }, (_, i) => client.call("slow", [(16 - i) * 3, `r${i}`]));
      assert.deepEqual(
        await Promise.all(calls),
        Array.from({ length: 16 }, (_, i) => `r${i}`),
      );
      assert.equal(await client.call("add", [1, 2]), 3);
      await assert.rejects(client.call("fail", []), (e: unknown) => e instanceof RpcError && e.code === 4000);
      await assert.rejects(
        client.call("nothere", []),
        (e: unknown) => e instanceof RpcError && e.code === -32601,
      );
      const b = await client.batch([
        { method: "add", params: [2, 2] },
        { method: "add", params: [3, 3] },
      ]);
      assert.deepEqual(b, [
        { ok: true, result: 4 },
        { ok: true, result: 6 },
      ]);
    } finally {
      await client.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});

describe("JSON-RPC interop: Python 3 client (json + socket)", () => {
  test("pipelined newline-delimited requests on one connection, a notification, a bad line", async () => {
    const ln = await sockitServer().listen("tcp://127.0.0.1:0");
    try {
      const py = `
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
reqs = [
  {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1},
  {"jsonrpc": "2.0", "method": "greet", "params": {"name": "python"}, "id": "two"},
  {"jsonrpc": "2.0", "method": "add", "params": [5, 5]},
  {"jsonrpc": "2.0", "method": "fail", "id": 3},
]
s.sendall(b"".join(json.dumps(r).encode() + b"\\n" for r in reqs))
f = s.makefile("rb")
got = {}
while len(got) < 3:
    line = f.readline()
    if not line:
        break
    r = json.loads(line)
    got[str(r["id"])] = r.get("result", r.get("error"))
s.sendall(b"this is not json\\n")
bad = json.loads(f.readline())
rest = f.read()  # the server closes after a parse error
print(json.dumps({"got": got, "bad": bad, "rest": rest.decode()}))
`;
      const r = await runPython(py, [String(ln.port)], undefined, 20_000);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { got: Record<string, unknown>; bad: Reply; rest: string };
      assert.deepEqual(out.got, {
        "1": 3,
        two: "hello, python",
        "3": { code: -32000, message: "it failed", data: [1, 2] },
      });
      assert.equal(out.bad.id, null);
      assert.equal(out.bad.error?.code, -32700);
      assert.equal(out.rest, "");
    } finally {
      await ln.close();
    }
  });
});
