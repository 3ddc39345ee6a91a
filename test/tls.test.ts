// TLS in the Go-style face, against software nobody here wrote: OpenSSL's s_server/s_client and
// Python's ssl, both directions; the verification errors with generated certificates; STARTTLS;
// and a TLS peer that stops reading.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { createCertificate } from "../src/core/cert.js";
import { dial, listen, SSLCertVerificationError, SSLError, upgradeTLS, type Conn } from "../src/net/index.js";
import { OSError } from "../src/errors/index.js";
import { settled, waitFor } from "./support/kit.js";
import { needs } from "./support/peers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sockit-tls-"));
const ca = createCertificate({ hosts: ["localhost"], ca: true });
const good = createCertificate({ hosts: ["localhost", "127.0.0.1"], issuer: ca });
const files = (name: string, c: { cert: string; key: string }) => {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  fs.writeFileSync(cert, c.cert);
  fs.writeFileSync(key, c.key, { mode: 0o600 });
  return { cert, key };
};
const caFile = files("ca", ca).cert;
const goodFiles = files("good", good);

const children = new Set<ChildProcess>();

/** Runs a peer; resolves its process once `ready` matches its output (stdout or stderr). */
function run(
  cmd: string,
  args: string[],
  ready?: RegExp,
): Promise<{ p: ChildProcess; match: RegExpExecArray | null; out: () => string }> {
  const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  children.add(p);
  p.once("close", () => children.delete(p));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}`)), 5000);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = ready === undefined ? null : ready.exec(out);
      if (ready === undefined || m !== null) {
        clearTimeout(timer);
        resolve({ p, match: m, out: () => out });
      }
    };
    p.stdout!.on("data", on);
    p.stderr!.on("data", on);
    p.once("error", reject);
    if (ready === undefined) on(Buffer.alloc(0));
  });
}

function closed(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => p.once("close", () => r()));
}

/** An `openssl s_server` with `cert`, answering one connection; resolves its port. */
async function sServer(cert: { cert: string; key: string }, extra: string[] = []) {
  const { p, match } = await run(
    "openssl",
    ["s_server", "-accept", "127.0.0.1:0", "-cert", cert.cert, "-key", cert.key, "-naccept", "1", ...extra],
    /ACCEPT [^\n]*:(\d+)/,
  );
  return { p, port: Number(match![1]) };
}

async function readAll(c: Conn): Promise<string> {
  let s = "";
  for (;;) {
    const b = await c.read();
    if (b === null) return s;
    s += b.toString();
  }
}

describe("TLS", { timeout: 150_000 }, () => {
  after(async () => {
    for (const p of children) {
      p.kill();
      await closed(p);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(
    "dial → openssl s_server: verified by the CA, TLS 1.3, bytes both ways",
    { timeout: 15_000, skip: needs(["openssl"]) },
    async () => {
      const { p, port } = await sServer(goodFiles);
      const got: Buffer[] = [];
      p.stdout!.on("data", (d: Buffer) => got.push(d));
      const conn = await dial("tcp", `localhost:${port}`, { timeout: 5000, tls: { ca: ca.cert } });
      assert.equal(conn.tls?.protocol, "TLSv1.3");
      assert.equal(conn.tls?.cipher, "TLS_AES_256_GCM_SHA384");
      assert.equal(conn.tls?.authorized, true);
      assert.match(conn.tls!.chain[0]!.subjectAltNames.join(","), /DNS:localhost/);
      await conn.write("hello openssl\n");
      await waitFor(
        () => Buffer.concat(got).toString().includes("hello openssl"),
        5000,
        "s_server to print it",
      );
      p.stdin!.write("hello sockit\n");
      assert.equal((await conn.readLine())?.toString(), "hello sockit\n");
      await conn.close();
      p.kill();
      await closed(p);
    },
  );

  test(
    "openssl s_client → listen({ tls }): s_client verifies us and the bytes go both ways",
    { timeout: 15_000, skip: needs(["openssl"]) },
    async () => {
      const ln = await listen("tcp", "127.0.0.1:0", { tls: good });
      try {
        const { p, out } = await run("openssl", [
          "s_client",
          "-connect",
          `127.0.0.1:${ln.port}`,
          "-servername",
          "localhost",
          "-CAfile",
          caFile,
          "-verify_return_error",
          "-verify_hostname",
          "localhost",
          "-quiet",
          "-no_ign_eof",
        ]);
        const conn = await ln.accept();
        const info = await conn.handshake();
        assert.equal(info.protocol, "TLSv1.3");
        p.stdin!.write("ping\n");
        assert.equal((await conn.readLine())?.toString(), "ping\n");
        await conn.write("pong\n");
        await waitFor(() => out().includes("pong"), 5000, "s_client to print the answer");
        p.stdin!.end();
        assert.equal(await conn.read(), null);
        await conn.close();
        await closed(p);
        assert.doesNotMatch(out(), /verify error/);
      } finally {
        await ln.close();
      }
    },
  );

  test("Python ssl server ← dial, and Python ssl client → listen", { timeout: 15_000 }, async () => {
    const srv = await run(
      "python3",
      [
        "-c",
        `import socket,ssl,sys
