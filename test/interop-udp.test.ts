/**
 * UDP interop with peers nobody here wrote: Python's socket module, socat and OpenBSD netcat,
 * each as client and as server, over loopback. sockit always binds port 0; a peer that serves
 * binds port 0 too and its port is read from its stdout (Python) or from /proc (socat, nc).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AF_INET, AF_INET6, SOCK_DGRAM, socket } from "../src/bsd/index.js";
import { listenPacket } from "../src/net/index.js";
import { spawnPython } from "./support/interop-python-peer.js";
import { within } from "./support/leaks.js";
import { needs, peerPath } from "./support/peers.js";
import { type Child, start } from "./support/spawn.js";
import { waitUdpPort } from "./support/udp-peers.js";

const LIMIT = { timeout: 10_000 };
const SOCAT = { ...LIMIT, skip: needs(["socat"]) };
const NC = { ...LIMIT, skip: needs(["nc"]) };

/** A Python UDP server: prints its port, answers each of `count` datagrams with upper-case. */
const PY_SERVER = `
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 0))
print(s.getsockname()[1])
s.settimeout(5)
for _ in range(int(sys.argv[3])):
    data, addr = s.recvfrom(65535)
    print(repr(data), addr[1])
    s.sendto(data.upper(), addr)
s.close()
`;

/** A Python UDP client: sends datagrams (one per argv item, "" = empty) and prints the replies. */
const PY_CLIENT = `
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 0))
print(s.getsockname()[1])
s.settimeout(5)
for msg in sys.argv[4:]:
    s.sendto(msg.encode(), (sys.argv[2], int(sys.argv[3])))
    data, addr = s.recvfrom(65535)
    print(repr(data), addr[1])
s.close()
`;

async function stop(c: Child | undefined): Promise<void> {
  if (!c) return;
  c.kill("SIGKILL");
  await c.exit(2000).catch(() => {});
}

