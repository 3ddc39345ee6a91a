/**
 * SMTP STARTTLS (RFC 3207) in `sockit serve smtp --starttls`: Python's `smtplib.starttls()`
 * with a context that trusts the CA, and `swaks --tls`, send a message through it; EHLO offers
 * STARTTLS before and not after the switch, MAIL before the second EHLO is refused (the state is
 * reset), and plain text pipelined after STARTTLS is refused.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { dial } from "../src/net/index.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";
import { ChildSet, runToEnd, tlsFiles } from "./support/tls-fixture.js";

const LIMIT = { timeout: 60_000 };
const { ca, caFile, certFile, keyFile, remove } = tlsFiles("smtp-tls");
const servers = new ChildSet();
const run = runToEnd;
const stopServer = (c: Child) => servers.stop(c);

/** swaks speaks TLS through Perl's Net::SSLeay (Debian: libnet-ssleay-perl). */
function swaksTls(): string | false {
  const missing = needs(["swaks"]);
  if (missing !== false) return missing;
  if (process.env.SOCKIT_REQUIRE_PEERS === "1") return false;
  const r = spawnSync("perl", ["-MNet::SSLeay", "-e", "1"]);
  return r.status === 0 ? false : "swaks --tls needs Net::SSLeay (apt-get install libnet-ssleay-perl)";
}

async function serveSmtpTls(): Promise<{ child: Child; port: number }> {
  const child = start(process.execPath, [
    SOCKIT,
    "serve",
    "smtp",
    "--json",
    "--starttls",
    "--cert",
    certFile,
    "--key",
    keyFile,
    "--hostname",
    "localhost",
    "127.0.0.1:0",
  ]);
  servers.add(child);
  const [line] = await child.line(/^\{"listening".*\}$/m, 15_000);
  const j = JSON.parse(line) as { listening: string };
  return { child, port: Number(/:(\d+)$/.exec(j.listening)![1]) };
}

