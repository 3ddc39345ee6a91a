/**
 * Resets, end to end with the built command and Python peers on loopback:
 *
 * - `connect` and `listen` report a reset as "connection reset by peer" (exit 5) in both
 *   directions — also while they are sending, where the kernel says ECONNRESET (not EPIPE).
 * - `listen -v` names a client that reset before it was accepted truthfully (TCP, not Unix);
 *   the listener keeps the peer's address when the reset comes after the connection arrived.
 * - `relay` passes a reset on as a reset (the other peer reads ECONNRESET, not EOF) and says so
 *   with -v; with `,fork`, a client whose backend refuses gets a reset, not a clean close.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, statSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { listen } from "../src/net/listen.js";
import { leakFree, within } from "./support/leaks.js";
import { needs, peerPath } from "./support/peers.js";
import { PyPeer } from "./support/py-peer.js";
import { runPython } from "./support/python.js";
import { type Child, start } from "./support/spawn.js";

const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const ENV = { ...process.env, NO_COLOR: "1" };
const LIMIT = { timeout: 60_000 };
/** What sockit sends: more than the kernel buffers on loopback, so writes are pending at the reset. */
const BIG = 16 * 1024 * 1024;

function sockit(args: string[]): Child {
  return start(process.execPath, [MAIN, ...args], ENV);
}

/** Waits (bounded) for stderr to match `re`. */
async function stderrMatch(c: Child, re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = c.stderr().match(re);
    if (m) return m;
    if (Date.now() > until) throw new Error(`no stderr matching ${re} within ${ms} ms: ${c.stderr()}`);
    if (c.proc.exitCode !== null) throw new Error(`exited ${c.proc.exitCode} before ${re}: ${c.stderr()}`);
    await sleep(20);
  }
}

async function listeningPort(c: Child): Promise<number> {
  return Number((await stderrMatch(c, /sockit: listening on [^\n]*:(\d+)\n/))[1]);
}

/** The command ended on the peer's reset, reported as such (not as EPIPE / broken pipe). */
function assertResetReported(c: Child, code: number | null, what: string): void {
  assert.equal(code, 5, `${what}: ${c.stderr()}`);
  assert.match(c.stderr(), /^sockit: \w+ [^\n]*: connection reset by peer \(ECONNRESET\) — /m, what);
  assert.doesNotMatch(c.stderr(), /broken pipe|EPIPE/i, what);
}

/** A Python client: connects to `port`, reads `n` bytes (0: none), then resets (SO_LINGER 0). */
const READ_THEN_RESET = `
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
n = int(sys.argv[2])
while n > 0:
    b = c.recv(min(n, 65536))
    if not b: break
    n -= len(b)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`;

/** Python: the client's view of a relay — send a request, then read until EOF or an error. */
const CLIENT_VIEW = `
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.settimeout(10)
got = b""
try:
    c.sendall(b"request")  # the reset may come first: then this raises it
    while True:
        b = c.recv(65536)
        if not b:
            print("EOF", repr(got)); break
        got += b
except ConnectionResetError:
    print("ConnectionResetError", repr(got))
`;

