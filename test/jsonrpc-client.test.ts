/**
 * sockit's JSON-RPC client and server against each other over real sockets: many calls in flight
 * on one connection answered out of order, notifications, batches, the typed proxy, timeouts and
 * signals, a lost connection (every pending call rejects, none hangs), reconnect, the server's
 * per-connection concurrency limit and request timeout, the Berkeley face on both ends, and the
 * content-length framing.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, test } from "node:test";
import { AF_INET, SOCK_STREAM, socket } from "../src/bsd/index.js";
import { ConnectionResetError, InterruptedError, OSError, TimeoutError } from "../src/errors/index.js";
import { connect, ErrorCode, JsonRpcClient, JsonRpcServer, RpcError } from "../src/jsonrpc/index.js";
import { dial, listen } from "../src/net/index.js";
import { tempSocketPath } from "./support/kit.js";
import { within } from "./support/leaks.js";

function demo(opts: ConstructorParameters<typeof JsonRpcServer>[0] = {}): JsonRpcServer {
  return new JsonRpcServer(opts)
    .method("add", ([a, b]: [number, number]) => a + b)
    .method("echo", (p: unknown) => (Array.isArray(p) ? p[0] : p))
    .method("sleep", async ([ms, v]: [number, unknown], { signal }) => {
      await sleep(ms, undefined, { signal });
      return v ?? ms;
    })
    .method("fail", () => {
      throw new RpcError(-32000, "it failed", { why: "asked to" });
    })
    .method("crash", () => {
      throw new Error("boom");
    });
}

describe("JSON-RPC client ↔ server", () => {
  test("64 calls in flight on one connection, answered out of order, each matched by id", async () => {
    const ln = await demo({ concurrency: 64 }).listen("tcp://127.0.0.1:0");
    const client = await connect(`tcp://${ln.address}`);
    try {
      // later calls sleep less, so the server answers them first
      const calls = Array.from({ length: 64 }, (_, i) => client.call("sleep", [(64 - i) * 2, `v${i}`]));
      const got = await within(Promise.all(calls), 10_000, "64 calls");
      assert.deepEqual(
        got,
        Array.from({ length: 64 }, (_, i) => `v${i}`),
      );
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("errors: RpcError with the server's code, message and data; -32601, -32602 by the method, -32603", async () => {
    const server = demo().method("strict", ([a]: [unknown]) => {
      if (typeof a !== "number") throw RpcError.invalidParams("a must be a number");
      return a;
    });
    const ln = await server.listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      await assert.rejects(client.call("fail"), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.code, -32000);
        assert.equal(e.message, "it failed");
        assert.deepEqual(e.data, { why: "asked to" });
        return true;
      });
      await assert.rejects(client.call("nope"), { code: ErrorCode.MethodNotFound });
      await assert.rejects(client.call("strict", ["x"]), { code: ErrorCode.InvalidParams });
      await assert.rejects(client.call("crash"), { code: ErrorCode.InternalError, data: "boom" });
      await assert.rejects(client.call("__proto__"), { code: ErrorCode.MethodNotFound });
      assert.equal(await client.call("strict", [5]), 5);
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("notify sends no id and gets no reply; batch resolves each call in order", async () => {
    const seen: unknown[] = [];
    const ln = await demo()
      .method("log", (p: unknown) => void seen.push(p))
      .listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      await client.notify("log", ["one"]);
      const r = await client.batch([
        { method: "add", params: [1, 2] },
        { method: "log", params: ["two"], notify: true },
        { method: "nope" },
        { method: "echo", params: { k: 1 } },
      ]);
      assert.equal(r.length, 3);
      assert.deepEqual(r[0], { ok: true, result: 3 });
      assert.ok(!r[1]!.ok && r[1]!.error instanceof RpcError && r[1]!.error.code === -32601);
      assert.deepEqual(r[2], { ok: true, result: { k: 1 } });
      assert.deepEqual(await client.batch([{ method: "log", params: ["three"], notify: true }]), []);
      await client.call("add", [0, 0]); // the server read everything before this
      assert.deepEqual(seen, [["one"], ["two"], ["three"]]);
      assert.equal(client.pending, 0);
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("proxy<Api>(): typed remote calls", async () => {
    interface Api {
      add(a: number, b: number): number;
      echo(s: string): string;
    }
    const ln = await demo().listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      const api = client.proxy<Api>();
      const n: number = await api.add(40, 2);
      const s: string = await api.echo("hi");
      assert.equal(n, 42);
      assert.equal(s, "hi");
      // the compiler checks arguments and results against Api (type-checked, never run)
      const typeChecks = async (): Promise<void> => {
        // @ts-expect-error: a string is not a number
        await api.add("x", 1);
        // @ts-expect-error: add resolves a number, not a string
        const wrong: string = await api.add(1, 2);
        void wrong;
        // @ts-expect-error: Api has no such method
        await api.nothere();
      };
      void typeChecks;
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("a call past its timeout rejects TimeoutError; an aborted signal rejects InterruptedError", async () => {
    const ln = await demo().listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      await assert.rejects(client.call("sleep", [2000], { timeout: 50 }), (e: unknown) => {
        assert.ok(e instanceof TimeoutError);
        assert.equal(e.code, "ETIMEDOUT");
        assert.match(e.message, /no reply to sleep/);
        return true;
      });
      await assert.rejects(
        client.call("sleep", [2000], { signal: AbortSignal.timeout(50) }),
        InterruptedError,
      );
      // an already aborted signal: InterruptedError too (never the platform's AbortError)
      await assert.rejects(client.call("add", [1, 1], { signal: AbortSignal.abort() }), InterruptedError);
      await assert.rejects(
        client.batch([{ method: "add" }], { signal: AbortSignal.abort() }),
        InterruptedError,
      );
      // params the specification does not allow are a programming error, found before sending
      await assert.rejects(client.call("add", 5 as unknown as number[]), TypeError);
      await assert.rejects(
        client.batch([{ method: "add" }, { method: "add", params: "x" as unknown as [] }]),
        TypeError,
      );
      assert.equal(client.pending, 0);
      assert.equal(await client.call("add", [1, 1]), 2, "the connection still works");
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("a lost connection rejects every pending call at once (ConnectionResetError), never a hang", async () => {
    // a server that reads the requests and closes without answering
    const ln = await listen("tcp", "127.0.0.1:0");
    const served = (async () => {
      const c = await ln.accept();
      await c.read();
      await sleep(20);
      await c.close();
    })();
    const client = await connect(ln.address, { timeout: 0 });
    try {
      const calls = [client.call("a"), client.call("b"), client.call("c")];
      const results = await within(Promise.allSettled(calls), 5000, "pending calls after the close");
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.ok(r.reason instanceof ConnectionResetError, String(r.reason));
        assert.match(r.reason.message, /closed the connection before answering/);
      }
      // later calls fail at once too (no reconnect asked for)
      await assert.rejects(client.call("d"), ConnectionResetError);
    } finally {
      await client.close();
      await served;
      await ln.close();
    }
  });

  test("reconnect: after the server drops the connection, the next call dials again", async () => {
    const server = demo();
    let conns = 0;
    const ln = await listen("tcp", "127.0.0.1:0");
    const loop = (async () => {
      for await (const c of ln) {
        conns++;
        // the first connection answers one call and is dropped; the next are served normally
        if (conns === 1) {
          const b = await c.read();
          const req = JSON.parse(b!.toString()) as { id: number };
          await c.write(`${JSON.stringify({ jsonrpc: "2.0", result: "first", id: req.id })}\n`);
          await c.close();
        } else void server.serve(c);
      }
    })();
    const client = await connect(ln.address, { reconnect: true });
    try {
      assert.equal(await client.call("echo", ["x"]), "first");
      // the first call may still go out on the dropped connection (the client has not seen its
      // close yet) and fail; the next dials again
      for (let i = 0; i < 3; i++) {
        try {
          assert.equal(await client.call("add", [2, 3]), 5);
          break;
        } catch (e) {
          assert.ok(e instanceof ConnectionResetError, String(e));
        }
      }
      assert.equal(await client.call("add", [2, 3]), 5);
      assert.equal(conns, 2);
    } finally {
      await client.close();
      await ln.close();
      await loop;
    }
  });

  test("the server runs at most `concurrency` requests of a connection at once", async () => {
    let now = 0;
    let most = 0;
    const server = new JsonRpcServer({ concurrency: 3 }).method("work", async () => {
      most = Math.max(most, ++now);
      await sleep(10);
      now--;
      return true;
    });
    const ln = await server.listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      await within(Promise.all(Array.from({ length: 20 }, () => client.call("work"))), 10_000, "20 calls");
      assert.equal(most, 3);
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("the server's request timeout answers -32001 and aborts the method's signal", async () => {
    let aborted = false;
    const server = new JsonRpcServer({ timeout: 50 }).method("hang", async (_p, { signal }) => {
      await new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        }),
      );
    });
    const ln = await server.listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      await assert.rejects(client.call("hang"), { code: ErrorCode.RequestTimeout });
      assert.ok(aborted);
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("the Berkeley face on both ends: server.serve(accepted socket), client over a socket()", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    await srv.bind(["127.0.0.1", 0]);
    await srv.listen();
    const port = srv.getsockname()[1];
    const accepting = srv.accept().then(([s]) => demo().serve(s));
    const s = socket(AF_INET, SOCK_STREAM);
    await s.connect(["127.0.0.1", port]);
    const client = new JsonRpcClient(s);
    try {
      assert.deepEqual(await Promise.all([client.call("add", [1, 2]), client.call("echo", ["b"])]), [3, "b"]);
    } finally {
      await client.close();
      await within(accepting, 5000, "the server's end of the connection");
      await srv.close();
    }
  });

  test("Unix socket and content-length framing", async () => {
    const path = tempSocketPath();
    const ln = await demo({ framing: "content-length" }).listen(`unix:${path}`);
    const client = await connect(`unix:${path}`, { framing: "content-length" });
    try {
      assert.equal(await client.call("echo", ["é\n{}"]), "é\n{}");
      // the bytes on the wire are LSP-style
      const raw = await dial("unix", path);
      const body = '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}';
      // headers and body in two writes, split inside the body
      await raw.write(
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n\r\n${body.slice(0, 20)}`,
      );
      await sleep(10);
      await raw.write(body.slice(20));
      const got = await within(raw.read(), 5000, "the reply");
      assert.match(got!.toString(), /^Content-Length: \d+\r\n\r\n\{"jsonrpc":"2.0","result":3,"id":7\}$/);
      // a body that is not JSON: -32700, and the framing (so the connection) survives it
      await raw.write("Content-Length: 5\r\n\r\nnope!");
      const bad = await within(raw.read(), 5000, "the parse error");
      assert.match(bad!.toString(), /"code":-32700.*"id":null/);
      await raw.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      const again = await within(raw.read(), 5000, "the next reply");
      assert.match(again!.toString(), /"result":3,"id":7/);
      await raw.close();
    } finally {
      await client.close();
      await ln.close();
    }
  });

  test("end(): half-close, the pending call is still answered, then the server closes", async () => {
    const ln = await demo().listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    try {
      const pending = client.call("sleep", [50, "late"]);
      await new Promise((r) => setImmediate(r)); // the request is written
      await within(client.end(5000), 5000, "end()");
      assert.equal(await pending, "late");
      await assert.rejects(
        client.call("add", [1, 2]),
        (e: unknown) => e instanceof OSError && e.code === "EBADF",
      );
    } finally {
      await ln.close();
    }
  });

  test("a closed client rejects EBADF", async () => {
    const ln = await demo().listen("tcp://127.0.0.1:0");
    const client = await connect(ln.address);
    const pending = client.call("sleep", [1000]);
    await client.close();
    await assert.rejects(pending, (e: unknown) => e instanceof OSError && e.code === "EBADF");
    await assert.rejects(
      client.call("add", [1, 2]),
      (e: unknown) => e instanceof OSError && e.code === "EBADF",
    );
    await ln.close();
  });
});
