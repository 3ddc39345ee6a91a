/**
 * `--progress` end to end: under a pseudo-terminal (util-linux `script`) a transfer that lasts
 * over a second shows a bar with bytes, rate and — stdin being a regular file — percentage and
 * ETA; with stderr a pipe, or with `--no-progress`, there is none. The peer is a slow reader
 * (a real socket), so the transfer lasts ~2 s.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { listen } from "../src/net/index.js";
import { SOCKIT } from "./support/sockit-serve.js";

const LIMIT = { timeout: 30_000 };
const SIZE = 2_000_000;

/** A server that reads slowly (16 KiB every 15 ms) and closes at EOF; serves `n` clients. */
async function slowReader(n: number) {
  const ln = await listen("tcp", "127.0.0.1:0");
  const done = (async () => {
    for (let i = 0; i < n; i++) {
      const c = await ln.accept();
      for (let b = await c.read(16384); b !== null; b = await c.read(16384))
        await new Promise((r) => setTimeout(r, 15));
      await c.close();
    }
  })();
  return { port: ln.port, done, close: () => ln.close() };
}

function run(
  file: string,
  args: readonly string[],
  ms = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: ms }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

describe("--progress", () => {
  let dir: string;
  let data: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sockit-progress-"));
    data = join(dir, "data.bin");
    writeFileSync(data, Buffer.alloc(SIZE, 0x61));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cmd = (port: number, extra = "") =>
    `${process.execPath} ${SOCKIT} -v connect ${extra} 127.0.0.1 ${port} < ${data}`;

  test("under a terminal: a bar with percentage, bytes, rate and ETA, then the summary", LIMIT, async () => {
    const srv = await slowReader(1);
    try {
      const r = await run("script", ["-qfec", cmd(srv.port), "/dev/null"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
      assert.match(screen, /sent [█░]+ \d+% [\d.]+ [kM]?B\/2\.00 MB \| [\d.]+ [kMG]?B\/s \| ETA \d+s/);
      assert.match(screen, /sent [█]+ 100% 2\.00 MB\/2\.00 MB/);
      assert.match(screen, new RegExp(`sockit: ${SIZE} bytes sent, 0 received in \\d+\\.\\d\\d s`));
      await srv.done;
    } finally {
      await srv.close();
    }
  });

  test("under a terminal with --no-progress: no bar", LIMIT, async () => {
    const srv = await slowReader(1);
    try {
      const r = await run("script", ["-qfec", cmd(srv.port, "--no-progress"), "/dev/null"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
      assert.doesNotMatch(screen, /ETA|%|█/);
      assert.match(screen, new RegExp(`sockit: ${SIZE} bytes sent, 0 received`));
      await srv.done;
    } finally {
      await srv.close();
    }
  });

  test("stderr a pipe: no bar (only the -v lines)", LIMIT, async () => {
    const srv = await slowReader(1);
    try {
      const r = await run("bash", ["-c", cmd(srv.port)]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /ETA|%|█|\r/);
      const last = r.stderr.trimEnd().split("\n").at(-1);
      assert.match(last ?? "", new RegExp(`^sockit: ${SIZE} bytes sent, 0 received in \\d+\\.\\d\\d s \\(`));
      await srv.done;
    } finally {
      await srv.close();
    }
  });
});
