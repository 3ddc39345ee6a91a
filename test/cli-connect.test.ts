/**
 * `sockit connect` end to end: the BUILT binary against Python servers (and socat), over
 * loopback; every server binds port 0 and prints it. Exit codes, half-close, linger, idle,
 * --no-shutdown, --crlf, -x, --trace, signals, EPIPE on stdout, UDP and Unix.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { spawnPython } from "./support/interop-python-peer.js";
import { needs, peerPath } from "./support/peers.js";
import { type Child, start } from "./support/spawn.js";

const BIN = join(import.meta.dirname, "..", "src", "cli", "main.js");
const LIMIT = { timeout: 20_000 };

function sockit(args: string[]): Child {
  return start(process.execPath, [BIN, ...args], { ...process.env, NO_COLOR: "1" });
}

async function stop(c: Child | undefined): Promise<void> {
  if (!c) return;
  c.kill("SIGKILL");
  await c.exit(2000).catch(() => {});
}

/** Waits (bounded) until `cond()` holds. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** A TCP server on 127.0.0.1:0 that prints its port, accepts once and runs `body` with `c`. */
function pyServer(body: string, family: "4" | "6" | "unix" = "4", path = "") {
  const setup =
    family === "unix"
      ? `s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)}); s.listen(5); print(0)`
      : family === "6"
        ? `s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); s.listen(5); print(s.getsockname()[1])`
        : `s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5); print(s.getsockname()[1])`;
  const code = `
import socket, sys, time
${setup}
sys.stdout.flush()
c, _ = s.accept()
def read_all():
    data = b""
    while True:
        b = c.recv(65536)
        if not b: return data
        data += b
${body}
`;
  return spawnPython(code, [], 20_000);
}

/** Starts `pyServer(body)`, then sockit with `args` + "127.0.0.1 PORT"; `fn` drives both; all cleaned up. */
async function against(
  body: string,
  args: string[],
  fn: (c: Child, py: ReturnType<typeof spawnPython>) => Promise<void>,
): Promise<void> {
  const py = pyServer(body);
  let c: Child | undefined;
  try {
    const port = await py.firstLine;
    c = sockit([...args, "127.0.0.1", port]);
    await fn(c, py);
  } finally {
    await stop(c);
    await py.close();
  }
}

test("connect to a refused port exits 3 with a message that says what happened", LIMIT, async () => {
  const py = spawnPython(
    `import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()`,
  );
  const port = Number(await py.firstLine);
  await py.ok();
  const c = sockit(["connect", "127.0.0.1", String(port)]);
  try {
    assert.equal(await c.exit(10_000), 3, c.stderr());
    assert.match(c.stderr(), /^sockit: connect 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/);
    assert.equal(c.stdout(), "");
  } finally {
    await stop(c);
  }
});

test("connect to an unknown host (x.invalid) exits 2", LIMIT, async () => {
  const c = sockit(["connect", "x.invalid", "80"]);
  try {
    assert.equal(await c.exit(10_000), 2, c.stderr());
    assert.match(c.stderr(), /x\.invalid/);
  } finally {
    await stop(c);
  }
});

test("connect -w gives up on a listener that never accepts and exits 4", LIMIT, async () => {
  // backlog 0, one connection already queued and never accepted: the next SYN is not answered
  const py = spawnPython(`
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.2)
print(port, flush=True)
time.sleep(15)
`);
  let c: Child | undefined;
  try {
    const port = await py.firstLine;
    const t0 = Date.now();
    c = sockit(["connect", "-w", "0.5", "127.0.0.1", port]);
    assert.equal(await c.exit(10_000), 4, c.stderr());
    assert.ok(Date.now() - t0 >= 400, "waited about -w");
    assert.match(c.stderr(), /connect 127\.0\.0\.1:\d+: connection timed out \(ETIMEDOUT\)/);
  } finally {
    await stop(c);
    await py.close();
  }
});

test("request, stdin EOF → half-close, the server replies after reading EOF, exit 0", LIMIT, async () => {
  await against(
    `
req = read_all()
c.sendall(b"got " + str(len(req)).encode() + b" bytes after EOF\\n")
c.close()
print(repr(req))
`,
    ["connect"],
    async (c, py) => {
      c.proc.stdin!.end("GET /\n");
      assert.equal(await c.exit(10_000), 0, c.stderr());
      assert.equal(c.stdout(), "got 6 bytes after EOF\n");
      assert.deepEqual((await py.ok()).slice(1), ["b'GET /\\n'"]);
    },
  );
});

