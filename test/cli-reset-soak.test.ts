/**
 * Soak: the `sockit` command never reports success for a transfer that a reset cut short. A file
 * goes 200 times through `sockit connect` (receiving) and `sockit listen` (receiving) while the
 * Python peer resets at a random point or closes cleanly: every run either delivers the whole
 * file with a matching SHA-256 and exits 0, or exits 5 saying "connection reset by peer".
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { PyPeer } from "./support/py-peer.js";
import { runPython } from "./support/python.js";

const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const SIZE = 512 * 1024;
const RUNS = 100; // per direction

const pattern = Buffer.alloc(256 * 4096);
for (let i = 0; i < pattern.length; i++) pattern[i] = i & 0xff;
const WHOLE = createHash("sha256").update(pattern.subarray(0, SIZE)).digest("hex");

interface Run {
  code: number | null;
  hash: string;
  bytes: number;
  stderr: string;
}

/** Runs `sockit ARGS`, hashing its stdout; `ready` resolves with its stderr's first line. */
function sockit(args: string[], onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SOCKIT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const hash = createHash("sha256");
    let bytes = 0;
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    proc.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`sockit ${args.join(" ")} did not finish; stderr: ${stderr}`));
    }, 20_000);
    proc.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, hash: hash.digest("hex"), bytes, stderr });
    });
  });
}

function check(run: Run, clean: boolean, what: string): "intact" | "reset" {
  if (run.code === 0) {
    assert.equal(run.bytes, SIZE, `${what}: exit 0 with ${run.bytes} of ${SIZE} bytes; ${run.stderr}`);
    assert.equal(run.hash, WHOLE, `${what}: exit 0 with a different SHA-256`);
    return "intact";
  }
  assert.equal(run.code, 5, `${what}: exit ${run.code}; stderr: ${run.stderr}`);
  assert.match(run.stderr, /connection reset by peer/, what);
  assert.ok(!clean, `${what}: a reset reported on an orderly close`);
  return "reset";
}

/** 200 runs of two processes each: minutes on a loaded machine, bounded all the same. */
const SOAK = { timeout: 600_000 };

test(
  "soak: sockit connect exits 0 with the whole file or 5 on a reset, never 0 with less",
  SOAK,
  async () => {
    const py = new PyPeer();
    const counts = { intact: 0, reset: 0 };
    try {
      const port = await py.port;
      for (let run = 0; run < RUNS; run++) {
        const clean = run % 4 === 0;
        const cut = Math.floor(Math.random() * (SIZE + 1));
        const result = sockit(["connect", "127.0.0.1", String(port)]);
        await py.do("next", ...(clean ? [`send ${SIZE}`, "close"] : [`send ${cut}`, "reset"]));
        counts[check(await result, clean, `connect run ${run} (cut ${clean ? "none" : cut})`)]++;
      }
    } finally {
      await py.stop();
    }
    assert.ok(counts.reset > RUNS / 2 && counts.intact >= RUNS / 4, JSON.stringify(counts));
  },
);

test("soak: sockit listen exits 0 with the whole file or 5 on a reset, never 0 with less", SOAK, async () => {
  const counts = { intact: 0, reset: 0 };
  for (let run = 0; run < RUNS; run++) {
    const clean = run % 4 === 0;
    const cut = clean ? SIZE : Math.floor(Math.random() * (SIZE + 1));
    let announce: (port: number) => void = () => {};
    const portKnown = new Promise<number>((resolve) => (announce = resolve));
    const result = sockit(["-v", "listen", "127.0.0.1", "0"], (text) => {
      const m = text.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) announce(Number(m[1]));
    });
    const port = await Promise.race([
      portKnown,
      result.then((r) => Promise.reject(new Error(`listen exited ${r.code}: ${r.stderr}`))),
    ]);
    const sender = await runPython(
      `
import socket, struct, sys
pattern = bytes(range(256)) * 4096
c = socket.create_connection(("127.0.0.1", ${port}))
c.sendall(pattern[:${cut}])
if ${clean ? "True" : "False"}:
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
else:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
`,
      [],
      undefined,
      20_000,
    );
    assert.equal(sender.code, 0, sender.stderr);
    counts[check(await result, clean, `listen run ${run} (cut ${clean ? "none" : cut})`)]++;
  }
  assert.ok(counts.reset > RUNS / 2 && counts.intact >= RUNS / 4, JSON.stringify(counts));
});
