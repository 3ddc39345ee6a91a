/**
 * `sockit connect` / `sockit listen` (the BUILT binary) against peers nobody here wrote:
 * OpenBSD netcat, ncat, socat and Python. A 32 MiB random file crosses in both directions over
 * TCP/IPv4 and arrives byte-identical (SHA-256); IPv6 and Unix carry 4 MiB; UDP does small
 * datagrams both ways. Every listener binds port 0 and its port is read back (stderr or /proc).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { needs, type PeerProgram, peerPath } from "./support/peers.js";
import { waitUdpPort } from "./support/udp-peers.js";

const BIN = join(import.meta.dirname, "..", "src", "cli", "main.js");
const BIG = 32 * 1024 * 1024;
const SMALL = 4 * 1024 * 1024;
const LIMIT = { timeout: 60_000 };
const NC = { ...LIMIT, skip: needs(["nc"]) };
const SOCAT = { ...LIMIT, skip: needs(["socat"]) };

let dir = "";
const files: Record<string, { path: string; sha: string; size: number }> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sockit-interop-"));
  for (const [name, size] of [
    ["big", BIG],
    ["small", SMALL],
  ] as const) {
    const data = randomBytes(size);
    const path = join(dir, `${name}.bin`);
    writeFileSync(path, data);
    files[name] = { path, size, sha: createHash("sha256").update(data).digest("hex") };
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A child whose stdout is hashed as it arrives (binary-safe) and whose stderr is kept as text. */
interface Proc {
  readonly proc: ChildProcess;
  sha(): string;
  bytes(): number;
  stdout(): string;
  stderr(): string;
  exit(ms?: number): Promise<number | null>;
  kill(): void;
}

