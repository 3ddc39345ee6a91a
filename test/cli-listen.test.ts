/**
 * `sockit listen` end to end: the BUILT binary with real clients (Python, nc, socat) on loopback.
 * sockit binds port 0 and prints the real port on stderr; clients read it from there.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** Starts `sockit listen …` and resolves its port from "sockit: listening on …:PORT". */
async function listening(args: string[]): Promise<{ c: Child; port: string }> {
  const c = sockit(["listen", ...args]);
  try {
    await until(() => /listening on \S+:\d+\n/.test(c.stderr()), 5000, "sockit listening");
  } catch (err) {
    await stop(c);
    throw new Error(`${(err as Error).message}; stderr: ${c.stderr()}`);
  }
  return { c, port: /listening on \S+:(\d+)\n/.exec(c.stderr())![1]! };
}

const PY_HEAD = `
import socket, sys, time, select
port = int(sys.argv[1])
def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b: return data
        data += b
def recv_or(s, what="reset"):
    try:
        return repr(s.recv(100))
    except ConnectionResetError:
        return what
`;

function pyClient(body: string, port: string) {
  return spawnPython(`${PY_HEAD}\nprint("start", flush=True)\n${body}`, [port], 20_000);
}

test(
  "listen on port 0 prints the real port, serves one client, exits 0; the port is closed after",
  LIMIT,
  async () => {
    const { c, port } = await listening(["127.0.0.1", "0"]);
    const py = pyClient(
      `
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"hello\\n"); s.shutdown(socket.SHUT_WR)
print(repr(read_all(s))); s.close()
time.sleep(0.3)
try:
    socket.create_connection(("127.0.0.1", port)); print("second connected")
except ConnectionRefusedError:
    print("second refused")
`,
      port,
    );
    try {
      assert.match(c.stderr(), /^sockit: listening on 127\.0\.0\.1:\d+$/m);
      c.proc.stdin!.end("bye\n");
      assert.equal(await c.exit(10_000), 0, c.stderr());
      assert.equal(c.stdout(), "hello\n");
      assert.deepEqual(await py.ok(), ["start", "b'bye\\n'", "second refused"]);
    } finally {
      await stop(c);
      await py.close();
    }
  },
);

for (const [name, program, argv] of [
  ["nc -N", "nc", (p: string) => ["-N", "127.0.0.1", p]],
  ["socat", "socat", (p: string) => ["-t", "5", "-", `TCP:127.0.0.1:${p}`]],
] as const) {
  const opts = { ...LIMIT, skip: needs([program]) };
  test(`request → half-close → reply with sockit listen as the server (${name} client)`, opts, async () => {
    const exe = peerPath(program);
    const { c, port } = await listening(["-v", "127.0.0.1", "0"]);
    const client = start(exe, argv(port));
    try {
      client.proc.stdin!.end("request\n");
      await c.line(/request\n/, 5000);
      await until(() => /closed its side \(EOF\)/.test(c.stderr()), 5000, "sockit saw the client's EOF");
      c.proc.stdin!.end("reply after your EOF\n");
      assert.equal(await client.exit(10_000), 0, client.stderr());
      assert.equal(client.stdout(), "reply after your EOF\n");
      assert.equal(await c.exit(10_000), 0, c.stderr());
      assert.equal(c.stdout(), "request\n");
    } finally {
      await stop(client);
      await stop(c);
    }
  });
}

test("-k serves 3 concurrent clients: their bytes go to stdout, stdin goes to all", LIMIT, async () => {
  const { c, port } = await listening(["-k", "127.0.0.1", "0"]);
  const py = pyClient(
    `
cs = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
for i, s in enumerate(cs):
    s.sendall(b"from %d\\n" % i); s.settimeout(10)
for i, s in enumerate(cs):
    print(i, repr(s.recv(100)))
for s in cs: s.close()
`,
    port,
  );
  try {
    await until(() => ["from 0", "from 1", "from 2"].every((l) => c.stdout().includes(l)), 5000, "3 clients");
    c.proc.stdin!.write("broadcast\n");
    assert.deepEqual(await py.ok(), ["start", "0 b'broadcast\\n'", "1 b'broadcast\\n'", "2 b'broadcast\\n'"]);
    c.kill("SIGTERM");
    assert.equal(await c.exit(5000), 0, c.stderr());
    assert.deepEqual(c.stdout().split("\n").sort(), ["", "from 0", "from 1", "from 2"]);
  } finally {
    await stop(c);
    await py.close();
  }
});

