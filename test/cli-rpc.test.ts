/**
 * `sockit serve rpc` and `sockit rpc call` end to end, as child processes: the demo API over TCP
 * and a Unix path, the result (or the error object) as JSON on stdout, the documented exit codes
 * (0, 1 usage, 3 refused, 4 timeout, 7 a JSON-RPC error answer), --json, --trace, and npm
 * `jayson`'s TCP client against `sockit serve rpc`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import jayson from "jayson";
import { closedPort, tempSocketPath } from "./support/kit.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

interface Served {
  readonly child: Child;
  readonly listening: string;
  readonly methods: string[];
}

async function serveRpc(args: string[]): Promise<Served> {
  const child = start(process.execPath, [SOCKIT, "serve", "rpc", "--json", ...args]);
  try {
    const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
    const j = JSON.parse(line) as { listening: string; methods: string[] };
    return { child, listening: j.listening, methods: j.methods };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}

async function stop(s: Served): Promise<void> {
  s.child.kill("SIGTERM");
  assert.equal(await s.child.exit(10_000), 0, s.child.stderr());
}

describe("sockit serve rpc + sockit rpc call", () => {
  let tcp: Served;
  before(async () => {
    tcp = await serveRpc(["127.0.0.1:0"]);
  });
  after(async () => {
    await stop(tcp);
  });

  test("serve rpc takes --host/--port as the other services do; the RFC-only flags are refused, not ignored", async () => {
    const v6 = await serveRpc(["--host", "::1", "--port", "0"]);
    try {
      assert.match(v6.listening, /^\[::1\]:\d+$/);
      const r = await sockit(["rpc", "call", v6.listening, "add", "[2, 3]"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "5");
    } finally {
      await stop(v6);
    }
    for (const [args, re] of [
      [["--port-base", "9000"], /--port-base is an option of the RFC services/],
      [["127.0.0.1:0", "--port", "5"], /either ADDRESS or --host\/--port/],
      [["--port", "echo=7"], /must be a port number/],
    ] as const) {
      const r = await sockit(["serve", "rpc", ...args]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  test("serve rpc lists the demo API and where it listens", () => {
    assert.deepEqual(tcp.methods, ["echo", "add", "subtract", "time", "sleep"]);
    assert.match(tcp.listening, /^127\.0\.0\.1:\d+$/);
  });

  test("rpc call prints the result as JSON and exits 0: positional, named, no params", async () => {
    const add = await sockit(["rpc", "call", tcp.listening, "add", "[40, 2]"]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, "42\n");
    const sub = await sockit([
      "rpc",
      "call",
      `tcp://${tcp.listening}`,
      "subtract",
      '{"minuend": 42, "subtrahend": 23}',
    ]);
    assert.equal(sub.stdout, "19\n");
    const time = await sockit(["rpc", "call", tcp.listening, "time"]);
    const t = Date.parse(JSON.parse(time.stdout) as string);
    assert.ok(Math.abs(t - Date.now()) < 60_000, time.stdout);
    const echo = await sockit(["rpc", "call", tcp.listening, "echo", '{"a": [1, "é"]}', "--json"]);
    assert.deepEqual(JSON.parse(echo.stdout), { jsonrpc: "2.0", result: { a: [1, "é"] }, id: 1 });
  });

  test("an error answer: the error object as JSON on stdout, exit 7", async () => {
    const nope = await sockit(["rpc", "call", tcp.listening, "nope"]);
    assert.equal(nope.code, 7);
    assert.deepEqual(JSON.parse(nope.stdout), { code: -32601, message: "Method not found", data: "nope" });
    assert.match(nope.stderr, /the server answered error -32601/);
    const bad = await sockit(["rpc", "call", tcp.listening, "add", '["x", 1]']);
    assert.equal(bad.code, 7);
    assert.equal((JSON.parse(bad.stdout) as { code: number }).code, -32602);
  });

  test("exit codes: usage 1, refused 3, timeout 4", async () => {
    const usage = await sockit(["rpc", "call", tcp.listening, "add", "5"]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /JSON must be an array .* or an object/);
    await using closed = await closedPort();
    const refused = await sockit(["rpc", "call", closed.address, "add", "[1,2]"]);
    assert.equal(refused.code, 3, refused.stderr);
    const slow = await sockit(["rpc", "call", tcp.listening, "sleep", "[5000]", "-t", "0.2"]);
    assert.equal(slow.code, 4, slow.stderr);
    assert.match(slow.stderr, /no reply to sleep \(id 1\) within 200 ms/);
  });

  test("--trace shows the socket calls of the call", async () => {
    const r = await sockit(["--trace", "rpc", "call", tcp.listening, "add", "[1,2]"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^connect\(\d+, \('127\.0\.0\.1', \d+\)\) = 0$/m);
    assert.match(r.stderr, /^send\(\d+, b'\{"jsonrpc":"2\.0","method":"add"/m);
    assert.match(r.stderr, /^recv\(\d+, \d+\) = \d+ b'\{"jsonrpc":"2\.0","result":3,"id":1\}/m);
  });

  test("jayson's TCP client calls sockit serve rpc", async () => {
    const [host, port] = [tcp.listening.replace(/:\d+$/, ""), Number(tcp.listening.replace(/^.*:/, ""))];
    const client = jayson.Client.tcp({ host, port });
    const res = await new Promise<{ result?: unknown; error?: { code: number } }>((resolve, reject) =>
      client.request("subtract", [42, 23], (err: unknown, r: unknown) =>
        err ? reject(err as Error) : resolve(r as never),
      ),
    );
    assert.equal(res.result, 19);
    const nf = await new Promise<{ error?: { code: number } }>((resolve, reject) =>
      client.request("nope", [], (err: unknown, r: unknown) =>
        err ? reject(err as Error) : resolve(r as never),
      ),
    );
    assert.equal(nf.error?.code, -32601);
  });

  test("a Unix socket, with content-length framing on both ends", async () => {
    const path = tempSocketPath();
    const unix = await serveRpc([`unix:${path}`, "--framing", "content-length"]);
    try {
      assert.equal(unix.listening, `unix:${path}`);
      const r = await sockit(["rpc", "call", `unix:${path}`, "add", "[2, 3]", "--framing", "content-length"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "5\n");
    } finally {
      await stop(unix);
    }
  });
});