/** Spawns `cmd args`; `stdin` is a file path (read by the child itself) or "pipe". */
function run(cmd: string, args: string[], stdin: string | "pipe" = "pipe"): Proc {
  const fd = stdin === "pipe" ? undefined : openSync(stdin, "r");
  const proc = spawn(cmd, args, {
    stdio: [fd ?? "pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (fd !== undefined) closeSync(fd);
  proc.stdin?.on("error", () => {}); // EPIPE from a child that exited first is not a failure
  const hash = createHash("sha256");
  let n = 0;
  let head = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => {
    hash.update(d);
    n += d.length;
    if (head.length < 4096) head += d.toString("latin1");
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  let digest: string | undefined;
  return {
    proc,
    sha: () => (digest ??= hash.digest("hex")),
    bytes: () => n,
    stdout: () => head,
    stderr: () => err,
    exit: async (ms = 30_000) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          exited,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${cmd} did not exit within ${ms} ms; stderr: ${err}`)),
              ms,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
}

function sockit(args: string[], stdin: string | "pipe" = "pipe"): Proc {
  return run(process.execPath, [BIN, ...args], stdin);
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** Waits for `re` (with one capture group) on the child's stderr and returns the capture. */
async function fromStderr(p: Proc, re: RegExp, what: string): Promise<string> {
  await until(() => re.test(p.stderr()), 5000, `${what}; stderr: ${p.stderr()}`);
  return re.exec(p.stderr())![1]!;
}

/** The TCP port process `pid` listens on (from /proc: its socket inodes in state LISTEN). */
async function tcpListenPort(pid: number, ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[3] === "0A" && inodes.has(cols[9]!))
          return String(Number.parseInt(cols[1]!.split(":").pop()!, 16));
      }
    }
    if (Date.now() > end) throw new Error(`process ${pid} is not listening on TCP after ${ms} ms`);
    await sleep(10);
  }
}

async function cleanup(...ps: Array<Proc | undefined>): Promise<void> {
  for (const p of ps) {
    if (!p) continue;
    p.kill();
    await p.exit(3000).catch(() => {});
  }
}

const PY_SEND = `
import socket, sys
fam = {"4": socket.AF_INET, "6": socket.AF_INET6, "unix": socket.AF_UNIX}[sys.argv[1]]
s = socket.socket(fam)
s.connect(sys.argv[2] if sys.argv[1] == "unix" else (sys.argv[2], int(sys.argv[3])))
with open(sys.argv[-1], "rb") as f:
    while True:
        b = f.read(1 << 16)
        if not b: break
        s.sendall(b)
s.shutdown(socket.SHUT_WR)
while s.recv(65536): pass
s.close()
`;

const PY_RECV = `
import socket, sys
s = socket.socket(socket.AF_INET); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
while True:
    b = c.recv(1 << 16)
    if not b: break
    sys.stdout.buffer.write(b)
sys.stdout.buffer.flush()
c.close()
`;

/** A client: its name, the peer program it needs (none for Python) and how to run it. */
type Peer = { name: string; needs: PeerProgram[]; argv: (port: string, file: string) => [string, string[]] };

describe("TCP/IPv4, 32 MiB: sockit listen receives from real clients", () => {
  const peers: Peer[] = [
    { name: "nc -N", needs: ["nc"], argv: (p) => [peerPath("nc"), ["-N", "127.0.0.1", p]] },
    { name: "ncat", needs: ["ncat"], argv: (p) => [peerPath("ncat"), ["127.0.0.1", p]] },
    {
      name: "socat",
      needs: ["socat"],
      argv: (p, f) => [peerPath("socat"), ["-u", `OPEN:${f}`, `TCP:127.0.0.1:${p}`]],
    },
    { name: "python", needs: [], argv: (p, f) => ["python3", ["-c", PY_SEND, "4", "127.0.0.1", p, f]] },
  ];
  for (const peer of peers) {
    const opts = { ...LIMIT, skip: needs(peer.needs) };
    test(`sockit listen ← ${peer.name}: byte-identical`, opts, async (t) => {
      const f = files.big!;
      const s = sockit(["listen", "127.0.0.1", "0"]);
      let c: Proc | undefined;
      try {
        s.proc.stdin!.end();
        const port = await fromStderr(s, /listening on 127\.0\.0\.1:(\d+)/, "sockit listening");
        const t0 = performance.now();
        const [cmd, args] = peer.argv(port, f.path);
        c = run(cmd, args, peer.name === "socat" || peer.name === "python" ? "pipe" : f.path);
        c.proc.stdin?.end();
        assert.equal(await s.exit(), 0, s.stderr());
        assert.equal(await c.exit(), 0, c.stderr());
        t.diagnostic(`${(f.size / 2 ** 20 / ((performance.now() - t0) / 1000)).toFixed(0)} MiB/s`);
        assert.equal(s.bytes(), f.size);
        assert.equal(s.sha(), f.sha);
      } finally {
        await cleanup(s, c);
      }
    });
  }
});

describe("TCP/IPv4, 32 MiB: sockit connect sends to real servers", () => {
  type Server = { name: string; needs: PeerProgram[]; start: () => Promise<{ p: Proc; port: string }> };
  const servers: Server[] = [
    {
      name: "nc -l",
      needs: ["nc"],
      start: async () => {
        const p = run(peerPath("nc"), ["-v", "-l", "127.0.0.1", "0"]);
        p.proc.stdin!.end();
        return { p, port: await fromStderr(p, /Listening on \S+ (\d+)/, "nc listening") };
      },
    },
    {
      name: "ncat -l",
      needs: ["ncat"],
      start: async () => {
        const p = run(peerPath("ncat"), ["-l", "127.0.0.1", "0"]);
        p.proc.stdin!.end();
        return { p, port: await tcpListenPort(p.proc.pid!) };
      },
    },
    {
      name: "socat TCP-LISTEN",
      needs: ["socat"],
      start: async () => {
        const p = run(peerPath("socat"), ["-d", "-d", "-u", "TCP-LISTEN:0,bind=127.0.0.1", "STDOUT"]);
        return { p, port: await fromStderr(p, /listening on AF=2 127\.0\.0\.1:(\d+)/, "socat listening") };
      },
    },
    {
      name: "python",
      needs: [],
      start: async () => {
        const p = run("python3", ["-c", PY_RECV]);
        return { p, port: await fromStderr(p, /^(\d+)$/m, "python listening") };
      },
    },
  ];
  for (const server of servers) {
    const opts = { ...LIMIT, skip: needs(server.needs) };
    test(`sockit connect → ${server.name}: byte-identical`, opts, async (t) => {
      const f = files.big!;
      let peer: Proc | undefined;
      let s: Proc | undefined;
      try {
        const started = await server.start();
        peer = started.p;
        const t0 = performance.now();
        s = sockit(["connect", "127.0.0.1", started.port], f.path);
        assert.equal(await s.exit(), 0, s.stderr());
        assert.equal(await peer.exit(), 0, peer.stderr());
        t.diagnostic(`${(f.size / 2 ** 20 / ((performance.now() - t0) / 1000)).toFixed(0)} MiB/s`);
        assert.equal(peer.bytes(), f.size);
        assert.equal(peer.sha(), f.sha);
      } finally {
        await cleanup(s, peer);
      }
    });
  }
});

describe("TCP/IPv6, 4 MiB", () => {
  test("sockit listen ::1 ← nc -N ::1: byte-identical", NC, async () => {
    const f = files.small!;
    const s = sockit(["listen", "-6", "::1", "0"]);
    let c: Proc | undefined;
    try {
      s.proc.stdin!.end();
      const port = await fromStderr(s, /listening on \[::1\]:(\d+)/, "sockit listening");
      c = run(peerPath("nc"), ["-N", "::1", port], f.path);
      assert.equal(await s.exit(), 0, s.stderr());
      assert.equal(await c.exit(), 0, c.stderr());
      assert.equal(s.sha(), f.sha);
    } finally {
      await cleanup(s, c);
    }
  });

  test("sockit connect ::1 → socat TCP6-LISTEN: byte-identical", SOCAT, async () => {
    const f = files.small!;
    const peer = run(peerPath("socat"), ["-d", "-d", "-u", "TCP6-LISTEN:0,bind=[::1]", "STDOUT"]);
    let s: Proc | undefined;
    try {
      const port = await fromStderr(peer, /listening on AF=10 \[[0-9a-f:]+\]:(\d+)/, "socat listening");
      s = sockit(["connect", "-6", "::1", port], f.path);
      assert.equal(await s.exit(), 0, s.stderr());
      assert.equal(await peer.exit(), 0, peer.stderr());
      assert.equal(peer.sha(), f.sha);
    } finally {
      await cleanup(s, peer);
    }
  });

  test("sockit listen (dual-stack default) ← python over ::1: byte-identical", LIMIT, async () => {
    const f = files.small!;
    const s = sockit(["listen", "0"]);
    let c: Proc | undefined;
    try {
      s.proc.stdin!.end();
      const port = await fromStderr(s, /listening on \[::\]:(\d+)/, "sockit listening");
      c = run("python3", ["-c", PY_SEND, "6", "::1", port, f.path]);
      assert.equal(await s.exit(), 0, s.stderr());
      assert.equal(await c.exit(), 0, c.stderr());
      assert.equal(s.sha(), f.sha);
    } finally {
      await cleanup(s, c);
    }
  });
});

describe("Unix sockets, 4 MiB", () => {
  test("sockit listen -U ← nc -N -U: byte-identical", NC, async () => {
    const f = files.small!;
    const path = join(dir, "l.sock");
    const s = sockit(["listen", "-v", "-U", path]);
    let c: Proc | undefined;
    try {
      s.proc.stdin!.end();
      await fromStderr(s, /(listening on \/\S+)/, "sockit listening");
      c = run(peerPath("nc"), ["-N", "-U", path], f.path);
      assert.equal(await s.exit(), 0, s.stderr());
      assert.equal(await c.exit(), 0, c.stderr());
      assert.equal(s.sha(), f.sha);
    } finally {
      await cleanup(s, c);
    }
  });

  test("sockit connect -U → socat UNIX-LISTEN: byte-identical", SOCAT, async () => {
    const f = files.small!;
    const path = join(dir, "socat.sock");
    const peer = run(peerPath("socat"), ["-d", "-d", "-u", `UNIX-LISTEN:${path}`, "STDOUT"]);
    let s: Proc | undefined;
    try {
      await fromStderr(peer, /(listening on)/, "socat listening");
      s = sockit(["connect", "-U", path], f.path);
      assert.equal(await s.exit(), 0, s.stderr());
      assert.equal(await peer.exit(), 0, peer.stderr());
      assert.equal(peer.sha(), f.sha);
    } finally {
      await cleanup(s, peer);
    }
  });

  test("sockit connect -U → nc -l -U: byte-identical", NC, async () => {
    const f = files.small!;
    const path = join(dir, "nc.sock");
    const peer = run(peerPath("nc"), ["-l", "-U", path]);
    let s: Proc | undefined;
    try {
      peer.proc.stdin!.end();
      await until(() => readdirSync(dir).includes("nc.sock"), 5000, "nc -lU listening");
      s = sockit(["connect", "-U", path], f.path);
      assert.equal(await s.exit(), 0, s.stderr());
      assert.equal(await peer.exit(), 0, peer.stderr());
      assert.equal(peer.sha(), f.sha);
    } finally {
      await cleanup(s, peer);
    }
  });
});

describe("UDP basics: small datagrams both ways", () => {
  test("sockit connect -u ↔ nc -u -l", NC, async () => {
    const peer = run(peerPath("nc"), ["-u", "-l", "127.0.0.1", "0"]);
    let s: Proc | undefined;
    try {
      const port = String(await waitUdpPort(peer.proc.pid!));
      s = sockit(["connect", "-u", "-q", "1", "127.0.0.1", port]);
      s.proc.stdin!.write("ping from sockit\n");
      await until(() => peer.stdout() === "ping from sockit\n", 5000, "nc got the datagram");
      peer.proc.stdin!.write("pong from nc\n");
      await until(() => s!.stdout() === "pong from nc\n", 5000, "sockit got the reply");
      s.proc.stdin!.end();
      assert.equal(await s.exit(), 0, s.stderr());
    } finally {
      await cleanup(s, peer);
    }
  });

  test("sockit listen -u ↔ nc -u", NC, async () => {
    const s = sockit(["listen", "-u", "127.0.0.1", "0"]);
    let peer: Proc | undefined;
    try {
      const port = await fromStderr(s, /listening on 127\.0\.0\.1:(\d+)/, "sockit listening");
      peer = run(peerPath("nc"), ["-u", "127.0.0.1", port]);
      peer.proc.stdin!.write("hello from nc\n");
      await until(() => s.stdout() === "hello from nc\n", 5000, "sockit got the datagram");
      s.proc.stdin!.write("reply from sockit\n");
      await until(() => peer!.stdout() === "reply from sockit\n", 5000, "nc got the reply");
      s.proc.kill("SIGTERM");
      assert.equal(await s.exit(), 0, s.stderr());
    } finally {
      await cleanup(s, peer);
    }
  });

  test("sockit listen -u ↔ a Python client: each datagram answered to its sender", LIMIT, async () => {
    const s = sockit(["listen", "-u", "127.0.0.1", "0"]);
    let py: Proc | undefined;
    try {
      const port = await fromStderr(s, /listening on 127\.0\.0\.1:(\d+)/, "sockit listening");
      py = run("python3", [
        "-c",
        `
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(10)
u.sendto(b"one", ("127.0.0.1", int(sys.argv[1])))
print(repr(u.recv(100)), flush=True)
`,
        port,
      ]);
      await until(() => s.stdout() === "one", 5000, "sockit got the datagram");
      s.proc.stdin!.write("answer");
      assert.equal(await py.exit(), 0, py.stderr());
      assert.equal(py.stdout(), "b'answer'\n");
      s.proc.kill("SIGTERM");
      assert.equal(await s.exit(), 0);
    } finally {
      await cleanup(s, py);
    }
  });
});
