/**
 * close() with unread data resets the connection, as close(2) does on Linux: the peer learns
 * that what it sent was never read (ECONNRESET) instead of reading an orderly end. Python's
 * socket on the same kernel is the oracle; both faces are held to it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AF_INET, MSG_WAITALL, SOCK_STREAM, select, socket } from "../src/bsd/index.js";
import { listen } from "../src/net/index.js";
import { runPython } from "./support/python.js";

const PY = { timeout: 20_000 };

/** A client that sends `n` bytes, then reports what its next recv() met: "reset" or "eof". */
const CLIENT = `
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"x" * n)
try:
    print("eof" if s.recv(100) == b"" else "data")
except ConnectionResetError:
    print("reset")
`;

/** Python on both sides: the kernel's own answer. */
const ORACLE = `
import socket, subprocess, sys, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
client = subprocess.Popen([sys.executable, "-c", sys.argv[1], "127.0.0.1", str(srv.getsockname()[1]), sys.argv[2]], stdout=subprocess.PIPE, text=True)
conn, _ = srv.accept()
time.sleep(0.3)  # the client's bytes are in
if sys.argv[3] == "read":
    got = b""
    while len(got) < int(sys.argv[2]): got += conn.recv(100)
conn.close()
print(client.communicate(timeout=10)[0].strip())
`;

async function clientOutcome(port: number, n: number, serve: () => Promise<void>): Promise<string> {
  const [r] = await Promise.all([runPython(CLIENT, ["127.0.0.1", String(port), String(n)]), serve()]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

for (const [what, mode, want] of [
  ["with unread data: reset", "unread", "reset"],
  ["after reading everything: an orderly end", "read", "eof"],
] as const) {
  test(`Python oracle: close() ${what}`, PY, async () => {
    const r = await runPython(ORACLE, [CLIENT, "10", mode]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), want);
  });

  test(`Berkeley face: close() ${what}`, PY, async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    try {
      await srv.bind(["127.0.0.1", 0]);
      await srv.listen(1);
      const [, port] = srv.getsockname() as [string, number];
      const got = await clientOutcome(port, 10, async () => {
        const [conn] = await srv.accept();
        // readable: the client's bytes have arrived (and Node has taken them from the kernel)
        const [r] = await select([conn], [], [], 5);
        assert.equal(r.length, 1);
        await new Promise((res) => setTimeout(res, 100));
        if (mode === "read") assert.equal((await conn.recv(10, MSG_WAITALL)).length, 10);
        await conn.close();
      });
      assert.equal(got, want);
    } finally {
      await srv.close();
    }
  });

  test(`Go face: Conn.close() ${what}`, PY, async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const got = await clientOutcome(ln.port, 10, async () => {
        const conn = await ln.accept();
        await new Promise((res) => setTimeout(res, 300));
        if (mode === "read") {
          let n = 0;
          while (n < 10) n += (await conn.read())?.length ?? 10;
        }
        await conn.close();
      });
      assert.equal(got, want);
    } finally {
      await ln.close();
    }
  });
}