describe("SMTP STARTTLS", { timeout: 180_000 }, () => {
  after(async () => {
    await servers.killAll();
    remove();
  });

  test("Python smtplib.starttls() sends a message; EHLO offers STARTTLS only before it", LIMIT, async () => {
    const { child, port } = await serveSmtpTls();
    const py = [
      "import smtplib, ssl, sys",
      "ctx = ssl.create_default_context(cafile=sys.argv[1])",
      "s = smtplib.SMTP('localhost', int(sys.argv[2]), timeout=10)",
      "s.ehlo()",
      "before = s.has_extn('starttls')",
      "code, _ = s.starttls(context=ctx)",
      "s.ehlo()",
      "after = s.has_extn('starttls')",
      "version = s.sock.version()",
      "s.sendmail('a@example.org', ['b@example.org'], 'Subject: over tls\\r\\n\\r\\nsecret\\r\\n')",
      "s.quit()",
      "print(before, code, after, version)",
    ].join("\n");
    const r = await run("python3", ["-c", py, caFile, String(port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^True 220 False TLSv1\.[23]$/);
    const [stored] = await child.line(/^\{"message".*\}$/m, 5000);
    const m = JSON.parse(stored) as { message: { subject: string; to: string[] } };
    assert.equal(m.message.subject, "over tls");
    assert.deepEqual(m.message.to, ["b@example.org"]);
    await stopServer(child);
  });

  test("swaks --tls sends a message", { ...LIMIT, skip: swaksTls() }, async () => {
    const { child, port } = await serveSmtpTls();
    const r = await run(peerPath("swaks"), [
      "--server",
      "127.0.0.1",
      "--port",
      String(port),
      "--from",
      "a@example.org",
      "--to",
      "c@example.org",
      "--header",
      "Subject: swaks over tls",
      "--tls",
      "--tls-verify",
      "--tls-ca-path",
      caFile,
      "--tls-sni",
      "localhost",
      "--timeout",
      "10",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // swaks marks plain lines -> / <-, and lines inside TLS ~> / <~
    assert.match(r.stdout, /<- {2}220 2\.0\.0 Ready to start TLS/);
    assert.match(r.stdout, /=== TLS started with cipher TLSv1\.[23]/);
    assert.match(r.stdout, / ~> MAIL FROM:<a@example\.org>/); // the envelope went inside TLS
    assert.doesNotMatch(r.stdout, /<~ {2}250-STARTTLS/); // not offered again once in TLS
    const [stored] = await child.line(/^\{"message".*\}$/m, 5000);
    assert.equal((JSON.parse(stored) as { message: { subject: string } }).message.subject, "swaks over tls");
    await stopServer(child);
  });

  test(
    "mail send --starttls --ca to our server; without the CA exit 3; a server without STARTTLS: exit 8",
    LIMIT,
    async () => {
      const { child, port } = await serveSmtpTls();
      const args = ["mail", "send", "--from", "a@example.org", "--to", "d@example.org", "--subject", "ours"];
      const ok = await sockit([...args, "-v", "--trace", "--starttls", "--ca", caFile, `localhost:${port}`]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^250 2\.0\.0 OK: stored as /);
      assert.match(ok.stderr, /<- 220 2\.0\.0 Ready to start TLS/);
      assert.match(ok.stderr, /do_handshake\(\d+\) = TLSv1\.[23] /);
      const [stored] = await child.line(/^\{"message".*"ours".*\}$/m, 5000);
      assert.ok(stored);
      const no = await sockit([...args, "--starttls", `localhost:${port}`]);
      assert.equal(no.code, 3, no.stderr);
      assert.match(no.stderr, /issuer|self-signed|certificate/i);
      await stopServer(child);
      const plain = start(process.execPath, [SOCKIT, "serve", "smtp", "--json", "127.0.0.1:0"]);
      servers.add(plain);
      const [line] = await plain.line(/^\{"listening".*\}$/m, 15_000);
      const at = (JSON.parse(line) as { listening: string }).listening;
      const refused = await sockit([...args, "--starttls", "--ca", caFile, at]);
      assert.equal(refused.code, 8, refused.stderr);
      assert.match(refused.stderr, /does not offer STARTTLS/);
      await stopServer(plain);
    },
  );

  test(
    "after STARTTLS the state is reset (MAIL before EHLO: 503); plain text pipelined after it is refused",
    LIMIT,
    async () => {
      const { child, port } = await serveSmtpTls();
      // the state reset, through our own client side of upgradeTLS
      const { upgradeTLS } = await import("../src/net/index.js");
      const c = await dial("tcp", `127.0.0.1:${port}`, { timeout: 5000 });
      const readReply = async (conn: typeof c): Promise<string> => {
        let text = "";
        for (;;) {
          const l = (await conn.readLine())?.toString() ?? "";
          text += l;
          if (l === "" || /^\d{3} /.test(l)) return text;
        }
      };
      assert.match(await readReply(c), /^220 /);
      await c.write("EHLO me\r\nMAIL FROM:<a@example.org>\r\n");
      assert.match(await readReply(c), /250-STARTTLS/);
      assert.match(await readReply(c), /^250 /);
      await c.write("STARTTLS\r\n");
      assert.match(await readReply(c), /^220 2\.0\.0 Ready to start TLS/);
      const s = await upgradeTLS(c, { serverName: "localhost", ca: ca.cert, timeout: 5000 });
      await s.write("MAIL FROM:<a@example.org>\r\n");
      assert.match(await readReply(s), /^503 .*EHLO\/HELO first/);
      await s.write("EHLO me\r\n");
      const ehlo = await readReply(s);
      assert.doesNotMatch(ehlo, /STARTTLS/);
      await s.close();
      // a command pipelined behind STARTTLS in plain text is not carried into the TLS session
      const p = await dial("tcp", `127.0.0.1:${port}`, { timeout: 5000 });
      assert.match(await readReply(p), /^220 /);
      await p.write("EHLO me\r\n");
      await readReply(p);
      await p.write("STARTTLS\r\nMAIL FROM:<x@example.org>\r\n");
      const answer = await readReply(p);
      assert.match(answer, /^421 .*after STARTTLS/);
      assert.equal(await p.read(), null);
      await p.close();
      await stopServer(child);
    },
  );
});
