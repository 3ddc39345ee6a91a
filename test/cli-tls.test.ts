/**
 * `sockit connect --tls`, `listen --tls` and `cert create` end to end: the BUILT binary against
 * curl, ncat --ssl, socat OPENSSL and openssl s_server; the verification errors exit 3 with a
 * message naming the problem; --insecure warns; --trace shows the handshake as a call.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, test } from "node:test";
import { createCertificate } from "../src/core/cert.js";
import { needs, peerPath } from "./support/peers.js";
import { type Child, start } from "./support/spawn.js";

const BIN = join(import.meta.dirname, "..", "src", "cli", "main.js");
const LIMIT = { timeout: 30_000 };
const dir = fs.mkdtempSync(join(tmpdir(), "sockit-cli-tls-"));
const children = new Set<Child>();

function run(cmd: string, args: string[]): Child {
  const c = start(cmd, args, { ...process.env, NO_COLOR: "1" });
  children.add(c);
  return c;
}
const sockit = (args: string[]) => run(process.execPath, [BIN, ...args]);

async function stop(c: Child): Promise<void> {
  c.kill("SIGKILL");
  await c.exit(2000).catch(() => {});
  children.delete(c);
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** The port a `sockit listen … 0` prints on stderr. */
async function listeningPort(c: Child): Promise<number> {
  await until(() => /listening on \S+:(\d+)/.test(c.stderr()), 10_000, `the listener (${c.stderr()})`);
  return Number(/listening on \S+:(\d+)/.exec(c.stderr())![1]);
}

const write = (name: string, text: string) => {
  const f = join(dir, name);
  fs.writeFileSync(f, text, { mode: 0o600 });
  return f;
};
const ca = createCertificate({ hosts: ["localhost"], ca: true });
const caFile = write("ca.pem", ca.cert);
const good = createCertificate({ hosts: ["localhost", "127.0.0.1"], issuer: ca });
const goodCert = write("good.pem", good.cert);
const goodKey = write("good.key", good.key);

