import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { test } from "node:test";
import { OSError } from "../errors/index.js";
import { connectAny, interleave } from "./connect.js";
import type { Endpoint } from "./endpoint.js";

const v4 = (port: number): Endpoint => ({ address: "127.0.0.1", port, family: 4 });
const v6 = (port: number): Endpoint => ({ address: "::1", port, family: 6 });

/** A port with a listener on `host` (closed with the returned function). */
async function listening(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => srv.listen(0, host, r));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((r) => srv.close(() => r())) };
}

/** A port that is really closed: bound (so nobody else takes it) but not listening. */
async function closedPort(): Promise<{ port: number; close: () => Promise<void> }> {
  // Python binds without listening; Node cannot (its bind listens)
  // the same port number must be free on ::1 and on 127.0.0.1: try again when the second is taken
  const py = spawn("python3", [
    "-c",
    `import socket,sys
for _ in range(100):
    s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))
    s4 = socket.socket()
    try:
        s4.bind(("127.0.0.1", s.getsockname()[1])); break
    except OSError:
        s.close(); s4.close()
else:
    sys.exit("no port free on both ::1 and 127.0.0.1")
print(s.getsockname()[1], flush=True)
sys.stdin.read()`,
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout.once("data", (d: Buffer) => resolve(Number(d.toString())));
    py.once("exit", (code) => reject(new Error(`the closed-port helper exited (${code}) without a port`)));
  });
  return {
    port,
    close: async () => {
      py.stdin.end();
      if (py.exitCode === null) await new Promise((r) => py.once("close", r));
    },
  };
}

/** A port whose SYNs are dropped: a listener with a full accept queue (nobody accepts). */
async function blackhole(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const py = spawn("python3", [
    "-c",
    `import socket,sys
fam = socket.AF_INET6 if ":" in "${host}" else socket.AF_INET
s = socket.socket(fam); s.bind(("${host}", 0)); s.listen(0)
held = []
for _ in range(2):
    c = socket.socket(fam); c.setblocking(False)
    try: c.connect(s.getsockname()[:2])
    except BlockingIOError: pass
    held.append(c)
print(s.getsockname()[1], flush=True)
sys.stdin.read()`,
  ]);
  const port = await new Promise<number>((r) =>
    py.stdout.once("data", (d: Buffer) => r(Number(d.toString()))),
  );
  return {
    port,
    close: async () => {
      py.stdin.end();
      if (py.exitCode === null) await new Promise((r) => py.once("close", r));
    },
  };
}

test("interleave puts IPv6 first and alternates families, keeping each family's order", () => {
  const order = interleave([v4(1), v4(2), v6(3), v6(4), v6(5)]).map((e) => ("port" in e ? e.port : 0));
  assert.deepEqual(order, [3, 1, 4, 2, 5]);
});

test("connectAny tries the next address at once when one is refused", async () => {
  const closed = await closedPort();
  const srv = await listening("127.0.0.1");
  try {
    const t0 = Date.now();
    const s = await connectAny([v6(closed.port), v4(srv.port)], { fallbackDelayMs: 5000 });
    assert.ok(Date.now() - t0 < 2000, "no fallback delay after a refusal");
    assert.equal((s.remoteEndpoint() as { port?: number }).port, srv.port);
    s.abort();
  } finally {
    await srv.close();
    await closed.close();
  }
});

test("connectAny starts the next address after the fallback delay when one hangs, and cancels the loser", async () => {
  const hole = await blackhole("::1");
  const srv = await listening("127.0.0.1");
  try {
    const t0 = Date.now();
    const s = await connectAny([v6(hole.port), v4(srv.port)], { fallbackDelayMs: 100, timeout: 5000 });
    const took = Date.now() - t0;
    assert.ok(took >= 90 && took < 3000, `connected after ${took} ms`);
    assert.equal((s.remoteEndpoint() as { family?: number }).family, 4);
    s.abort();
  } finally {
    await srv.close();
    await hole.close();
  }
});

test("connectAny fails with one error naming every address tried", async () => {
  const closed = await closedPort();
  try {
    await assert.rejects(
      connectAny([v4(closed.port), v6(closed.port)], { target: `localhost:${closed.port}` }),
      (err: unknown) => {
        assert.ok(err instanceof OSError);
        assert.equal(err.code, "ECONNREFUSED");
        assert.ok(err.message.includes(`[::1]:${closed.port} (ECONNREFUSED)`), err.message);
        assert.ok(err.message.includes(`127.0.0.1:${closed.port} (ECONNREFUSED)`), err.message);
        assert.ok(err.message.startsWith(`connect localhost:${closed.port}`), err.message);
        assert.ok(err.cause instanceof AggregateError && err.cause.errors.length === 2);
        return true;
      },
    );
  } finally {
    await closed.close();
  }
});

test("connectAny's timeout bounds the whole race (ETIMEDOUT naming the addresses)", async () => {
  const a = await blackhole("::1");
  const b = await blackhole("127.0.0.1");
  try {
    const t0 = Date.now();
    await assert.rejects(
      connectAny([v6(a.port), v4(b.port)], { fallbackDelayMs: 50, timeout: 400 }),
      (err: unknown) =>
        err instanceof OSError && err.code === "ETIMEDOUT" && err.message.includes("no address answered"),
    );
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    await a.close();
    await b.close();
  }
});

test("connectAny with an aborted signal rejects EINTR", async () => {
  const a = await blackhole("127.0.0.1");
  const b = await blackhole("::1");
  try {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      connectAny([v4(a.port), v6(b.port)], { signal: ac.signal, fallbackDelayMs: 20 }),
      (err: unknown) => err instanceof OSError && err.code === "EINTR",
    );
  } finally {
    await a.close();
    await b.close();
  }
});