ctx=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l=socket.create_server(("127.0.0.1",0)); print(l.getsockname()[1], flush=True)
c,_=l.accept(); s=ctx.wrap_socket(c, server_side=True)
s.sendall(("py:"+s.version()+":"+s.recv(100).decode()).encode()); s.close()`,
        goodFiles.cert,
        goodFiles.key,
      ],
      /^(\d+)\n/,
    );
    const conn = await dial("tcp", `localhost:${srv.match![1]}`, { timeout: 5000, tls: { ca: ca.cert } });
    await conn.write("hi");
    assert.equal(await readAll(conn), "py:TLSv1.3:hi");
    await conn.close();
    await closed(srv.p);

    const ln = await listen("tcp", "127.0.0.1:0", { tls: good });
    try {
      const cli = await run("python3", [
        "-c",
        `import socket,ssl,sys
ctx=ssl.create_default_context(cafile=sys.argv[1])
s=ctx.wrap_socket(socket.create_connection(("127.0.0.1",int(sys.argv[2]))), server_hostname="localhost")
s.sendall(b"from python"); print(s.version(), s.recv(100).decode(), flush=True); s.close()`,
        caFile,
        String(ln.port),
      ]);
      const conn2 = await ln.accept();
      assert.equal((await conn2.read())?.toString(), "from python");
      await conn2.write("from sockit");
      await waitFor(() => cli.out().includes("TLSv1.3 from sockit"), 5000, "python to print the answer");
      await conn2.close();
      await closed(cli.p);
    } finally {
      await ln.close();
    }
  });

  /** Dials a TLS listener serving `cert` with `tls`; resolves the error the dial rejects. */
  async function dialError(
    cert: { cert: string; key: string },
    tls: object,
    host = "localhost",
  ): Promise<unknown> {
    const ln = await listen("tcp", "127.0.0.1:0", { tls: cert });
    const serving = ln.accept().then((c) =>
      c
        .handshake()
        .catch(() => undefined)
        .then(() => c.close()),
    );
    try {
      await dial("tcp", `${host}:${ln.port}`, { timeout: 5000, tls });
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await serving;
      await ln.close();
    }
  }

  test(
    "an expired certificate: SSLCertVerificationError 10, the message says expired",
    { timeout: 15_000 },
    async () => {
      const old = createCertificate({
        hosts: ["localhost"],
        issuer: ca,
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      const err = await dialError(old, { ca: ca.cert });
      assert.ok(err instanceof SSLCertVerificationError, String(err));
      assert.ok(err instanceof OSError);
      assert.equal(err.verify_code, 10);
      assert.match(err.message, /expired/);
    },
  );

  test(
    "a wrong host name: verify_code 62, the message says wrong host name",
    { timeout: 15_000 },
    async () => {
      const other = createCertificate({ hosts: ["other.example"], issuer: ca });
      const err = await dialError(other, { ca: ca.cert });
      assert.ok(err instanceof SSLCertVerificationError, String(err));
      assert.equal(err.verify_code, 62);
      assert.match(err.message, /wrong host name/);
      assert.match(err.message, /other\.example/);
    },
  );

  test("an unknown CA: verify_code 20/21, the message says unknown issuer", { timeout: 15_000 }, async () => {
    const err = await dialError(good, {}); // our CA not given: only the public roots
    assert.ok(err instanceof SSLCertVerificationError, String(err));
    assert.ok([20, 21].includes(err.verify_code), String(err.verify_code));
    assert.match(err.message, /unknown issuer/);
  });

  test(
    "a self-signed certificate: verify_code 18, the message says self-signed",
    { timeout: 15_000 },
    async () => {
      const self = createCertificate({ hosts: ["localhost"] });
      const err = await dialError(self, {});
      assert.ok(err instanceof SSLCertVerificationError, String(err));
      assert.equal(err.verify_code, 18);
      assert.match(err.message, /self-signed/);
      // rejectUnauthorized: false is the one way past it
      const ln = await listen("tcp", "127.0.0.1:0", { tls: self });
      const serving = ln.accept().then(async (c) => (await c.write("ok"), await c.close()));
      const conn = await dial("tcp", `localhost:${ln.port}`, {
        timeout: 5000,
        tls: { rejectUnauthorized: false },
      });
      assert.equal(conn.tls?.authorized, false);
      assert.equal(await readAll(conn), "ok");
      await conn.close();
      await serving;
      await ln.close();
    },
  );

  test(
    "a TLS 1.0-only peer: SSLError naming the protocol version",
    { timeout: 15_000, skip: needs(["openssl"]) },
    async () => {
      const { p, port } = await sServer(goodFiles, ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
      try {
        await assert.rejects(
          dial("tcp", `localhost:${port}`, { timeout: 5000, tls: { ca: ca.cert } }),
          (err: unknown) => {
            assert.ok(err instanceof SSLError, String(err));
            assert.match(err.message, /protocol version/);
            return true;
          },
        );
      } finally {
        p.kill();
        await closed(p);
      }
    },
  );

  test(
    "STARTTLS: upgradeTLS on both sides after a plain exchange; unread plaintext is refused",
    { timeout: 15_000 },
    async () => {
      const ln = await listen("tcp", "127.0.0.1:0");
      try {
        const server = (async () => {
          const c = await ln.accept();
          assert.equal((await c.readLine())?.toString(), "STARTTLS\r\n");
          await c.write("220 go ahead\r\n");
          const s = await upgradeTLS(c, { server: true, cert: good.cert, key: good.key, timeout: 5000 });
          await s.write(`secret ${(await s.read())?.toString()}`);
          await s.close();
        })();
        const c = await dial("tcp", `127.0.0.1:${ln.port}`);
        await c.write("STARTTLS\r\n");
        assert.equal((await c.readLine())?.toString(), "220 go ahead\r\n");
        const s = await upgradeTLS(c, { serverName: "localhost", ca: ca.cert, timeout: 5000 });
        assert.equal(s.tls?.protocol, "TLSv1.3");
        await s.write("x");
        assert.equal(await readAll(s), "secret x");
        await s.close();
        await server;
        await assert.rejects(c.read(), (e: unknown) => e instanceof OSError && e.code === "EBADF");

        // a server that sends plain text after its go-ahead: the upgrade refuses
        const server2 = ln.accept().then(async (c2) => {
          await c2.write("220 go ahead\r\ninjected\r\n");
          // the client closes with "injected" unread: a reset, as close(2) does
          await assert.rejects(c2.read(), (e: unknown) => e instanceof OSError && e.code === "ECONNRESET");
          await c2.close();
        });
        const d = await dial("tcp", `127.0.0.1:${ln.port}`);
        assert.equal((await d.readLine())?.toString(), "220 go ahead\r\n");
        await waitFor(() => d.bufferedBytes > 0, 2000, "the injected line to arrive");
        await assert.rejects(upgradeTLS(d, { serverName: "localhost", ca: ca.cert }), (e: unknown) => {
          assert.ok(e instanceof OSError && e.code === "EINVAL", String(e));
          assert.match(e.message, /unread/);
          return true;
        });
        await d.close();
        await server2;
      } finally {
        await ln.close();
      }
    },
  );

  test(
    "a TLS peer that stops reading: the writer stalls, nothing grows on our side",
    { timeout: 15_000 },
    async () => {
      const ln = await listen("tcp", "127.0.0.1:0", { tls: good });
      try {
        const accepted = ln.accept();
        const conn = await dial("tcp", `localhost:${ln.port}`, { timeout: 5000, tls: { ca: ca.cert } });
        const peer = await accepted; // never reads
        await peer.handshake();
        const chunk = Buffer.alloc(256 * 1024, 1);
        let handed = 0;
        let stop = false;
        const writer = (async () => {
          for (let i = 0; i < 512 && !stop; i++) {
            await conn.write(chunk);
            handed += chunk.length;
          }
        })().catch(() => undefined);
        const heap0 = process.memoryUsage().heapUsed;
        await settled(() => handed);
        assert.ok(
          handed < 32 * 1024 * 1024,
          `writer stalled after ${handed} bytes (kernel buffers and TLS records only)`,
        );
        // the receiving side reads nothing: its queue stays at the high-water mark
        assert.ok(peer.bufferedBytes <= 1024 * 1024, `peer buffered ${peer.bufferedBytes}`);
        const grown = process.memoryUsage().heapUsed - heap0;
        assert.ok(grown < 32 * 1024 * 1024, `heap grew ${grown} bytes`);
        stop = true;
        conn.abort();
        peer.abort();
        await writer;
      } finally {
        await ln.close();
      }
    },
  );
});
