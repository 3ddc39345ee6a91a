/**
 * Explicit FTPS (RFC 4217) in `sockit serve ftp --tls`, proven with clients nobody here wrote:
 * Python's `ftplib.FTP_TLS` (login, PROT P, LIST, RETR, STOR, passive and active), `lftp` with
 * ftp:ssl-force and `curl --ssl-reqd`; the server's -v log shows each data connection was TLS.
 * Then the rules: `--tls-required` refuses a plain login (530) and a transfer before PROT P
 * (521); plain text pipelined behind AUTH TLS is refused; a client that stalls its handshake
 * after 234 frees its session slot; `sockit ftp --tls` without the CA exits 3.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { OSError } from "../src/errors/index.js";
import { dial } from "../src/net/index.js";
import { serveFtp } from "../src/services/ftp/index.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";
import { ChildSet, runToEnd, tlsFiles } from "./support/tls-fixture.js";

const LIMIT = { timeout: 60_000 };
const { dir, ca, good, caFile, certFile, keyFile, remove } = tlsFiles("ftps");
const root = join(dir, "root");
mkdirSync(root);
const small = "alpha over TLS\n";
const big = randomBytes(300_000);
writeFileSync(join(root, "a.txt"), small);
writeFileSync(join(root, "big.bin"), big);
const servers = new ChildSet();

async function serveFtps(extra: string[] = []): Promise<{ child: Child; port: number }> {
  const child = start(process.execPath, [
    SOCKIT,
    "serve",
    "ftp",
    root,
    "--port",
    "0",
    "--json",
    "-v",
    "--tls",
    "--cert",
    certFile,
    "--key",
    keyFile,
    "--user",
    "alice:pw",
    ...extra,
  ]);
  servers.add(child);
  const [line] = await child.line(/^\{"listening".*\}$/m, 15_000);
  const j = JSON.parse(line) as { listening: string };
  return { child, port: Number(/:(\d+)$/.exec(j.listening)![1]) };
}

/** How many data connections the server's -v log says were TLS. */
const dataTLS = (c: Child) => (c.stderr().match(/tls \S+: data TLSv1\.[23] /g) ?? []).length;

const FTPLIB = `
import ftplib, io, ssl, sys
ca, port, passive = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "passive"
ctx = ssl.create_default_context(cafile=ca)
f = ftplib.FTP_TLS(context=ctx, timeout=10)
f.connect("localhost", port)
f.login("alice", "pw")
f.prot_p()
f.set_pasv(passive)
lines = []
f.retrlines("LIST", lines.append)
got = io.BytesIO()
f.retrbinary("RETR big.bin", got.write)
name = "up-%s.bin" % sys.argv[3]
f.storbinary("STOR " + name, io.BytesIO(got.getvalue()[::-1]))
print(f.sock.version(), any(l.endswith(" a.txt") for l in lines), len(got.getvalue()), f.size(name))
f.quit()
`;