test(
  "-k -m 1 closes a second concurrent client with a notice and keeps serving the first",
  LIMIT,
  async () => {
    const { c, port } = await listening(["-k", "-m", "1", "127.0.0.1", "0"]);
    const py = pyClient(
      `
a = socket.create_connection(("127.0.0.1", port)); a.sendall(b"a\\n")
time.sleep(0.3)
b = socket.create_connection(("127.0.0.1", port)); b.settimeout(5)
print("b", recv_or(b), flush=True)
a.settimeout(10)
print("a", repr(a.recv(100)))
`,
      port,
    );
    try {
      await until(
        () => /refused 127\.0\.0\.1:\d+/.test(c.stderr()) && c.stdout() === "a\n",
        5000,
        "second refused",
      );
      assert.match(c.stderr(), /sockit: refused 127\.0\.0\.1:\d+: 1 client connected, the limit is -m 1/);
      c.proc.stdin!.write("to a\n");
      assert.deepEqual(await py.ok(), ["start", "b b''", "a b'to a\\n'"]);
    } finally {
      await stop(c);
      await py.close();
    }
  },
);

for (const [flag, deniedFrom, servedFrom] of [
  ["--allow", "::1", "127.0.0.1"],
  ["--deny", "127.0.0.1", "::1"],
] as const) {
  test(
    `${flag} 127.0.0.1/32 on a dual-stack listener: ${deniedFrom} is closed at once, ${servedFrom} is served`,
    LIMIT,
    async () => {
      const { c, port } = await listening(["-v", "-k", flag, "127.0.0.1/32", "0"]);
      const py = pyClient(
        `
d = socket.create_connection((${JSON.stringify(deniedFrom)}, port)); d.settimeout(5)
print("denied", recv_or(d), flush=True)
s = socket.create_connection((${JSON.stringify(servedFrom)}, port)); s.sendall(b"served\\n"); s.settimeout(10)
print("served", repr(s.recv(100)))
`,
        port,
      );
      try {
        assert.match(c.stderr(), /listening on \[::\]:\d+/);
        await c.line(/served\n/, 5000);
        c.proc.stdin!.write("welcome\n");
        assert.deepEqual(await py.ok(), ["start", "denied b''", "served b'welcome\\n'"]);
        const shown = deniedFrom === "::1" ? "\\[::1\\]" : "127\\.0\\.0\\.1";
        const why = flag === "--allow" ? "not in --allow 127.0.0.1/32" : "matches --deny 127.0.0.1/32";
        assert.match(c.stderr(), new RegExp(`denied ${shown}:\\d+ \\(${why.replace(/[./]/g, "\\$&")}\\)`));
        assert.equal(c.stdout(), "served\n");
      } finally {
        await stop(c);
        await py.close();
      }
    },
  );
}

