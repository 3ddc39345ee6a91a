/**
 * Both faces send to literal destinations through the one fast path (core/destination.ts): any
 * spelling of a literal reaches a Python receiver, and port 0 is refused alike.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { AF_INET6, SOCK_DGRAM, socket } from "../src/bsd/index.js";
import { OSError } from "../src/errors/index.js";
import { listenPacket } from "../src/net/index.js";

test("both faces send to literal destinations in any spelling through the fast path; Python receives each", async () => {
  const py = spawn("python3", [
    "-c",
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)",
      "s.bind(('::1', 0))",
      "print(s.getsockname()[1], flush=True)",
      "for _ in range(4):",
      "    data, addr = s.recvfrom(100)",
      "    print(data.decode(), addr[0], flush=True)",
    ].join("\n"),
  ]);
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const timer = setTimeout(() => py.kill("SIGKILL"), 30_000);
  const s = socket(AF_INET6, SOCK_DGRAM);
  const pc = await listenPacket("udp6", "[::1]:0");
  try {
    const port = Number((await lines.next()).value);
    await s.bind(["::1", 0]);
    // the first send per spelling parses it, the second takes the remembered endpoint
    await s.sendto("bsd-1", ["0:0:0:0:0:0:0:1", port]);
    await s.sendto("bsd-2", ["0:0:0:0:0:0:0:1", port, 0, 0]);
    await pc.writeTo("net-1", `[0::1]:${port}`);
    await pc.writeTo("net-2", `[0::1]:${port}`);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(String((await lines.next()).value));
    assert.deepEqual(got.sort(), ["bsd-1 ::1", "bsd-2 ::1", "net-1 ::1", "net-2 ::1"]);
    // port 0 is refused before anything is sent, by both faces alike
    await assert.rejects(
      s.sendto("x", ["::1", 0]),
      (e: unknown) => e instanceof OSError && e.code === "EINVAL",
    );
    await assert.rejects(
      pc.writeTo("x", "[::1]:0"),
      (e: unknown) => e instanceof OSError && e.code === "EINVAL",
    );
  } finally {
    clearTimeout(timer);
    await s.close();
    await pc.close();
    py.kill();
  }
});