const SOCAT = { ...LIMIT, skip: needs(["socat"]) };
test("half-close against socat: a SYSTEM command answers only after reading EOF", SOCAT, async () => {
  const peer = start(peerPath("socat"), ["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "SYSTEM:wc -c"]);
  let c: Child | undefined;
  try {
    await until(() => /listening on .*:\d+/.test(peer.stderr()), 5000, "socat listening");
    const port = /listening on .*:(\d+)/.exec(peer.stderr())![1]!;
    c = sockit(["connect", "127.0.0.1", port]);
    c.proc.stdin!.end("twelve bytes");
    assert.equal(await c.exit(10_000), 0, c.stderr());
    assert.equal(c.stdout().trim(), "12");
  } finally {
    await stop(c);
    await stop(peer);
  }
});

test("--no-shutdown keeps the write side open and exits when the peer closes", LIMIT, async () => {
  await against(
    `
c.settimeout(0.7)
data = b""
try:
    while True:
        b = c.recv(100)
        if not b:
            c.sendall(b"saw EOF\\n"); break
        data += b
except socket.timeout:
    c.sendall(b"no EOF, got " + data + b"\\n")
c.close()
`,
    ["connect", "--no-shutdown"],
    async (c) => {
      c.proc.stdin!.end("abc");
      assert.equal(await c.exit(10_000), 0, c.stderr());
      assert.equal(c.stdout(), "no EOF, got abc\n");
    },
  );
});

test(
  "-q linger: after stdin EOF wait at most SECS for a peer that never closes, then exit 0",
  LIMIT,
  async () => {
    await against(
      `
read_all()
c.sendall(b"answer\\n")
time.sleep(15)
`,
      ["connect", "-q", "0.5"],
      async (c) => {
        c.proc.stdin!.end("x");
        const t0 = Date.now();
        assert.equal(await c.exit(8000), 0, c.stderr());
        assert.ok(Date.now() - t0 < 5000);
        assert.equal(c.stdout(), "answer\n");
      },
    );
  },
);

test("-i idle: no data either way for SECS exits 4 with a clear message", LIMIT, async () => {
  await against(`time.sleep(15)`, ["connect", "-i", "0.4"], async (c) => {
    assert.equal(await c.exit(8000), 4, c.stderr());
    assert.match(c.stderr(), /no data either way for 0\.4 s \(-i 0\.4\)/);
  });
});

test("--crlf sends LF as CRLF (and keeps an existing CRLF)", LIMIT, async () => {
  await against(
    `
c.sendall(read_all().hex().encode())
c.close()
`,
    ["connect", "--crlf"],
    async (c) => {
      c.proc.stdin!.end("a\nb\r\n");
      assert.equal(await c.exit(10_000), 0, c.stderr());
      assert.equal(Buffer.from(c.stdout(), "hex").toString(), "a\r\nb\r\n");
    },
  );
});

test("-x hex-dumps both directions to stderr while stdout gets only the data", LIMIT, async () => {
  await against(
    `
read_all()
c.sendall(b"HELLO")
c.close()
`,
    ["-x", "connect"],
    async (c) => {
      c.proc.stdin!.end("hello");
      assert.equal(await c.exit(10_000), 0, c.stderr());
      assert.equal(c.stdout(), "HELLO");
      assert.match(c.stderr(), /^> 00000000 {2}68 65 6c 6c 6f .*\|hello\|$/m);
      assert.match(c.stderr(), /^< 00000000 {2}48 45 4c 4c 4f .*\|HELLO\|$/m);
    },
  );
});

test(
  "--trace shows socket/connect/send/shutdown/recv/close on stderr; stdout has only data",
  LIMIT,
  async () => {
    await against(
      `
read_all()
c.sendall(b"reply")
c.close()
`,
      ["--trace", "connect"],
      async (c) => {
        c.proc.stdin!.end("req");
        assert.equal(await c.exit(10_000), 0, c.stderr());
        assert.equal(c.stdout(), "reply");
        const err = c.stderr();
        for (const re of [
          /^socket\(AF_INET, SOCK_STREAM\) = (\d+)$/m,
          /^connect\(\d+, \('127\.0\.0\.1', \d+\)\) = 0$/m,
          /^send\(\d+, b'req', 3\) = 3$/m,
          /^shutdown\(\d+, SHUT_WR\) = 0$/m,
          /^recv\(\d+, \d+\) = 5 b'reply'$/m,
          /^close\(\d+\) = 0$/m,
        ]) {
          assert.match(err, re);
        }
      },
    );
  },
);

test("-s/-p connect from the given source address and port", LIMIT, async () => {
  const free = spawnPython(
    `import socket; s = socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1]); s.close()`,
  );
  const srcPort = await free.firstLine;
  await free.ok();
  const body = `c.sendall(repr(c.getpeername()).encode()); c.close()`;
  await against(body, ["connect", "-s", "127.0.0.2", "-p", srcPort], async (c) => {
    c.proc.stdin!.end();
    assert.equal(await c.exit(10_000), 0, c.stderr());
    assert.equal(c.stdout(), `('127.0.0.2', ${srcPort})`);
  });
});

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  test(`${sig} closes the connection and exits 0`, LIMIT, async () => {
    await against(
      `
c.sendall(b"hi\\n")
print(repr(read_all()))
`,
      ["connect"],
      async (c, py) => {
        await c.line(/hi/, 5000);
        c.kill(sig);
        assert.equal(await c.exit(5000), 0, c.stderr());
        assert.deepEqual((await py.ok()).slice(1), ["b''"]);
      },
    );
  });
}

test("stdout closed by the reader (| head -c) ends quietly with exit 0", LIMIT, async () => {
  const py = pyServer(`
try:
    while True: c.sendall(b"x" * 65536)
except OSError:
    pass
`);
  let c: Child | undefined;
  try {
    const port = await py.firstLine;
    c = start("bash", [
      "-c",
      `"${process.execPath}" "${BIN}" connect 127.0.0.1 ${port} | head -c 10; echo " rc=\${PIPESTATUS[0]}"`,
    ]);
    assert.equal(await c.exit(10_000), 0, c.stderr());
    assert.equal(c.stdout(), "xxxxxxxxxx rc=0\n");
    assert.equal(c.stderr(), "");
  } finally {
    await stop(c);
    await py.close();
  }
});

test("a stdout that fails otherwise (ENOSPC on /dev/full) exits 6 with the error", LIMIT, async () => {
  const py = pyServer(`c.sendall(b"x" * 100000); time.sleep(5)`);
  let c: Child | undefined;
  try {
    const port = await py.firstLine;
    c = start("bash", [
      "-c",
      `"${process.execPath}" "${BIN}" connect 127.0.0.1 ${port} > /dev/full < /dev/null`,
    ]);
    assert.equal(await c.exit(10_000), 6, c.stderr());
    assert.match(c.stderr(), /^sockit: ENOSPC: no space left on device/);
  } finally {
    await stop(c);
    await py.close();
  }
});

test("-u sends each stdin chunk as a datagram and prints the replies during the linger", LIMIT, async () => {
  const py = spawnPython(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True)
s.settimeout(10)
data, addr = s.recvfrom(65535)
s.sendto(data.upper(), addr)
print(repr(data))
`);
  let c: Child | undefined;
  try {
    const port = await py.firstLine;
    c = sockit(["connect", "-u", "-q", "0.5", "127.0.0.1", port]);
    c.proc.stdin!.end("ping\n");
    assert.equal(await c.exit(8000), 0, c.stderr());
    assert.equal(c.stdout(), "PING\n");
    assert.deepEqual((await py.ok()).slice(1), ["b'ping\\n'"]);
  } finally {
    await stop(c);
    await py.close();
  }
});

test("-u to a closed UDP port reports connection refused (ICMP) and exits 3", LIMIT, async () => {
  const py = spawnPython(
    `import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()`,
  );
  const port = await py.firstLine;
  await py.ok();
  const c = sockit(["connect", "-u", "127.0.0.1", port]);
  try {
    c.proc.stdin!.write("anyone?\n");
    assert.equal(await c.exit(8000), 3, c.stderr());
    assert.match(c.stderr(), /connection refused \(ECONNREFUSED\)/);
  } finally {
    c.proc.stdin!.end();
    await stop(c);
  }
});

test("-U connects to a Unix socket; a missing path exits 3", LIMIT, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-connect-"));
  const path = join(dir, "s.sock");
  const py = pyServer(
    `
c.sendall(b"unix says " + read_all())
c.close()
`,
    "unix",
    path,
  );
  let c: Child | undefined;
  let missing: Child | undefined;
  try {
    await py.firstLine;
    c = sockit(["connect", "-U", path]);
    c.proc.stdin!.end("hi");
    assert.equal(await c.exit(10_000), 0, c.stderr());
    assert.equal(c.stdout(), "unix says hi");
    missing = sockit(["connect", "-U", join(dir, "nobody.sock")]);
    assert.equal(await missing.exit(10_000), 3, missing.stderr());
    assert.match(missing.stderr(), /no such file or directory \(ENOENT\)/);
  } finally {
    await stop(c);
    await stop(missing);
    await py.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a peer that resets the connection makes connect exit 5", LIMIT, async () => {
  const body = `
import struct
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.recv(10)
c.close()
`;
  await against(body, ["connect"], async (c) => {
    c.proc.stdin!.write("x");
    assert.equal(await c.exit(10_000), 5, c.stderr());
    assert.match(c.stderr(), /reset by peer \(ECONNRESET\)/);
  });
});

test("connect -u -p sends from the given port and prints the peer's reply", LIMIT, async () => {
  const probe = spawnPython(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
`);
  const src = await probe.firstLine;
  await probe.close();
  const py = spawnPython(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True)
data, addr = s.recvfrom(2048)
s.sendto(b"from port %d: " % addr[1] + data, addr)
`);
  let c: Child | undefined;
  try {
    const port = await py.firstLine;
    c = sockit(["connect", "-u", "-q", "2", "-p", src, "127.0.0.1", port]);
    c.proc.stdin!.write("ping\n");
    await c.line(new RegExp(`from port ${src}: ping`), 10_000);
    c.proc.stdin!.end();
    assert.equal(await c.exit(10_000), 0, c.stderr());
  } finally {
    await stop(c);
    await py.close();
  }
});