describe("Python's socket module", () => {
  for (const [v, host] of [
    ["4", "127.0.0.1"],
    ["6", "::1"],
  ] as const) {
    test(`sockit (Berkeley face) as client of a Python UDP server (IPv${v})`, LIMIT, async () => {
      const py = spawnPython(PY_SERVER, [v, host, "3"], 10_000);
      const s = socket(v === "6" ? AF_INET6 : AF_INET, SOCK_DGRAM);
      try {
        const port = Number(await within(py.firstLine, 5000, "python port"));
        const to: [string, number] | [string, number, number, number] =
          v === "6" ? [host, port, 0, 0] : [host, port];
        for (const msg of ["hello python", "", "x".repeat(1000)]) {
          await s.sendto(msg, to);
          const [d, from] = await within(s.recvfrom(65535), 5000, "reply from python");
          assert.equal(d.toString(), msg.toUpperCase(), "one datagram in, one out, boundaries kept");
          assert.equal((from as [string, number])[0], host);
          assert.equal((from as [string, number])[1], port);
        }
        const lines = await within(py.ok(), 5000, "python exit");
        const myPort = (s.getsockname() as [string, number])[1];
        assert.deepEqual(lines, [
          String(port),
          `b'hello python' ${myPort}`,
          `b'' ${myPort}`,
          `b'${"x".repeat(1000)}' ${myPort}`,
        ]);
      } finally {
        await s.close();
        await py.close();
      }
    });

    test(`sockit (Go face) as server for a Python UDP client (IPv${v})`, LIMIT, async () => {
      const pc = await listenPacket(v === "6" ? "udp6" : "udp4", v === "6" ? "[::1]:0" : "127.0.0.1:0");
      const py = spawnPython(PY_CLIENT, [v, host, String(pc.port), "first", "", "third"], 10_000);
      try {
        const pyPort = Number(await within(py.firstLine, 5000, "python port"));
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) {
          const p = await within(pc.readFrom(), 5000, "datagram from python");
          assert.equal(p.endpoint.port, pyPort);
          assert.equal(p.endpoint.address, host);
          seen.push(p.data.toString());
          await pc.writeTo(Buffer.from(`re:${p.data.toString()}`), p.endpoint);
        }
        assert.deepEqual(seen, ["first", "", "third"]);
        const lines = await within(py.ok(), 5000, "python exit");
        assert.deepEqual(lines.slice(1), [
          `b're:first' ${pc.port}`,
          `b're:' ${pc.port}`,
          `b're:third' ${pc.port}`,
        ]);
      } finally {
        await pc.close();
        await py.close();
      }
    });
  }

  test(
    "a Python recvfrom(4) truncates a sockit datagram and the next recvfrom gets the next one",
    LIMIT,
    async () => {
      const code = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.settimeout(5)
print(repr(s.recvfrom(4)[0]))
print(repr(s.recvfrom(100)[0]))
`;
      const py = spawnPython(code, [], 10_000);
      const s = socket(AF_INET, SOCK_DGRAM);
      try {
        const port = Number(await within(py.firstLine, 5000, "python port"));
        await s.sendto("abcdefgh", ["127.0.0.1", port]);
        await s.sendto("next", ["127.0.0.1", port]);
        const lines = await within(py.ok(), 5000, "python exit");
        assert.deepEqual(lines.slice(1), ["b'abcd'", "b'next'"]);
      } finally {
        await s.close();
        await py.close();
      }
    },
  );
});

describe("socat", () => {
  for (const [v, host, bind] of [
    ["4", "127.0.0.1", "127.0.0.1"],
    ["6", "::1", "[::1]"],
  ] as const) {
    test(`socat UDP${v} client sends stdin to a sockit server and prints the reply`, SOCAT, async () => {
      const srv = socket(v === "6" ? AF_INET6 : AF_INET, SOCK_DGRAM);
      let c: Child | undefined;
      try {
        await srv.bind([host, 0]);
        const port = srv.getsockname()[1];
        c = start(peerPath("socat"), ["-T", "5", "-", `UDP${v}:${bind}:${port}`]);
        c.proc.stdin!.write("hello from socat\n");
        const [d, from] = await within(srv.recvfrom(65535), 5000, "datagram from socat");
        assert.equal(d.toString(), "hello from socat\n");
        await srv.sendto(Buffer.from(d.toString().toUpperCase()), from!);
        await c.line(/HELLO FROM SOCAT\n/, 5000);
        c.proc.stdin!.end();
        assert.equal(await c.exit(5000), 0, c.stderr());
      } finally {
        await stop(c);
        await srv.close();
      }
    });

    test(
      `sockit client talks to a socat UDP${v} echo server (UDP${v}-RECVFROM + EXEC:cat)`,
      SOCAT,
      async () => {
        const c = start(peerPath("socat"), ["-T", "5", `UDP${v}-RECVFROM:0,bind=${bind}`, "EXEC:cat"]);
        const pc = await listenPacket(v === "6" ? "udp6" : "udp4", v === "6" ? "[::1]:0" : "127.0.0.1:0");
        try {
          const port = await waitUdpPort(c.proc.pid!, 5000);
          const to = v === "6" ? `[::1]:${port}` : `127.0.0.1:${port}`;
          await pc.writeTo("echo me\n", to);
          const p = await within(pc.readFrom(), 5000, "echo from socat");
          assert.equal(p.data.toString(), "echo me\n");
          assert.equal(p.endpoint.port, port);
          assert.equal(p.endpoint.address, host);
        } finally {
          await pc.close();
          await stop(c);
        }
      },
    );
  }
});

describe("OpenBSD netcat (nc -u)", () => {
  test(
    "nc -u client sends stdin lines as datagrams to a sockit server and prints the replies",
    NC,
    async () => {
      const pc = await listenPacket("udp4", "127.0.0.1:0");
      let c: Child | undefined;
      try {
        c = start(peerPath("nc"), ["-u", "-q", "1", "127.0.0.1", String(pc.port)]);
        c.proc.stdin!.write("line one\n");
        const p = await within(pc.readFrom(), 5000, "datagram from nc");
        assert.equal(p.data.toString(), "line one\n");
        assert.equal(p.endpoint.address, "127.0.0.1");
        await pc.writeTo("reply one\n", p.endpoint);
        await c.line(/reply one\n/, 5000);
        c.proc.stdin!.write("line two\n");
        const q = await within(pc.readFrom(), 5000, "second datagram from nc");
        assert.equal(q.data.toString(), "line two\n", "each stdin write is its own datagram");
        assert.equal(q.endpoint.port, p.endpoint.port);
        c.proc.stdin!.end();
        assert.equal(await c.exit(5000), 0, c.stderr());
      } finally {
        await stop(c);
        await pc.close();
      }
    },
  );

  test("nc -u -l server prints a sockit datagram and answers from its stdin", NC, async () => {
    const c = start(peerPath("nc"), ["-u", "-l", "127.0.0.1", "0"]);
    const s = socket(AF_INET, SOCK_DGRAM);
    try {
      const port = await waitUdpPort(c.proc.pid!, 5000);
      await s.bind(["127.0.0.1", 0]);
      await s.sendto("hello nc\n", ["127.0.0.1", port]);
      await c.line(/hello nc\n/, 5000);
      // nc has now connected to the first sender; its stdin goes back to us
      c.proc.stdin!.write("hello sockit\n");
      const [d, from] = await within(s.recvfrom(1024), 5000, "datagram from nc");
      assert.equal(d.toString(), "hello sockit\n");
      assert.deepEqual(from, ["127.0.0.1", port]);
    } finally {
      await s.close();
      await stop(c);
    }
  });

  test("nc -6 -u client over ::1 to a sockit server", NC, async () => {
    const srv = socket(AF_INET6, SOCK_DGRAM);
    let c: Child | undefined;
    try {
      await srv.bind(["::1", 0]);
      const port = srv.getsockname()[1];
      c = start(peerPath("nc"), ["-6", "-u", "-q", "1", "::1", String(port)]);
      c.proc.stdin!.write("v6 line\n");
      const [d, from] = await within(srv.recvfrom(1024), 5000, "datagram from nc");
      assert.equal(d.toString(), "v6 line\n");
      assert.equal((from as [string, number, number, number])[0], "::1");
      await srv.sendto("v6 reply\n", from!);
      await c.line(/v6 reply\n/, 5000);
    } finally {
      await stop(c);
      await srv.close();
    }
  });
});
