/**
 * sockit's FTP client: the `sockit ftp` command against pyftpdlib (a server nobody here wrote)
 * in passive and active mode, and against sockit's own server: a download reset mid-way (RST)
 * resumed with -c fetches only the rest and ends with a matching SHA-256; a corrupted partial
 * file is caught by the final hash check (non-zero exit).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FtpClient, type FtpServer, serveFtp } from "../src/services/ftp/index.js";
import { InterruptedError } from "../src/errors/index.js";
import { needs, peerPath } from "./support/peers.js";
import { sockit } from "./support/sockit-serve.js";

const big = "big.bin";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Starts `python3 -m pyftpdlib` on a free loopback port; resolves its address once it listens. */
async function pyftpdlib(dir: string, extra: string[]): Promise<{ proc: ChildProcess; address: string }> {
  const proc = spawn(
    peerPath("pyftpdlib"),
    ["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", "0", "-d", dir, ...extra],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pyftpdlib did not start: ${err}`)), 10_000);
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /starting FTP server on (127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pyftpdlib exited ${code}: ${err}`));
    });
  });
  return { proc, address };
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.once("exit", () => r()));
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 5000);
  await gone;
  clearTimeout(t);
}

describe("sockit ftp against pyftpdlib", { skip: needs(["pyftpdlib"]) }, () => {
  let dir: string;
  let srvDir: string;
  let py: { proc: ChildProcess; address: string };
  const data = randomBytes(2 * 1024 * 1024 + 5);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-ftpcli-"));
    srvDir = join(dir, "srv");
    mkdirSync(srvDir);
    writeFileSync(join(srvDir, "a.bin"), data);
    py = await pyftpdlib(srvDir, ["-w", "-u", "bob", "-P", "pw"]);
  });
  after(async () => {
    await stopProc(py.proc);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const active of [false, true]) {
    test(
      `get, put, ls, mv, mkdir, rm (${active ? "active" : "passive"} mode)`,
      { timeout: 60_000 },
      async () => {
        const mode = active ? ["--active"] : [];
        const url = `ftp://bob:pw@${py.address}`;
        const out = join(dir, `got-${active}.bin`);
        let r = await sockit(["ftp", "get", `${url}/a.bin`, "-o", out, "-v", ...mode]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(sha(readFileSync(out)), sha(data));
        assert.match(r.stderr, /offers no HASH or XSHA256/); // pyftpdlib has neither: said, not faked
        const up = randomBytes(700_001);
        writeFileSync(join(dir, "up.bin"), up);
        r = await sockit([
          "ftp",
          "put",
          py.address,
          join(dir, "up.bin"),
          `up-${active}.bin`,
          "--user",
          "bob:pw",
          ...mode,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(sha(readFileSync(join(srvDir, `up-${active}.bin`))), sha(up));
        r = await sockit(["ftp", "mkdir", `${url}/d-${active}`, ...mode]);
        assert.equal(r.code, 0, r.stderr);
        r = await sockit(["ftp", "mv", `${url}/up-${active}.bin`, `d-${active}/moved.bin`, ...mode]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(existsSync(join(srvDir, `d-${active}`, "moved.bin")));
        r = await sockit(["ftp", "ls", `${url}/d-${active}`, ...mode]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /moved\.bin/);
        r = await sockit(["ftp", "rm", `${url}/d-${active}/moved.bin`, ...mode]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(existsSync(join(srvDir, `d-${active}`, "moved.bin")), false);
        r = await sockit(["ftp", "rm", `${url}/nope.bin`, ...mode]);
        assert.equal(r.code, 6);
        assert.match(r.stderr, /550/);
      },
    );
  }

  test("get -c resumes a partial file from pyftpdlib (REST)", { timeout: 30_000 }, async () => {
    const out = join(dir, "partial.bin");
    writeFileSync(out, data.subarray(0, 777_777));
    const r = await sockit(["ftp", "get", "-c", `ftp://bob:pw@${py.address}/a.bin`, "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(readFileSync(out)), sha(data));
  });
});

describe("sockit ftp resume and verification against sockit's server", () => {
  let dir: string;
  let srv: FtpServer;
  const data = randomBytes(8 * 1024 * 1024 + 11);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-ftpres-"));
    mkdirSync(join(dir, "root"));
    writeFileSync(join(dir, "root", "big.bin"), data);
    srv = await serveFtp({ root: join(dir, "root"), address: "127.0.0.1:0" });
  });
  after(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "a RETR reset mid-way (RST) resumes with REST, re-sends only the rest, and the SHA-256 matches",
    { timeout: 60_000 },
    async () => {
      const out = join(dir, "big.bin");
      const file = createWriteStream(out);
      const ftp = await FtpClient.connect(srv.address);
      const stop = new AbortController();
      try {
        await assert.rejects(
          ftp.download(
            big,
            (b) => new Promise((res, rej) => file.write(b, (e) => (e ? rej(e) : res(undefined)))),
            {
              signal: stop.signal,
              onProgress: (n) => {
                if (n >= 2 * 1024 * 1024) stop.abort();
              },
            },
          ),
          InterruptedError,
        );
      } finally {
        ftp.abort();
        await new Promise((r) => file.end(r));
      }
      const have = statSync(out).size;
      assert.ok(have >= 2 * 1024 * 1024 && have < data.length, `partial ${have}`);
      assert.deepEqual(readFileSync(out), data.subarray(0, have));
      const before = srv.counters.bytesOut;
      const r = await sockit(["ftp", "get", "-c", "-v", `ftp://${srv.address}/big.bin`, "-o", out], 30_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /SHA-256 [0-9a-f]{64} matches the server's/);
      assert.equal(sha(readFileSync(out)), sha(data));
      assert.equal(srv.counters.bytesOut - before, data.length - have); // only the rest crossed again
    },
  );

  test(
    "a corrupted partial file is caught by the final hash check: exit 6, the mismatch named",
    { timeout: 30_000 },
    async () => {
      const out = join(dir, "bad.bin");
      const partial = Buffer.from(data.subarray(0, 1_000_000));
      partial[123] = partial[123]! ^ 0xff;
      writeFileSync(out, partial);
      const r = await sockit(["ftp", "get", "-c", `ftp://${srv.address}/big.bin`, "-o", out], 30_000);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /SHA-256 mismatch: the server has [0-9a-f]{64}, the local file [0-9a-f]{64}/);
    },
  );
});