for (const mode of ["all", "first"] as const) {
  test(
    `-u --udp-peers ${mode}: ${mode === "all" ? "every peer is printed, stdin answers the last sender" : "only the first peer is heard and answered"}`,
    LIMIT,
    async () => {
      const { c, port } = await listening(["-v", "-u", "--udp-peers", mode, "127.0.0.1", "0"]);
      const py = pyClient(
        `
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", 0))
a.sendto(b"from a\\n", ("127.0.0.1", port)); time.sleep(0.2)
b.sendto(b"from b\\n", ("127.0.0.1", port))
got = {}
deadline = time.time() + 8
while time.time() < deadline and not got:
    r, _, _ = select.select([a, b], [], [], 0.1)
    for s in r: got["a" if s is a else "b"] = s.recv(100)
time.sleep(0.3)
r, _, _ = select.select([a, b], [], [], 0)
for s in r: got["a" if s is a else "b"] = s.recv(100)
print(sorted(got.items()))
`,
        port,
      );
      try {
        if (mode === "all") await until(() => c.stdout() === "from a\nfrom b\n", 5000, "both datagrams");
        else
          await until(
            () => /ignoring a datagram from .*--udp-peers first/.test(c.stderr()),
            5000,
            "b ignored",
          );
        c.proc.stdin!.write("reply\n");
        const want = mode === "all" ? "[('b', b'reply\\n')]" : "[('a', b'reply\\n')]";
        assert.deepEqual(await py.ok(), ["start", want]);
        if (mode === "first") assert.equal(c.stdout(), "from a\n");
        c.kill("SIGTERM");
        assert.equal(await c.exit(5000), 0, c.stderr());
      } finally {
        await stop(c);
        await py.close();
      }
    },
  );
}

test("-U listens on a Unix path, serves one client, and removes the path when done", LIMIT, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-listen-"));
  const path = join(dir, "s.sock");
  const c = sockit(["listen", "-v", "-U", path]);
  let py: ReturnType<typeof spawnPython> | undefined;
  try {
    await until(() => c.stderr().includes(`listening on ${path}`), 5000, "unix listening");
    py = spawnPython(
      `
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"over unix\\n"); s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(100)
    if not b: break
    data += b
print(repr(data))
`,
      [path],
    );
    c.proc.stdin!.end("unix reply\n");
    assert.deepEqual(await py.ok(), ["b'unix reply\\n'"]);
    assert.equal(await c.exit(10_000), 0, c.stderr());
    assert.equal(c.stdout(), "over unix\n");
    assert.equal(existsSync(path), false);
  } finally {
    await stop(c);
    await py?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-i idle in single-client mode exits 4 when the client sends nothing", LIMIT, async () => {
  const { c, port } = await listening(["-i", "0.4", "127.0.0.1", "0"]);
  const py = pyClient(`s = socket.create_connection(("127.0.0.1", port)); time.sleep(10)`, port);
  try {
    assert.equal(await c.exit(8000), 4, c.stderr());
    assert.match(c.stderr(), /no data either way for 0\.4 s/);
  } finally {
    await stop(c);
    await py.close();
  }
});

test("-k -i closes an idle client with a notice and keeps listening", LIMIT, async () => {
  const { c, port } = await listening(["-k", "-i", "0.4", "127.0.0.1", "0"]);
  const py = pyClient(
    `
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
print("idle", repr(read_all(s)))
t = socket.create_connection(("127.0.0.1", port)); t.sendall(b"still here\\n")
`,
    port,
  );
  try {
    assert.deepEqual(await py.ok(), ["start", "idle b''"]);
    await c.line(/still here/, 5000);
    assert.match(c.stderr(), /client #1 127\.0\.0\.1:\d+ idle for 0\.4 s \(-i\); closing it/);
  } finally {
    await stop(c);
    await py.close();
  }
});

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  test(`${sig} stops a -k listener with clients connected and exits 0`, LIMIT, async () => {
    const { c, port } = await listening(["-k", "127.0.0.1", "0"]);
    const py = pyClient(
      `
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"here\\n"); s.settimeout(10)
print(repr(read_all(s)))
`,
      port,
    );
    try {
      await c.line(/here/, 5000);
      c.kill(sig);
      assert.equal(await c.exit(5000), 0, c.stderr());
      assert.deepEqual(await py.ok(), ["start", "b''"]);
    } finally {
      await stop(c);
      await py.close();
    }
  });
}

