/**
 * `sockit serve http --tls` and `sockit get https://` end to end, as child processes: curl
 * (--cacert) and Python's urllib (an SSL context with the CA) read from our server, our client
 * reads from it (verified with --ca, refused without: exit 3 naming the problem, --insecure
 * warns), a fresh self-signed certificate is made when no --cert/--key are given, and a client
 * that stalls its handshake holds its slot for at most the handshake limit.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { dial } from "../src/net/index.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";
import { ChildSet, runToEnd, tlsFiles } from "./support/tls-fixture.js";

const LIMIT = { timeout: 60_000 };
const { dir, caFile, certFile, keyFile, remove } = tlsFiles("cli-https");
const www = join(dir, "www");
mkdirSync(www);
writeFileSync(join(www, "hello.txt"), "hello, web\n");
const servers = new ChildSet();
const run = runToEnd;
const stopServer = (c: Child) => servers.stop(c);

async function serveHttps(args: string[]): Promise<{ child: Child; port: number }> {
  const child = start(process.execPath, [SOCKIT, "serve", "http", ...args, "--port", "0"]);
  servers.add(child);
  const [, port] = await child.line(/^Serving HTTPS on 127\.0\.0\.1:(\d+) \(https:\/\//m, 15_000);
  return { child, port: Number(port) };
}

describe("sockit serve http --tls and sockit get https://", { timeout: 240_000 }, () => {
  after(async () => {
    await servers.killAll();
    remove();
  });

  test(
    "curl --cacert reads a file over HTTPS; the access log has the request",
    { ...LIMIT, skip: needs(["curl"]) },
    async () => {
      const { child, port } = await serveHttps(["--tls", "--cert", certFile, "--key", keyFile, www]);
      const r = await run(peerPath("curl"), [
        "-sS",
        "--max-time",
        "10",
        "--cacert",
        caFile,
        `https://localhost:${port}/hello.txt`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello, web\n");
      await child.line(/"GET \/hello\.txt HTTP\/1\.1" 200 11$/m, 5000);
      // curl without the CA refuses our certificate: it really is TLS with that chain
      const refused = await run(peerPath("curl"), [
        "-sS",
        "--max-time",
        "10",
        `https://localhost:${port}/hello.txt`,
      ]);
      assert.equal(refused.code, 60, refused.stderr); // CURLE_PEER_FAILED_VERIFICATION
      await stopServer(child);
    },
  );

  test("Python urllib with an SSL context that trusts the CA reads the file", LIMIT, async () => {
    const { child, port } = await serveHttps(["--tls", "--cert", certFile, "--key", keyFile, www]);
    const py = [
      "import ssl, sys, urllib.request",
      "ctx = ssl.create_default_context(cafile=sys.argv[1])",
      "r = urllib.request.urlopen(sys.argv[2], context=ctx, timeout=10)",
      "sys.stdout.write(r.read().decode())",
      "try:",
      "    urllib.request.urlopen(sys.argv[2], context=ssl.create_default_context(), timeout=10)",
      "except urllib.error.URLError as e:",
      "    sys.stdout.write('|' + type(e.reason).__name__)",
    ].join("\n");
    const r = await run("python3", ["-c", py, caFile, `https://localhost:${port}/hello.txt`]);
    assert.equal(r.code, 0, r.stderr);
    // and a context without the CA refuses our certificate
    assert.equal(r.stdout, "hello, web\n|SSLCertVerificationError");
    await stopServer(child);
  });

  test(
    "sockit get https:// verifies with --ca; without it exit 3 naming the problem; --insecure warns",
    LIMIT,
    async () => {
      const { child, port } = await serveHttps(["--tls", "--cert", certFile, "--key", keyFile, www]);
      const url = `https://localhost:${port}/hello.txt`;
      const ok = await sockit(["get", "--trace", "--ca", caFile, url]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "hello, web\n");
      assert.match(ok.stderr, /do_handshake\(\d+\) = TLSv1\.[23] /); // --trace shows the handshake
      const byIp = await sockit(["get", "--ca", caFile, `https://127.0.0.1:${port}/hello.txt`]);
      assert.equal(byIp.code, 0, byIp.stderr);
      assert.equal(byIp.stdout, "hello, web\n");
      const no = await sockit(["get", url]);
      assert.equal(no.code, 3, no.stderr);
      assert.match(no.stderr, /issuer|self-signed|certificate/i);
      assert.equal(no.stdout, "");
      const insecure = await sockit(["get", "--insecure", url]);
      assert.equal(insecure.code, 0, insecure.stderr);
      assert.equal(insecure.stdout, "hello, web\n");
      assert.match(insecure.stderr, /--insecure: the server's certificate is NOT verified/);
      await stopServer(child);
    },
  );

  test(
    "--tls without --cert/--key: a fresh self-signed certificate whose fingerprint is printed",
    LIMIT,
    async () => {
      const { child, port } = await serveHttps(["--tls", www]);
      const printed = /SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(child.stderr());
      assert.ok(printed, child.stderr());
      const conn = await dial("tcp", `localhost:${port}`, {
        tls: { rejectUnauthorized: false },
        timeout: 5000,
      });
      const served = conn.tls!.chain[0]!.fingerprint256;
      await conn.close();
      assert.equal(served, printed[1]);
      const r = await sockit(["get", "--insecure", `https://localhost:${port}/hello.txt`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello, web\n");
      await stopServer(child);
    },
  );

  test(
    "a client that stalls its handshake holds its slot only until the handshake limit (10 s)",
    { timeout: 40_000, skip: needs(["curl"]) },
    async () => {
      const { child, port } = await serveHttps([
        "--tls",
        "--cert",
        certFile,
        "--key",
        keyFile,
        "--max-per-source",
        "1",
        www,
      ]);
      const stalled = await dial("tcp", `127.0.0.1:${port}`); // plain TCP: never says ClientHello
      const curl = () =>
        run(peerPath("curl"), [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--max-time",
          "5",
          "--cacert",
          caFile,
          `https://localhost:${port}/hello.txt`,
        ]);
      await new Promise((r) => setTimeout(r, 300));
      const busy = await curl();
      assert.equal(busy.stdout, "429", busy.stderr);
      const t0 = Date.now();
      let code = "";
      while (Date.now() - t0 < 15_000) {
        code = (await curl()).stdout;
        if (code === "200") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(code, "200", "the stalled client still holds the slot after 15 s");
      await stalled.close();
      await stopServer(child);
    },
  );
});
