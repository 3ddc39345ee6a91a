/**
 * JSON-RPC over TLS: `sockit serve rpc --tls` answered by Python's `ssl` + `socket` (a JSON-RPC
 * request written by hand over a verified TLS connection) and by `sockit rpc call --tls --ca`;
 * without the CA the call exits 3 naming the problem, `--insecure` warns; the library's
 * `JsonRpcServer.listen(…, { tls })` and `connect(…, { tls })` against each other.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { connect } from "../src/jsonrpc/client.js";
import { JsonRpcServer } from "../src/jsonrpc/server.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";
import { ChildSet, runToEnd, tlsFiles } from "./support/tls-fixture.js";

const LIMIT = { timeout: 60_000 };
const { ca, good, caFile, certFile, keyFile, remove } = tlsFiles("rpc-tls");
const servers = new ChildSet();
const run = runToEnd;
const stopServer = (c: Child) => servers.stop(c);

async function serveRpcTls(args: string[]): Promise<{ child: Child; port: number }> {
  const child = start(process.execPath, [SOCKIT, "serve", "rpc", "--json", "--tls", ...args, "127.0.0.1:0"]);
  servers.add(child);
  const [line] = await child.line(/^\{"listening".*\}$/m, 15_000);
  const j = JSON.parse(line) as { listening: string; tls: boolean };
  assert.equal(j.tls, true);
  return { child, port: Number(/:(\d+)$/.exec(j.listening)![1]) };
}

describe("JSON-RPC over TLS", { timeout: 180_000 }, () => {
  after(async () => {
    await servers.killAll();
    remove();
  });

  test(
    "Python ssl + socket sends a JSON-RPC request to serve rpc --tls and reads the answer",
    LIMIT,
    async () => {
      const { child, port } = await serveRpcTls(["--cert", certFile, "--key", keyFile]);
      const py = [
        "import json, socket, ssl, sys",
        "ctx = ssl.create_default_context(cafile=sys.argv[1])",
        "with socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=10) as raw:",
        "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:",
        '        s.sendall(b\'{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":7}\\n\')',
        "        buf = b''",
        "        while not buf.endswith(b'\\n'):",
        "            d = s.recv(4096)",
        "            if not d: break",
        "            buf += d",
        "        print(s.version(), json.dumps(json.loads(buf), sort_keys=True))",
      ].join("\n");
      const r = await run("python3", ["-c", py, caFile, String(port)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), /^TLSv1\.[23] \{"id": 7, "jsonrpc": "2\.0", "result": 19\}$/);
      await stopServer(child);
    },
  );

  test(
    "rpc call --tls --ca verifies; without the CA exit 3 naming the problem; --insecure warns",
    LIMIT,
    async () => {
      const { child, port } = await serveRpcTls(["--cert", certFile, "--key", keyFile]);
      const ok = await sockit([
        "rpc",
        "call",
        "--trace",
        "--tls",
        "--ca",
        caFile,
        `localhost:${port}`,
        "add",
        "[1, 2]",
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), "3");
      assert.match(ok.stderr, /do_handshake\(\d+\) = TLSv1\.[23] /); // --trace shows the handshake
      const no = await sockit(["rpc", "call", "--tls", `localhost:${port}`, "add", "[1, 2]"]);
      assert.equal(no.code, 3, no.stderr);
      assert.match(no.stderr, /issuer|self-signed|certificate/i);
      const insecure = await sockit([
        "rpc",
        "call",
        "--tls",
        "--insecure",
        `localhost:${port}`,
        "add",
        "[1, 2]",
      ]);
      assert.equal(insecure.code, 0, insecure.stderr);
      assert.equal(insecure.stdout.trim(), "3");
      assert.match(insecure.stderr, /--insecure: the server's certificate is NOT verified/);
      // a plain call to the TLS server does not get an answer it could mistake for one
      const plain = await sockit(["rpc", "call", "-t", "3", `127.0.0.1:${port}`, "add", "[1, 2]"]);
      assert.notEqual(plain.code, 0);
      assert.equal(plain.stdout, "");
      const usage = await sockit(["rpc", "call", "--ca", caFile, `localhost:${port}`, "add", "[1, 2]"]);
      assert.equal(usage.code, 1);
      assert.match(usage.stderr, /need --tls/);
      await stopServer(child);
    },
  );

  test(
    "serve rpc --tls without --cert/--key prints the fingerprint of a fresh certificate",
    LIMIT,
    async () => {
      const { child, port } = await serveRpcTls([]);
      assert.match(
        child.stderr(),
        /self-signed certificate for localhost, SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/,
      );
      const r = await sockit(["rpc", "call", "--tls", "--insecure", `localhost:${port}`, "echo", '["hi"]']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '["hi"]');
      await stopServer(child);
    },
  );

  test("the library: JsonRpcServer.listen(…, { tls }) and connect(…, { tls })", LIMIT, async () => {
    const server = new JsonRpcServer().method("add", ([a, b]: [number, number]) => a + b);
    const ln = await server.listen("127.0.0.1:0", { tls: { cert: good.cert, key: good.key } });
    try {
      const client = await connect(`localhost:${ln.port}`, { tls: { ca: ca.cert } });
      assert.equal(await client.call("add", [2, 40]), 42);
      await client.close();
      await assert.rejects(connect(`localhost:${ln.port}`, { tls: {} }), {
        name: "SSLCertVerificationError",
      });
    } finally {
      await ln.close();
    }
  });
});
