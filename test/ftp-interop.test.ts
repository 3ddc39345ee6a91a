/**
 * sockit's FTP server with clients nobody here wrote: curl (ftp:// list, download, upload,
 * resume with -C -), Python's ftplib (passive and active, IPv6 via EPSV/EPRT on ::1) and lftp.
 * Each checks the bytes (SHA-256) and the files on disk, not just an exit code.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FtpServer, serveFtp } from "../src/services/ftp/index.js";
import { needs, peerPath } from "./support/peers.js";
import { runPython } from "./support/python.js";
import { start } from "./support/spawn.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function run(
  cmd: string,
  args: string[],
  ms = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(cmd, args);
  const closed = new Promise<void>((r) => c.proc.once("close", () => r()));
  c.proc.stdin?.end();
  const code = await c.exit(ms);
  await closed;
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe("sockit's FTP server with independent clients", () => {
  let dir: string;
  let root: string;
  let srv: FtpServer;
  let srv6: FtpServer;
  let data: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-ftp-"));
    root = join(dir, "root");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(root, "pub"), { recursive: true });
    data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(root, "a.bin"), data);
    writeFileSync(join(root, "pub", "hello.txt"), "hello\n");
    const opts = { root, users: { alice: "s3cret" }, badPasswordDelayMs: 10 };
    srv = await serveFtp({ ...opts, address: "127.0.0.1:0" });
    srv6 = await serveFtp({ ...opts, address: "[::1]:0" });
  });
  after(async () => {
    await srv.close();
    await srv6.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "curl lists a directory and downloads a file intact",
    { timeout: 30_000, skip: needs(["curl"]) },
    async () => {
      const ls = await run(peerPath("curl"), ["-sS", `ftp://${srv.address}/`]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /^-r--r--r-- .* 3145745 .* a\.bin\r?$/m);
      assert.match(ls.stdout, /^d.* pub\r?$/m);
      const out = join(dir, "curl-a.bin");
      const get = await run(peerPath("curl"), ["-sS", "-o", out, `ftp://${srv.address}/a.bin`]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(sha(readFileSync(out)), sha(data));
    },
  );

  test(
    "curl uploads with --user (and anonymous uploads are refused: read-only)",
    { timeout: 30_000, skip: needs(["curl"]) },
    async () => {
      const src = join(dir, "up.bin");
      const up = randomBytes(1024 * 1024 + 3);
      writeFileSync(src, up);
      const anon = await run(peerPath("curl"), ["-sS", "-T", src, `ftp://${srv.address}/pub/anon.bin`]);
      assert.notEqual(anon.code, 0);
      assert.match(anon.stderr, /550/);
      const r = await run(peerPath("curl"), [
        "-sS",
        "--user",
        "alice:s3cret",
        "-T",
        src,
        `ftp://${srv.address}/pub/up.bin`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha(readFileSync(join(root, "pub", "up.bin"))), sha(up));
    },
  );

  test(
    "curl -C - resumes a partial download and the whole file's SHA-256 matches",
    { timeout: 30_000, skip: needs(["curl"]) },
    async () => {
      const out = join(dir, "partial.bin");
      writeFileSync(out, data.subarray(0, 1_000_001));
      const r = await run(peerPath("curl"), [
        "-sS",
        "-v",
        "-C",
        "-",
        "-o",
        out,
        `ftp://${srv.address}/a.bin`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /REST 1000001/);
      assert.equal(sha(readFileSync(out)), sha(data));
    },
  );

  test(
    "curl -C - -T resumes an upload (SIZE, then APPE) and the file ends whole",
    { timeout: 30_000, skip: needs(["curl"]) },
    async () => {
      const src = join(dir, "resume-up.bin");
      const body = randomBytes(2 * 1024 * 1024 + 9);
      writeFileSync(src, body);
      writeFileSync(join(root, "pub", "resume-up.bin"), body.subarray(0, 700_000));
      const r = await run(peerPath("curl"), [
        "-sS",
        "-v",
        "-C",
        "-",
        "--user",
        "alice:s3cret",
        "-T",
        src,
        `ftp://${srv.address}/pub/resume-up.bin`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /APPE resume-up\.bin/);
      assert.equal(sha(readFileSync(join(root, "pub", "resume-up.bin"))), sha(body));
    },
  );

  test(
    "Python ftplib storbinary(rest=N): REST + STOR keeps the first N bytes and writes the rest",
    { timeout: 30_000 },
    async () => {
      const body = randomBytes(1024 * 1024 + 1);
      writeFileSync(
        join(root, "pub", "rest-up.bin"),
        Buffer.concat([body.subarray(0, 300_000), Buffer.from("junk past the restart point")]),
      );
      writeFileSync(join(dir, "rest-src.bin"), body.subarray(300_000));
      const r = await runPython(
        `
import ftplib, sys
f = ftplib.FTP()
f.connect("127.0.0.1", int(sys.argv[1]), timeout=10)
f.login("alice", "s3cret")
with open(sys.argv[2], "rb") as src:
    print(f.storbinary("STOR pub/rest-up.bin", src, rest=300000))
f.quit()
`,
        [String(srv.port), join(dir, "rest-src.bin")],
        undefined,
        25_000,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^226 /);
      assert.equal(sha(readFileSync(join(root, "pub", "rest-up.bin"))), sha(body));
    },
  );

  const ftplibScript = `
import ftplib, hashlib, io, sys
host, port, passive = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
f = ftplib.FTP()
f.connect(host, port, timeout=20)
f.login("alice", "s3cret")
f.set_pasv(passive)
b = io.BytesIO()
f.retrbinary("RETR a.bin", b.write)
f.storbinary("STOR pub/from-py.bin", io.BytesIO(b.getvalue()[:65537]))
print(hashlib.sha256(b.getvalue()).hexdigest())
print(",".join(sorted(f.nlst("pub"))))
print(f.size("a.bin"))
print(f.sendcmd("HASH a.bin"))
got = []
f.retrlines("RETR pub/hello.txt", got.append)
f.storlines("STOR pub/lines.txt", io.BytesIO(b"one\\ntwo\\n"))
print("|".join(got))
f.quit()
`;

  for (const [name, passive, v6] of [
    ["passive (PASV) on IPv4", true, false],
    ["active (PORT) on IPv4", false, false],
    ["passive via EPSV on ::1", true, true],
    ["active via EPRT on ::1", false, true],
  ] as const) {
    test(
      `Python ftplib, ${name}: download, upload, NLST, SIZE, HASH, TYPE A lines`,
      { timeout: 30_000 },
      async () => {
        const s = v6 ? srv6 : srv;
        const r = await runPython(
          ftplibScript,
          [v6 ? "::1" : "127.0.0.1", String(s.port), passive ? "1" : "0"],
          undefined,
          25_000,
        );
        assert.equal(r.code, 0, r.stderr);
        const [hash, names, size, hashReply, ascii] = r.stdout.trim().split("\n");
        assert.equal(hash, sha(data));
        assert.ok(names!.split(",").includes("from-py.bin"), names);
        assert.equal(size, String(data.length));
        assert.equal(hashReply, `213 SHA-256 0-${data.length} ${sha(data)} /a.bin`);
        assert.equal(sha(readFileSync(join(root, "pub", "from-py.bin"))), sha(data.subarray(0, 65537)));
        // TYPE A: LF on disk, CRLF on the wire, both ways
        assert.equal(ascii, "hello");
        assert.equal(readFileSync(join(root, "pub", "lines.txt"), "utf8"), "one\ntwo\n");
      },
    );
  }

  test(
    "Python ftplib's abort() (ABOR sent as urgent data, its LF lost) stops a RETR: 426, then 226",
    { timeout: 30_000 },
    async () => {
      // larger than the socket buffers can absorb: the transfer is still running at ABOR
      writeFileSync(join(root, "huge.bin"), "");
      truncateSync(join(root, "huge.bin"), 256 * 1024 * 1024);
      const r = await runPython(
        `
import ftplib, sys
f = ftplib.FTP()
f.connect("127.0.0.1", int(sys.argv[1]), timeout=10)
f.login()
f.voidcmd("TYPE I")
c = f.transfercmd("RETR huge.bin")
c.recv(1000)
print(f.abort())
c.close()
print(f.getresp())
print(f.voidcmd("NOOP"))
f.quit()
`,
        [String(srv.port)],
        undefined,
        25_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const [aborted, ok, noop] = r.stdout.trim().split("\n");
      assert.match(aborted!, /^426 /);
      assert.match(ok!, /^226 ABOR successful/);
      assert.match(noop!, /^200 /);
      rmSync(join(root, "huge.bin"));
    },
  );

  test(
    "lftp lists, downloads and mirrors a directory",
    { timeout: 30_000, skip: needs(["lftp"]) },
    async () => {
      const out = join(dir, "lftp-a.bin");
      const mirror = join(dir, "lftp-mirror");
      const r = await run(peerPath("lftp"), [
        "-e",
        `set net:max-retries 1; set net:timeout 10; cls -l; get a.bin -o ${out}; mirror pub ${mirror}; quit`,
        `ftp://${srv.address}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /a\.bin/);
      assert.equal(sha(readFileSync(out)), sha(data));
      assert.equal(readFileSync(join(mirror, "hello.txt"), "utf8"), "hello\n");
    },
  );
});
