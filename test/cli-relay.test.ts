/**
 * `sockit relay` end to end: the real binary between independent peers (Python servers, Node's
 * own `net`/`dgram` clients) on loopback — TCP, fork, Unix, stdio, exec, UDP, half-close, a
 * 16 MiB transfer and the -v byte counts.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { leakFree, within } from "./support/leaks.js";
import { type Child, start } from "./support/spawn.js";

const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** Python TCP server on 127.0.0.1:0, one thread per client. mode echo: echo; count: reply after EOF. */
const TCP_SERVER = `
import socket, sys, threading
mode = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
def serve(c):
    n = 0
    while True:
        d = c.recv(65536)
        if not d: break
        n += len(d)
        if mode == "echo": c.sendall(d)
    if mode == "count": c.sendall(b"got %d bytes\\n" % n)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Python UDP echo server on 127.0.0.1:0. */
const UDP_ECHO = `
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print(u.getsockname()[1], flush=True)
while True:
    d, a = u.recvfrom(65535)
    u.sendto(d, a)
`;

/** Starts a Python peer that prints its port; resolves [child, port]. */
async function python(code: string, ...args: string[]): Promise<[Child, number]> {
  const c = start("python3", ["-c", code, ...args]);
  try {
    const m = await c.line(/^(\d+)$/m, 10_000);
    return [c, Number(m[1])];
  } catch (err) {
    c.kill("SIGKILL");
    throw err;
  }
}

function sockit(...args: string[]): Child {
  return start(process.execPath, [MAIN, ...args]);
}

/** Waits (bounded) for a stderr line matching `re`. */
async function stderrMatch(c: Child, re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = c.stderr().match(re);
    if (m) return m;
    if (Date.now() > until)
      throw new Error(`no stderr matching ${re} within ${ms} ms; stderr: ${c.stderr()}`);
    if (c.proc.exitCode !== null)
      throw new Error(`exited ${c.proc.exitCode} before ${re}; stderr: ${c.stderr()}`);
    await sleep(20);
  }
}

async function listeningPort(c: Child): Promise<number> {
  return Number((await stderrMatch(c, /sockit: listening on .*:(\d+)\n/))[1]);
}

/** Connects with Node's own net, sends `data`, half-closes, resolves everything read until EOF. */
function exchange(to: number | string, data: Buffer | string, ms = 15_000): Promise<Buffer> {
  const sock = typeof to === "number" ? net.connect(to, "127.0.0.1") : net.connect(to);
  const got: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    sock.on("data", (d: Buffer) => got.push(d));
    sock.on("end", () => resolve(Buffer.concat(got)));
    sock.on("error", reject);
  });
  sock.end(data);
  return within(done, ms, "exchange").finally(() => sock.destroy());
}

function sha(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

test(
  "tcp-listen ↔ tcp: one client relayed to an echo server, -v prints the byte counts, exit 0",
  leakFree(async () => {
    const [echo, port] = await python(TCP_SERVER, "echo");
    const relay = sockit("relay", "-v", "tcp-listen:127.0.0.1:0", `tcp:127.0.0.1:${port}`);
    try {
      const rport = await listeningPort(relay);
      assert.equal((await exchange(rport, "hello relay")).toString(), "hello relay");
      assert.equal(await relay.exit(10_000), 0);
      assert.match(relay.stderr(), /sockit: relay 1: 11 bytes →, 11 bytes ←, closed\n/);
      assert.match(relay.stderr(), /sockit: accepted 127\.0\.0\.1:\d+/);
      assert.equal(relay.stdout(), "");
    } finally {
      relay.kill("SIGKILL");
      echo.kill("SIGKILL");
    }
  }),
);

test(
  "tcp-listen,fork: three concurrent clients each get their own relay; SIGTERM ends it with 143",
  leakFree(async () => {
    const [echo, port] = await python(TCP_SERVER, "echo");
    const relay = sockit("relay", "-v", "tcp-listen:127.0.0.1:0,fork", `tcp:127.0.0.1:${port}`);
    try {
      const rport = await listeningPort(relay);
      const payloads = [1, 2, 3].map((i) => randomBytes(100_000 * i));
      const replies = await Promise.all(payloads.map((p) => exchange(rport, p)));
      for (let i = 0; i < 3; i++)
        assert.ok(replies[i]!.equals(payloads[i]!), `client ${i + 1} got its bytes back`);
      await stderrMatch(relay, /(relay \d: \d+ bytes →, \d+ bytes ←, closed\n[\s\S]*){3}/);
      for (const n of [100_000, 200_000, 300_000]) {
        assert.match(relay.stderr(), new RegExp(`relay \\d: ${n} bytes →, ${n} bytes ←, closed`));
      }
      relay.kill("SIGTERM");
      assert.equal(await relay.exit(10_000), 143);
    } finally {
      relay.kill("SIGKILL");
      echo.kill("SIGKILL");
    }
  }),
);

test(
  "unix-listen ↔ tcp: a Unix client reaches a TCP server; the path is removed at the end and on SIGINT (fork)",
  leakFree(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockit-relay-"));
    const path = join(dir, "s.sock");
    const [echo, port] = await python(TCP_SERVER, "echo");
    const relay = sockit("relay", "-v", `unix-listen:${path}`, `tcp:127.0.0.1:${port}`);
    try {
      await stderrMatch(relay, /listening on /);
      assert.equal((await exchange(path, "over unix")).toString(), "over unix");
      assert.equal(await relay.exit(10_000), 0);
      assert.equal(existsSync(path), false);
    } finally {
      relay.kill("SIGKILL");
    }
    const forked = sockit("relay", "-v", `unix-listen:${path},fork`, `tcp:127.0.0.1:${port}`);
    try {
      await stderrMatch(forked, /listening on /);
      assert.equal((await exchange(path, "first")).toString(), "first");
      assert.equal((await exchange(path, "second")).toString(), "second");
      forked.kill("SIGINT");
      assert.equal(await forked.exit(10_000), 130);
      assert.equal(existsSync(path), false, "SIGINT removes the socket path");
    } finally {
      forked.kill("SIGKILL");
      echo.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  }),
);

test(
  "stdio ↔ tcp: stdin goes to the server, its reply to stdout, EOF on stdin half-closes",
  leakFree(async () => {
    const [server, port] = await python(TCP_SERVER, "count");
    const relay = sockit("relay", "-", `tcp:127.0.0.1:${port}`);
    try {
      relay.proc.stdin!.end("twelve bytes");
      assert.equal(await relay.exit(10_000), 0);
      assert.equal(relay.stdout(), "got 12 bytes\n");
    } finally {
      relay.kill("SIGKILL");
      server.kill("SIGKILL");
    }
  }),
);

test(
  "tcp-listen ↔ exec:cat, and exec with fork runs a fresh child per connection",
  leakFree(async () => {
    const one = sockit("relay", "tcp-listen:127.0.0.1:0", "exec:cat");
    try {
      const rport = await listeningPort(one);
      assert.equal((await exchange(rport, "meow\n")).toString(), "meow\n");
      assert.equal(await one.exit(10_000), 0);
    } finally {
      one.kill("SIGKILL");
    }
    const forked = sockit("relay", "tcp-listen:127.0.0.1:0,fork", "exec:tr a-z A-Z");
    try {
      const rport = await listeningPort(forked);
      const [a, b] = await Promise.all([exchange(rport, "abc"), exchange(rport, "xyz")]);
      assert.deepEqual([a.toString(), b.toString()], ["ABC", "XYZ"]);
    } finally {
      forked.kill("SIGTERM");
      await forked.exit(10_000).catch(() => {});
    }
  }),
);

test(
  "half-close: the request and EOF cross the relay, the server answers after EOF, the client gets it",
  leakFree(async () => {
    const [server, port] = await python(TCP_SERVER, "count");
    const relay = sockit("relay", "-v", "tcp-listen:127.0.0.1:0", `tcp:127.0.0.1:${port}`);
    try {
      const rport = await listeningPort(relay);
      assert.equal((await exchange(rport, "x".repeat(1000))).toString(), "got 1000 bytes\n");
      assert.equal(await relay.exit(10_000), 0);
      assert.match(relay.stderr(), /relay 1: 1000 bytes →, 15 bytes ←, closed/);
    } finally {
      relay.kill("SIGKILL");
      server.kill("SIGKILL");
    }
  }),
);

test(
  "16 MiB cross the relay byte-identical in both directions, counted exactly",
  leakFree(async () => {
    const [echo, port] = await python(TCP_SERVER, "echo");
    const relay = sockit("relay", "-v", "tcp-listen:127.0.0.1:0", `tcp:127.0.0.1:${port}`);
    try {
      const rport = await listeningPort(relay);
      const data = randomBytes(16 * 1024 * 1024);
      const back = await exchange(rport, data, 60_000);
      assert.equal(back.length, data.length);
      assert.equal(sha(back), sha(data));
      assert.equal(await relay.exit(10_000), 0);
      assert.match(relay.stderr(), /relay 1: 16777216 bytes →, 16777216 bytes ←, closed/);
    } finally {
      relay.kill("SIGKILL");
      echo.kill("SIGKILL");
    }
  }),
);

/** Sends datagrams from a fresh Node UDP socket and collects `n` replies. */
async function udpRound(port: number, msgs: string[], n = msgs.length): Promise<string[]> {
  const u = dgram.createSocket("udp4");
  try {
    const got: string[] = [];
    const all = new Promise<void>((resolve) => {
      u.on("message", (m) => {
        got.push(m.toString());
        if (got.length === n) resolve();
      });
    });
    await new Promise<void>((resolve) => u.bind(0, "127.0.0.1", resolve));
    for (const m of msgs) {
      u.send(m, port, "127.0.0.1");
      await sleep(30); // keep the order of datagrams that go into a stream
    }
    await within(all, 10_000, "udp replies");
    return got;
  } finally {
    u.close();
  }
}

test(
  "udp-listen ↔ udp: datagrams relayed as datagrams both ways; -T ends the relay when idle",
  leakFree(async () => {
    const [echo, port] = await python(UDP_ECHO);
    const relay = sockit("relay", "-v", "-T", "1", "udp-listen:127.0.0.1:0", `udp:127.0.0.1:${port}`);
    try {
      const rport = await listeningPort(relay);
      assert.deepEqual(await udpRound(rport, ["one", "two", "three"]), ["one", "two", "three"]);
      assert.equal(await relay.exit(10_000), 0);
      assert.match(relay.stderr(), /relay 1: 11 bytes →, 11 bytes ←, idle timeout/);
    } finally {
      relay.kill("SIGKILL");
      echo.kill("SIGKILL");
    }
  }),
);

test(
  "udp-listen ↔ tcp: a datagram's bytes go into the stream, the reply comes back as a datagram",
  leakFree(async () => {
    const [echo, port] = await python(TCP_SERVER, "echo");
    const relay = sockit("relay", "-T", "1", "udp-listen:127.0.0.1:0", `tcp:127.0.0.1:${port}`);
    try {
      const rport = await listeningPort(relay);
      assert.deepEqual(await udpRound(rport, ["ping"]), ["ping"]);
      assert.equal(await relay.exit(10_000), 0);
    } finally {
      relay.kill("SIGKILL");
      echo.kill("SIGKILL");
    }
  }),
);

/** Python: accepts one client, reads a few bytes, then resets (SO_LINGER 0 + close). */
const RESETTER = `
import socket, struct
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`;

test(
  "a reset on one side aborts the relay: the client sees it, the command exits 5 with the error",
  leakFree(async () => {
    const [server, port] = await python(RESETTER);
    const relay = sockit("relay", "-v", "tcp-listen:127.0.0.1:0", `tcp:127.0.0.1:${port}`);
    const sock = net.connect(await listeningPort(relay), "127.0.0.1");
    try {
      const ended = new Promise<string>((resolve) => {
        sock.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        sock.on("close", () => resolve("close"));
      });
      sock.write("x");
      assert.equal(await relay.exit(10_000), 5);
      assert.match(relay.stderr(), /relay 1: 1 bytes →, 0 bytes ←, failed: .*ECONNRESET/);
      assert.match(relay.stderr(), /^sockit: .*\(ECONNRESET\)/m);
      assert.equal(await within(ended, 5000, "client end"), "ECONNRESET");
    } finally {
      sock.destroy();
      relay.kill("SIGKILL");
      server.kill("SIGKILL");
    }
  }),
);

test(
  "exit codes: bad address 1, refused 3, missing command 6 — each with one message on stderr",
  leakFree(async () => {
    const usage = sockit("relay", "tcp-listen:0,fork", "-");
    assert.equal(await usage.exit(10_000), 1);
    assert.match(usage.stderr(), /stdio exists only once/);

    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = sockit("relay", "-", `tcp:127.0.0.1:${deadPort}`);
    refused.proc.stdin!.end();
    assert.equal(await refused.exit(10_000), 3);
    assert.match(refused.stderr(), /connection refused \(ECONNREFUSED\)/);

    const missing = sockit("relay", "-", "exec:/nonexistent/sockit-test-command");
    missing.proc.stdin!.end();
    assert.equal(await missing.exit(10_000), 6);
    assert.match(missing.stderr(), /ENOENT/);
  }),
);