test(
  "connect sending a large stdin to a peer that resets after reading a little: exit 5, connection reset by peer",
  LIMIT,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockit-reset-"));
    const file = join(dir, "big.bin");
    writeFileSync(file, Buffer.alloc(BIG, 0x61));
    const py = new PyPeer();
    try {
      const port = String(await py.port);
      for (const n of [1, 1000, 100_000, 1_000_000]) {
        const c = start(
          "sh",
          ["-c", `exec "$0" "$1" connect 127.0.0.1 "$2" < "$3"`, process.execPath, MAIN, port, file],
          ENV,
        );
        try {
          await within(py.do("next", `recv ${n}`, "reset"), 10_000, "peer");
          assertResetReported(c, await c.exit(10_000), `reset after reading ${n} bytes`);
        } finally {
          c.kill("SIGKILL");
        }
      }
    } finally {
      await py.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "listen sending stdin to a client that resets after reading a little: exit 5, connection reset by peer",
  LIMIT,
  async () => {
    for (const n of [0, 1000, 1_000_000]) {
      const c = sockit(["listen", "127.0.0.1", "0"]);
      try {
        const port = await listeningPort(c);
        c.proc.stdin!.write(Buffer.alloc(BIG, 0x62));
        const py = await runPython(READ_THEN_RESET, [String(port), String(n)], undefined, 20_000);
        assert.equal(py.code, 0, py.stderr);
        assertResetReported(c, await c.exit(10_000), `client reset after reading ${n} bytes`);
      } finally {
        c.kill("SIGKILL");
      }
    }
  },
);

test(
  "listen receiving from a client that sends, then resets: the bytes before it on stdout, exit 5",
  LIMIT,
  async () => {
    const c = sockit(["listen", "127.0.0.1", "0"]);
    try {
      const port = await listeningPort(c);
      const py = await runPython(
        `
import socket, struct, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"before the reset\\n")
time.sleep(0.5)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`,
        [String(port)],
        undefined,
        20_000,
      );
      assert.equal(py.code, 0, py.stderr);
      assertResetReported(c, await c.exit(10_000), "client reset after sending");
      assert.equal(c.stdout(), "before the reset\n");
    } finally {
      c.kill("SIGKILL");
    }
  },
);

/** A Python sender: 50 MiB in 64 KiB writes, printing "half" once 10 MiB are out (and going on). */
const SEND_50MIB = `
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
chunk = b"z" * 65536
sent = 0
try:
    while sent < 50 * 1024 * 1024:
        c.sendall(chunk)
        sent += len(chunk)
        if sent == 10 * 1024 * 1024:
            print("half", flush=True)  # and go on sending: the kill lands mid-stream
except OSError as e:
    print("sender:", e, flush=True)
`;

test(
  "listen receiving a 50 MiB file whose sender is killed mid-way (ss -K): exit 5 and a reset message, never 0",
  { ...LIMIT, skip: process.getuid?.() !== 0 ? "ss -K needs root" : needs(["ss"]) },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockit-ssk-"));
    const out = join(dir, "received.bin");
    const fd = openSync(out, "w");
    const c = spawn(process.execPath, [MAIN, "listen", "127.0.0.1", "0"], {
      stdio: ["ignore", fd, "pipe"],
      env: ENV,
    });
    closeSync(fd);
    let err = "";
    c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = once(c, "exit");
    try {
      const until = Date.now() + 10_000;
      let port = 0;
      while (port === 0) {
        const m = /listening on [^\n]*:(\d+)\n/.exec(err);
        if (m) port = Number(m[1]);
        else if (Date.now() > until) throw new Error(`not listening: ${err}`);
        else await sleep(20);
      }
      const sender = spawn("python3", ["-c", SEND_50MIB, String(port)], { stdio: ["pipe", "pipe", "pipe"] });
      let said = "";
      sender.stdout!.on("data", (d: Buffer) => (said += d.toString()));
      try {
        await within(
          (async () => {
            while (!said.includes("half")) await sleep(20);
          })(),
          20_000,
          "the sender's first 10 MiB",
        );
        // the kernel destroys the sender's socket: sockit's side gets a reset (RST) mid-transfer
        const ss = spawnSync(peerPath("ss"), ["-K", "dst", "127.0.0.1", "dport", "=", String(port)], {
          encoding: "utf8",
        });
        assert.equal(ss.status, 0, ss.stderr);
        const [code] = (await within(exited, 20_000, "sockit listen exits")) as [number | null];
        assert.equal(code, 5, err);
        assert.match(err, /connection reset by peer \(ECONNRESET\)/);
        const size = statSync(out).size;
        assert.ok(size >= 10 * 1024 * 1024 - 4 * 1024 * 1024 && size < 50 * 1024 * 1024, `received ${size}`);
      } finally {
        sender.kill("SIGKILL");
      }
    } finally {
      c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "listen -v: a TCP client that reset before sockit could accept it is named as such (not as a Unix client), exit 5",
  LIMIT,
  async () => {
    const c = sockit(["-v", "listen", "127.0.0.1", "0"]);
    try {
      const port = await listeningPort(c);
      c.proc.stdin!.end();
      // sockit is stopped while the client connects and resets: the kernel has the connection
      // reset in its accept queue before sockit can accept it, and then refuses getpeername(2)
      c.kill("SIGSTOP");
      try {
        const py = await runPython(
          `
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`,
          [String(port)],
          undefined,
          20_000,
        );
        assert.equal(py.code, 0, py.stderr);
      } finally {
        c.kill("SIGCONT");
      }
      assertResetReported(c, await c.exit(10_000), "client reset before the accept");
      assert.match(
        c.stderr(),
        /^sockit: connection from a TCP client that reset before its address could be read \(#1\)$/m,
      );
      assert.doesNotMatch(c.stderr(), /unix client/);
    } finally {
      c.kill("SIGKILL");
    }
  },
);

test(
  "accept() after the client has reset still names the peer, as Python's accept() does",
  leakFree(async () => {
    // the peer resets some time after its connection arrived, before anybody accepts it
    const CLIENT = `
import socket, struct, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("%s:%d" % c.getsockname(), flush=True)
time.sleep(0.3)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`;
    // the oracle: a Python server that accepts only after the reset
    const oracle = await runPython(
      `
import socket, subprocess, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
p = subprocess.run([sys.executable, "-c", sys.argv[1], str(s.getsockname()[1])], capture_output=True, text=True)
time.sleep(0.2)
c, addr = s.accept()
print(p.stdout.strip(), "%s:%d" % addr)
`,
      [CLIENT],
      undefined,
      20_000,
    );
    assert.equal(oracle.code, 0, oracle.stderr);
    const [clientSaid, pythonAccepted] = oracle.stdout.trim().split(" ");
    assert.equal(pythonAccepted, clientSaid, "Python's accept() names the peer after its reset");

    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const py = await runPython(CLIENT, [String(ln.port)], undefined, 20_000);
      assert.equal(py.code, 0, py.stderr);
      await sleep(200);
      const conn = await within(ln.accept(), 5000, "accept");
      try {
        assert.equal(conn.remoteAddress, py.stdout.trim());
      } finally {
        await conn.close();
      }
    } finally {
      await ln.close();
    }
  }),
);

test(
  "relay: the backend resets, so the client reads ECONNRESET (not EOF) and -v says the reset was passed on",
  LIMIT,
  async () => {
    const backend = new PyPeer();
    let relay: Child | undefined;
    try {
      const bport = await backend.port;
      relay = sockit(["relay", "-v", "tcp-listen:127.0.0.1:0", `tcp:127.0.0.1:${bport}`]);
      const rport = await listeningPort(relay);
      const client = runPython(CLIENT_VIEW, [String(rport)], undefined, 20_000);
      await within(backend.do("next", "recv 7", "reset"), 10_000, "backend");
      const seen = await client;
      assert.equal(seen.code, 0, seen.stderr);
      assert.equal(seen.stdout.trim(), "ConnectionResetError b''");
      assert.equal(await relay.exit(10_000), 5, relay.stderr());
      const client127 = (await stderrMatch(relay, /accepted (127\.0\.0\.1:\d+)/))[1]!;
      assert.match(
        relay.stderr(),
        new RegExp(
          `sockit: relay 1: 127\\.0\\.0\\.1:${bport} reset the connection \\(ECONNRESET\\); ` +
            `passing the reset on to ${client127.replace(/\./g, "\\.")}\n`,
        ),
      );
      assert.match(relay.stderr(), /relay 1: 7 bytes →, 0 bytes ←, failed: .*\(ECONNRESET\)/);
    } finally {
      relay?.kill("SIGKILL");
      await backend.stop();
    }
  },
);

test(
  "relay ,fork with its backend down: each client gets a reset (not a clean close) and a warning says so",
  LIMIT,
  async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const dead = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const relay = sockit(["relay", "tcp-listen:127.0.0.1:0,fork", `tcp:127.0.0.1:${dead}`]);
    try {
      const rport = await listeningPort(relay);
      for (let i = 1; i <= 2; i++) {
        const seen = await runPython(CLIENT_VIEW, [String(rport)], undefined, 20_000);
        assert.equal(seen.code, 0, seen.stderr);
        assert.equal(seen.stdout.trim(), "ConnectionResetError b''", `client ${i}`);
      }
      const warn = await stderrMatch(
        relay,
        /(sockit: warning: 127\.0\.0\.1:\d+ gets a reset: the other address could not be opened: connect 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)[^\n]*\n[\s\S]*){2}/,
      );
      assert.ok(warn);
      relay.kill("SIGTERM");
      assert.equal(await relay.exit(10_000), 143);
    } finally {
      relay.kill("SIGKILL");
    }
  },
);