test("--trace on listen shows bind/listen/accept/recv/close on stderr, data on stdout", LIMIT, async () => {
  const { c, port } = await listening(["--trace", "127.0.0.1", "0"]);
  const py = pyClient(
    `s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"traced"); s.close()`,
    port,
  );
  try {
    c.proc.stdin!.end();
    assert.equal(await c.exit(10_000), 0, c.stderr());
    assert.equal(c.stdout(), "traced");
    for (const re of [
      /^bind\(\d+, \('127\.0\.0\.1', 0\)\) = 0$/m,
      /^listen\(\d+, \d+\) = 0$/m,
      /^accept\(\d+\) = \d+ \('127\.0\.0\.1', \d+\)$/m,
      /^recv\(\d+, \d+\) = 6 b'traced'$/m,
      /^close\(\d+\) = 0$/m,
    ]) {
      assert.match(c.stderr(), re);
    }
    await py.ok();
  } finally {
    await stop(c);
    await py.close();
  }
});

test(
  "--chat: stopping tells every connected client (Server shutting down), then closes, exit 0",
  LIMIT,
  async () => {
    const chat = await listening(["-v", "--chat", "127.0.0.1", "0"]);
    const py = pyClient(
      `
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10)
data = read_all(s)
print("told" if b"Server shutting down" in data else "not told: " + repr(data[-160:]))
`,
      chat.port,
    );
    try {
      await until(() => /joined the chat/.test(chat.c.stderr()), 5000, "the client to join");
      chat.c.kill("SIGTERM");
      assert.equal(await chat.c.exit(10_000), 0, chat.c.stderr());
      assert.deepEqual(await py.ok(), ["start", "told"]);
    } finally {
      await stop(chat.c);
      await py.close();
    }
  },
);

test("--chat and --exec reach their modes (smoke test of the dispatch)", LIMIT, async () => {
  const chat = await listening(["--chat", "127.0.0.1", "0"]);
  const py = pyClient(
    `
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
print(repr(s.recv(100)[:21]))
`,
    chat.port,
  );
  let ex: { c: Child; port: string } | undefined;
  let py2: ReturnType<typeof spawnPython> | undefined;
  try {
    assert.deepEqual(await py.ok(), ["start", "b'*** welcome to sockit'"]);
    chat.c.kill("SIGTERM");
    assert.equal(await chat.c.exit(5000), 0, chat.c.stderr());
    ex = await listening(["--exec", "cat", "127.0.0.1", "0"]);
    py2 = pyClient(
      `
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"cat me\\n"); s.shutdown(socket.SHUT_WR)
print(repr(read_all(s)))
`,
      ex.port,
    );
    assert.deepEqual(await py2.ok(), ["start", "b'cat me\\n'"]);
    assert.equal(await ex.c.exit(10_000), 0, ex.c.stderr());
  } finally {
    await stop(chat.c);
    await stop(ex?.c);
    await py.close();
    await py2?.close();
  }
});

test("--sh-exec and --broker reach their modes (smoke test of the dispatch)", LIMIT, async () => {
  const ex = await listening(["--sh-exec", "tr a-z A-Z", "127.0.0.1", "0"]);
  const py = pyClient(
    `
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"shout\\n"); s.shutdown(socket.SHUT_WR)
print(repr(read_all(s)))
`,
    ex.port,
  );
  let br: { c: Child; port: string } | undefined;
  let py2: ReturnType<typeof spawnPython> | undefined;
  try {
    assert.deepEqual(await py.ok(), ["start", "b'SHOUT\\n'"]);
    assert.equal(await ex.c.exit(10_000), 0, ex.c.stderr());
    br = await listening(["--broker", "127.0.0.1", "0"]);
    py2 = pyClient(
      `
a = socket.create_connection(("127.0.0.1", port)); b = socket.create_connection(("127.0.0.1", port))
time.sleep(0.3); a.sendall(b"relayed\\n"); b.settimeout(10)
print(repr(b.recv(100)))
`,
      br.port,
    );
    assert.deepEqual(await py2.ok(), ["start", "b'relayed\\n'"]);
    br.c.kill("SIGTERM");
    assert.equal(await br.c.exit(5000), 0, br.c.stderr());
  } finally {
    await stop(ex.c);
    await stop(br?.c);
    await py.close();
    await py2?.close();
  }
});