describe("FTPS server", { timeout: 360_000 }, () => {
  after(async () => {
    await servers.killAll();
    remove();
  });

  describe("clients nobody here wrote", () => {
    for (const mode of ["passive", "active"]) {
      test(`Python ftplib.FTP_TLS, ${mode}: login, PROT P, LIST, RETR, STOR`, LIMIT, async () => {
        const { child, port } = await serveFtps();
        const r = await runToEnd("python3", ["-c", FTPLIB, caFile, String(port), mode]);
        assert.equal(r.code, 0, r.stderr + child.stderr());
        assert.match(r.stdout.trim(), new RegExp(`^TLSv1\\.[23] True ${big.length} ${big.length}$`));
        assert.ok(readFileSync(join(root, `up-${mode}.bin`)).equals(Buffer.from(big).reverse()));
        await servers.stop(child);
        assert.match(child.stderr(), /tls \S+: control TLSv1\.[23] /);
        assert.equal(dataTLS(child), 3, child.stderr()); // LIST, RETR, STOR
      });
    }

    test(
      "lftp with ftp:ssl-force and ftp:ssl-protect-data: ls, get, put",
      { ...LIMIT, skip: needs(["lftp"]) },
      async () => {
        const { child, port } = await serveFtps();
        const out = join(dir, "lftp-got.txt");
        const up = join(dir, "lftp-up.txt");
        writeFileSync(up, "from lftp\n");
        const r = await runToEnd(peerPath("lftp"), [
          "-u",
          "alice,pw",
          "-e",
          [
            "set ftp:ssl-force true",
            "set ftp:ssl-protect-data true",
            `set ssl:ca-file ${caFile}`,
            "set ssl:verify-certificate true",
            "set net:max-retries 1",
            "set net:timeout 10",
            "ls",
            `get a.txt -o ${out}`,
            `put ${up} -o lftp-up.txt`,
            "bye",
          ].join("; "),
          `localhost:${port}`,
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr + child.stderr());
        assert.match(r.stdout, / a\.txt$/m);
        assert.equal(readFileSync(out, "utf8"), small);
        assert.equal(readFileSync(join(root, "lftp-up.txt"), "utf8"), "from lftp\n");
        await servers.stop(child);
        assert.equal(dataTLS(child), 3, child.stderr());
      },
    );

    test(
      "curl --ssl-reqd --cacert: list, download, upload",
      { ...LIMIT, skip: needs(["curl"]) },
      async () => {
        const { child, port } = await serveFtps();
        const curl = peerPath("curl");
        const base = ["-sS", "--ssl-reqd", "--cacert", caFile, "--max-time", "15"];
        const ls = await runToEnd(curl, [...base, `ftp://localhost:${port}/`]);
        assert.equal(ls.code, 0, ls.stderr);
        assert.match(ls.stdout, / big\.bin\r?$/m);
        const get = await runToEnd(curl, [...base, `ftp://localhost:${port}/a.txt`]);
        assert.equal(get.code, 0, get.stderr);
        assert.equal(get.stdout, small);
        const up = join(dir, "curl-up.txt");
        writeFileSync(up, "from curl\n");
        const put = await runToEnd(curl, [...base, "-T", up, `ftp://alice:pw@localhost:${port}/curl-up.txt`]);
        assert.equal(put.code, 0, put.stderr);
        assert.equal(readFileSync(join(root, "curl-up.txt"), "utf8"), "from curl\n");
        await servers.stop(child);
        assert.equal(dataTLS(child), 3, child.stderr());
      },
    );
  });

  describe("the rules", () => {
    test(
      "--tls-required: a plain login gets 530, a transfer before PROT P 521; FEAT lists AUTH TLS, PBSZ, PROT",
      LIMIT,
      async () => {
        const { child, port } = await serveFtps(["--tls-required"]);
        const py = `
import ftplib, ssl, sys
ca, port = sys.argv[1], int(sys.argv[2])
f = ftplib.FTP(timeout=10)
f.connect("127.0.0.1", port)
feat = f.sendcmd("FEAT")
try:
    f.login("alice", "pw")
    print("plain login accepted")
except ftplib.error_perm as e:
    print("plain", str(e)[:3])
f.close()
f = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=ca), timeout=10)
f.connect("localhost", port)
f.login("alice", "pw")
try:
    f.nlst()
    print("clear data accepted")
except ftplib.error_perm as e:
    print("clear", str(e)[:3])
try:
    f.prot_c()
    print("PROT C accepted")
except ftplib.error_perm as e:
    print("protc", str(e)[:3])
f.prot_p()
print("names", f.nlst())
print(all(x in feat for x in (" AUTH TLS", " PBSZ", " PROT")))
f.quit()
`;
        const r = await runToEnd("python3", ["-c", py, caFile, String(port)]);
        assert.equal(r.code, 0, r.stderr + child.stderr());
        const lines = r.stdout.trim().split("\n");
        assert.deepEqual(lines.slice(0, 3), ["plain 530", "clear 521", "protc 534"]);
        assert.match(lines[3]!, /'a\.txt'/);
        assert.equal(lines[4], "True");
        await servers.stop(child);
      },
    );

    test(
      "plain text pipelined behind AUTH TLS is refused (503) and read as plain, not as protected",
      LIMIT,
      async () => {
        const srv = await serveFtp({ root, address: "127.0.0.1:0", tls: { cert: good.cert, key: good.key } });
        const c = await dial("tcp", srv.address, { timeout: 5000 });
        try {
          const replies: string[] = [];
          let text = "";
          const want = async (re: RegExp) => {
            const deadline = Date.now() + 5000;
            while (!re.test(text) && Date.now() < deadline) {
              c.setReadDeadline(deadline);
              const b = await c.read();
              if (b === null) break;
              text += b.toString();
            }
            replies.push(text);
            text = "";
          };
          await want(/^220 .*\r\n/m);
          await c.write("AUTH TLS\r\nUSER alice\r\n");
          await want(/^331 .*\r\n/m);
          assert.match(replies[1]!, /^503 Nothing may follow AUTH TLS/m);
          assert.match(replies[1]!, /^331 Password required for alice/m);
        } finally {
          c.abort();
          await srv.close();
        }
      },
    );

    test("a key that does not belong to the certificate is refused at start (EINVAL)", LIMIT, async () => {
      const tls = { cert: good.cert, key: ca.key };
      const started = await serveFtp({ root, address: "127.0.0.1:0", tls }).then(
        async (srv) => {
          await srv.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(started instanceof OSError, "the server started with a key that is not the certificate's");
      assert.equal(started.code, "EINVAL");
      assert.match(started.message, /does not belong/);
    });

    test("closing the server ends a handshake in progress at once", LIMIT, async () => {
      const srv = await serveFtp({
        root,
        address: "127.0.0.1:0",
        tls: { cert: good.cert, key: good.key },
        tlsHandshakeMs: 30_000,
      });
      const c = await dial("tcp", srv.address, { timeout: 5000 });
      try {
        c.setReadDeadline(Date.now() + 5000);
        assert.match((await c.read())?.toString() ?? "", /^220 /);
        await c.write("AUTH TLS\r\n");
        assert.match((await c.read())?.toString() ?? "", /^234 /);
        const t0 = Date.now();
        await srv.close();
        assert.ok(Date.now() - t0 < 3000, `close took ${Date.now() - t0} ms`);
      } finally {
        c.abort();
        await srv.close();
      }
    });

    test("a client that stalls its handshake after 234 is dropped and frees its slot", LIMIT, async () => {
      const srv = await serveFtp({
        root,
        address: "127.0.0.1:0",
        tls: { cert: good.cert, key: good.key },
        maxSessions: 1,
        tlsHandshakeMs: 400,
      });
      const first = await dial("tcp", srv.address, { timeout: 5000 });
      try {
        const read = async (conn: typeof first) => {
          conn.setReadDeadline(Date.now() + 5000);
          return (await conn.read())?.toString() ?? "";
        };
        assert.match(await read(first), /^220 /);
        await first.write("AUTH TLS\r\n");
        assert.match(await read(first), /^234 /);
        // it never sends its ClientHello: the only slot is taken meanwhile
        const second = await dial("tcp", srv.address, { timeout: 5000 });
        assert.match(await read(second), /^421 Too many sessions/);
        second.abort();
        const t0 = Date.now();
        assert.equal(await first.read().catch(() => null), null); // closed by the server
        assert.ok(Date.now() - t0 < 3000, "held too long");
        const third = await dial("tcp", srv.address, { timeout: 5000 });
        assert.match(await read(third), /^220 /);
        third.abort();
        assert.equal(srv.counters.refused, 1);
      } finally {
        first.abort();
        await srv.close();
      }
    });

    test(
      "sockit ftp --tls without the CA exits 3 naming the problem; with --ca it lists",
      LIMIT,
      async () => {
        const { child, port } = await serveFtps();
        const bad = await runToEnd(process.execPath, [
          SOCKIT,
          "ftp",
          "ls",
          "--tls",
          `ftp://localhost:${port}/`,
        ]);
        assert.equal(bad.code, 3, bad.stderr);
        assert.match(
          bad.stderr,
          /certificate verify failed: unable to get local issuer certificate|unknown issuer/i,
        );
        const ok = await runToEnd(process.execPath, [
          SOCKIT,
          "ftp",
          "ls",
          "--tls",
          "--ca",
          caFile,
          "--trace",
          `ftp://localhost:${port}/`,
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, / a\.txt$/m);
        // --trace shows both handshakes as calls: the control connection's, then the data connection's
        const shakes = ok.stderr.match(/^do_handshake\(\d+\) = TLSv1\.[23] \S+$/gm) ?? [];
        assert.equal(shakes.length, 2, ok.stderr);
        await servers.stop(child);
      },
    );
  });
});