describe("sockit TLS", { timeout: 180_000 }, () => {
  after(async () => {
    for (const c of [...children]) await stop(c);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(
    "cert create, listen --tls with it, curl --cacert reads a canned HTTP answer",
    { ...LIMIT, skip: needs(["curl"]) },
    async () => {
      const cert = join(dir, "made.pem");
      const key = join(dir, "made.key");
      const made = sockit(["cert", "create", "--host", "localhost", "--cert", cert, "--key", key]);
      assert.equal(await made.exit(), 0, made.stderr());
      assert.match(made.stderr(), /SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      assert.equal(fs.statSync(key).mode & 0o777, 0o600);
      const ln = sockit(["listen", "--tls", "--cert", cert, "--key", key, "127.0.0.1", "0"]);
      // no Content-Length: curl reads to the end (the listener's close_notify and FIN). With
      // one, curl may close as soon as it has the body, before the close_notify that follows
      // it arrives: its kernel answers that with a reset, and the listener's recv reports the
      // reset (exit 5), as it must
      ln.proc.stdin!.end("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nhello\n");
      const port = await listeningPort(ln);
      const curl = run(peerPath("curl"), [
        "-sS",
        "--max-time",
        "10",
        "--cacert",
        cert,
        `https://localhost:${port}/`,
      ]);
      assert.equal(await curl.exit(15_000), 0, curl.stderr());
      assert.equal(curl.stdout(), "hello\n");
      assert.match(ln.stdout(), /^GET \/ HTTP\/1\.1\r\n/);
      assert.equal(await ln.exit(), 0, ln.stderr());
    },
  );

  test(
    "listen --tls without a certificate: a fresh one, its fingerprint; connect refuses it (exit 3) unless --insecure, which warns; --trace shows the handshake",
    LIMIT,
    async () => {
      const ln = sockit(["listen", "-k", "--tls", "127.0.0.1", "0"]);
      const port = await listeningPort(ln);
      assert.match(ln.stderr(), /fresh self-signed certificate for localhost, SHA-256 [0-9A-F:]{95}/);
      const strict = sockit(["connect", "--tls", "localhost", String(port)]);
      strict.proc.stdin!.end();
      assert.equal(await strict.exit(), 3, strict.stderr());
      assert.match(strict.stderr(), /self-signed/);
      const loose = sockit(["--trace", "connect", "--tls", "--insecure", "localhost", String(port)]);
      loose.proc.stdin!.write("hi\n"); // stdin stays open: a -k listener lets go of a client that half-closes
      await until(() => ln.stdout().includes("hi\n"), 10_000, "the client's line");
      ln.proc.stdin!.write("from server\n"); // -k: to every client connected now
      await until(() => loose.stdout().includes("from server"), 10_000, "the server's line");
      assert.match(loose.stderr(), /warning: --insecure: the server's certificate is NOT verified/);
      assert.match(loose.stderr(), /do_handshake\(3\) = TLSv1\.3 TLS_AES_256_GCM_SHA384/);
      await stop(loose);
      await stop(ln);
    },
  );

  test(
    "a TLS client accepted after the listener's stdin ended: the half-close waits for the handshake",
    { ...LIMIT, skip: needs(["openssl"]) },
    async () => {
      const ln = sockit(["listen", "-k", "--tls", "--cert", goodCert, "--key", goodKey, "127.0.0.1", "0"]);
      ln.proc.stdin!.end(); // every client is half-closed at once (SHUT_WR), before its handshake is done
      const port = await listeningPort(ln);
      const c = sockit(["connect", "--tls", "--ca", caFile, "localhost", String(port)]);
      c.proc.stdin!.end("x\n");
      assert.equal(await c.exit(), 0, c.stderr());
      await stop(ln);
    },
  );

  /** `sockit connect --tls` to an openssl s_server serving cert/key; resolves exit code and stderr. */
  async function connectTo(
    cert: { cert: string; key: string },
    connectArgs: string[],
    serverArgs: string[] = [],
  ) {
    const srv = run("openssl", [
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-cert",
      write("s.pem", cert.cert),
      "-key",
      write("s.key", cert.key),
      "-naccept",
      "1",
      ...serverArgs,
    ]);
    srv.proc.stdin!.write("ok\n");
    const m = await srv.line(/ACCEPT [^\n]*:(\d+)/);
    const c = sockit(["connect", "-w", "5", "--tls", ...connectArgs, "localhost", m[1]!]);
    c.proc.stdin!.end();
    const code = await c.exit(15_000);
    await stop(srv);
    return { code, stderr: c.stderr(), stdout: c.stdout() };
  }

  test(
    "verification errors exit 3 and name the problem: expired, wrong host name, unknown issuer, TLS 1.0 only",
    LIMIT,
    async () => {
      const expired = createCertificate({
        hosts: ["localhost"],
        issuer: ca,
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      let r = await connectTo(expired, ["--ca", caFile]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /expired/);

      r = await connectTo(good, ["--ca", caFile, "--servername", "other.example"]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /wrong host name/);

      r = await connectTo(good, []);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /unknown issuer/);

      r = await connectTo(good, ["--ca", caFile], ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /protocol version/);

      r = await connectTo(good, ["--ca", caFile]); // and the same server verified: exit 0
      assert.equal(r.code, 0, r.stderr);
    },
  );

  test("ncat --ssl (verifying) → sockit listen --tls", { ...LIMIT, skip: needs(["ncat"]) }, async () => {
    const ln = sockit(["listen", "--tls", "--cert", goodCert, "--key", goodKey, "127.0.0.1", "0"]);
    ln.proc.stdin!.end("from sockit\n");
    const port = await listeningPort(ln);
    const nc = run(peerPath("ncat"), [
      "--ssl",
      "--ssl-verify",
      "--ssl-trustfile",
      caFile,
      "localhost",
      String(port),
    ]);
    nc.proc.stdin!.end("from ncat\n");
    await until(() => nc.stdout().includes("from sockit"), 10_000, `ncat's output (${nc.stderr()})`);
    assert.equal(await ln.exit(), 0, ln.stderr());
    assert.equal(ln.stdout(), "from ncat\n");
    await nc.exit();
  });

  test(
    "socat OPENSSL: → listen --tls, and connect --tls → socat OPENSSL-LISTEN:",
    { ...LIMIT, skip: needs(["socat"]) },
    async () => {
      const ln = sockit(["listen", "--tls", "--cert", goodCert, "--key", goodKey, "127.0.0.1", "0"]);
      ln.proc.stdin!.end("to socat\n");
      const port = await listeningPort(ln);
      const cli = run(peerPath("socat"), ["-", `OPENSSL:localhost:${port},cafile=${caFile}`]);
      cli.proc.stdin!.end("to sockit\n");
      await until(() => cli.stdout().includes("to socat"), 10_000, `socat's output (${cli.stderr()})`);
      assert.equal(await ln.exit(), 0, ln.stderr());
      assert.equal(ln.stdout(), "to sockit\n");
      await cli.exit();

      const srv = run(peerPath("socat"), [
        "-d",
        "-d",
        `OPENSSL-LISTEN:0,bind=127.0.0.1,cert=${goodCert},key=${goodKey},verify=0`,
        "SYSTEM:'echo served; cat >/dev/null'",
      ]);
      await until(
        () => /listening on [^\n]*:(\d+)/.test(srv.stderr()),
        10_000,
        `socat to listen (${srv.stderr()})`,
      );
      const sport = /listening on [^\n]*:(\d+)/.exec(srv.stderr())![1]!;
      const c = sockit(["connect", "--tls", "--ca", caFile, "localhost", sport]);
      c.proc.stdin!.end("x\n");
      assert.equal(await c.exit(), 0, c.stderr());
      assert.equal(c.stdout(), "served\n");
      await stop(srv);
    },
  );

  test(
    "relay tls-listen:… ↔ exec:cat answers socat OPENSSL:; relay - tls:… verifies (exit 3 without the CA)",
    { ...LIMIT, skip: needs(["socat", "openssl"]) },
    async () => {
      const r = sockit(["relay", `tls-listen:127.0.0.1:0,cert=${goodCert},key=${goodKey}`, "exec:cat"]);
      const port = await listeningPort(r);
      const cli = run(peerPath("socat"), ["-", `OPENSSL:localhost:${port},cafile=${caFile}`]);
      cli.proc.stdin!.end("echo me\n");
      assert.equal(await cli.exit(), 0, cli.stderr());
      assert.equal(cli.stdout(), "echo me\n");
      await r.exit();

      const srv = run("openssl", [
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        goodCert,
        "-key",
        goodKey,
        "-naccept",
        "2",
      ]);
      const sport = (await srv.line(/ACCEPT [^\n]*:(\d+)/))[1]!;
      const bad = sockit(["relay", "-", `tls:localhost:${sport}`]);
      bad.proc.stdin!.end();
      assert.equal(await bad.exit(), 3, bad.stderr());
      assert.match(bad.stderr(), /unknown issuer/);
      const ok = sockit(["relay", "-", `tls:localhost:${sport},cafile=${caFile}`]);
      ok.proc.stdin!.write("to s_server\n");
      await until(() => srv.stdout().includes("to s_server"), 10_000, `s_server's output (${ok.stderr()})`);
      await stop(ok);
      await stop(srv);
    },
  );

  test(
    "info --tls HOST:PORT: protocol, cipher, verification and the chain, readable",
    { ...LIMIT, skip: needs(["openssl"]) },
    async () => {
      const srv = run("openssl", [
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        goodCert,
        "-key",
        goodKey,
        "-naccept",
        "2",
      ]);
      const port = (await srv.line(/ACCEPT [^\n]*:(\d+)/))[1]!;
      const ok = sockit(["info", "--tls", `localhost:${port}`, "--ca", caFile]);
      assert.equal(await ok.exit(), 0, ok.stderr());
      assert.match(
        ok.stdout(),
        /^protocol: TLSv1\.3\ncipher: {3}TLS_AES_256_GCM_SHA384 \(256 bits\)\nverified: yes\n/,
      );
      assert.match(ok.stdout(), /subject: {2}CN=localhost\n {4}issuer: {3}CN=sockit local CA localhost\n/);
      assert.match(ok.stdout(), /SANs: {5}DNS:localhost, IP Address:127\.0\.0\.1/);
      assert.match(ok.stdout(), new RegExp(`SHA-256: {2}${good.fingerprint256}`));
      const no = sockit(["info", "--tls", `localhost:${port}`]);
      assert.equal(await no.exit(), 0, no.stderr());
      assert.match(no.stdout(), /verified: no — UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      await stop(srv);
    },
  );
});
