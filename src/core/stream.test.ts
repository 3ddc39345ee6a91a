import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { connectStream } from "./connect-stream.js";

/** Python: accepts one connection on 127.0.0.1, waits `delay` s, then reads to EOF and prints the count. */
const SLOW_READER = `
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
time.sleep(float(sys.argv[1]))
n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    n += len(b)
print(n, flush=True)
`;

async function slowReader(delay: number): Promise<{ port: number; total: Promise<number> }> {
  const py = spawn("python3", ["-c", SLOW_READER, String(delay)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  py.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    while (out.includes("\n")) {
      lines.push(out.slice(0, out.indexOf("\n")));
      out = out.slice(out.indexOf("\n") + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const line = (i: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        py.kill();
        reject(new Error("python peer: no output within 20 s"));
      }, 20_000);
      const check = () => {
        if (lines.length > i) {
          clearTimeout(timer);
          resolve(lines[i]!);
        } else waiters.push(check);
      };
      check();
    });
  return { port: Number(await line(0)), total: line(1).then(Number) };
}

test(
  "flushAndClose: resolves once what was handed to Node is in the kernel, and the peer gets every byte",
  { timeout: 30_000 },
  async () => {
    const size = 16 * 1024 * 1024; // far more than loopback's socket buffers hold
    const peer = await slowReader(0.5);
    const s = await connectStream({ address: "127.0.0.1", port: peer.port, family: 4 });
    // not awaited: the bytes wait in Node's write buffer while the peer does not read
    const sent = s.send(Buffer.alloc(size, 7));
    sent.catch(() => {});
    const t0 = Date.now();
    await s.flushAndClose(10_000);
    const took = Date.now() - t0;
    assert.equal(s.closed, true);
    assert.equal(await sent, size);
    assert.ok(took >= 300, `waited for the peer to read (${took} ms)`);
    assert.equal(await peer.total, size);
  },
);

test(
  "flushAndClose is bounded: a peer that never reads does not hold it past the timeout",
  { timeout: 30_000 },
  async () => {
    const peer = await slowReader(3);
    const s = await connectStream({ address: "127.0.0.1", port: peer.port, family: 4 });
    const sent = s.send(Buffer.alloc(16 * 1024 * 1024, 1));
    sent.catch(() => {});
    const t0 = Date.now();
    await s.flushAndClose(300);
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2000, `returned after the timeout (${took} ms)`);
    assert.equal(s.closed, true);
    await peer.total; // the peer reads what close() still delivers, then EOF
  },
);
