/**
 * FTP transfers killed mid-way by SIGKILL, of the client or of the server: the partial file is
 * kept, `sockit ftp get -c` fetches only the rest (from a restarted server), and the final
 * SHA-256 check passes.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const SIZE = 64 * 1024 * 1024 + 3;

async function serve(root: string): Promise<{ child: Child; address: string }> {
  const child = start(process.execPath, [SOCKIT, "serve", "ftp", root, "--port", "0", "--json"]);
  const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
  return { child, address: (JSON.parse(line) as { listening: string }).listening };
}

/** Waits until `path` holds more than `bytes` (bounded), then sends SIGKILL to `victim`. */
async function killWhenPast(path: string, bytes: number, victim: Child): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    const n = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (n > bytes) {
      victim.kill("SIGKILL");
      return n;
    }
    await sleep(2);
  }
  throw new Error(`${path} never grew past ${bytes} bytes`);
}

describe("FTP downloads killed mid-way resume and verify", () => {
  let dir: string;
  let root: string;
  let data: Buffer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sockit-ftpkill-"));
    root = join(dir, "root");
    mkdirSync(root);
    data = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i += 1 << 20) randomBytes(1 << 20).copy(data, i);
    writeFileSync(join(root, "big.bin"), data);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(
    "SIGKILL of the client: get -c continues the partial file; SHA-256 matches",
    { timeout: 60_000 },
    async () => {
      const srv = await serve(root);
      try {
        const out = join(dir, "client-killed.bin");
        const client = start(process.execPath, [
          SOCKIT,
          "ftp",
          "get",
          `ftp://${srv.address}/big.bin`,
          "-o",
          out,
        ]);
        await killWhenPast(out, 4 << 20, client);
        assert.equal(await client.exit(10_000), null); // killed, not finished
        const have = statSync(out).size;
        assert.ok(have < SIZE, `the download finished before the kill (${have})`);
        assert.deepEqual(readFileSync(out), data.subarray(0, have));
        const r = await sockit(["ftp", "get", "-c", "-v", `ftp://${srv.address}/big.bin`, "-o", out], 60_000);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /matches the server's/);
        assert.equal(sha(readFileSync(out)), sha(data));
      } finally {
        srv.child.kill("SIGTERM");
        await srv.child.exit(10_000);
      }
    },
  );

  test(
    "SIGKILL of the server: the client fails (not exit 0), keeps the part; a new server finishes it",
    { timeout: 60_000 },
    async () => {
      const first = await serve(root);
      const out = join(dir, "server-killed.bin");
      const client = start(process.execPath, [
        SOCKIT,
        "ftp",
        "get",
        `ftp://${first.address}/big.bin`,
        "-o",
        out,
      ]);
      try {
        await killWhenPast(out, 4 << 20, first.child);
        const code = await client.exit(20_000);
        assert.notEqual(code, 0, client.stderr());
        assert.match(client.stderr(), /closed the control connection|reset|ECONN/);
      } finally {
        first.child.kill("SIGKILL");
        client.kill("SIGKILL");
      }
      const have = statSync(out).size;
      assert.ok(have > 0 && have < SIZE, `partial ${have}`);
      assert.deepEqual(readFileSync(out), data.subarray(0, have));
      const second = await serve(root);
      try {
        const r = await sockit(
          ["ftp", "get", "-c", "-v", `ftp://${second.address}/big.bin`, "-o", out],
          60_000,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /matches the server's/);
        assert.equal(sha(readFileSync(out)), sha(data));
      } finally {
        second.child.kill("SIGTERM");
        await second.child.exit(10_000);
      }
    },
  );
});
