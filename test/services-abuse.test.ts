/**
 * The abuse cases the RFC services are known for (CERT CA-1996-01, fraggle, chargen
 * amplification), against `sockit serve` in a child process: datagrams from privileged or served
 * ports get no reply, a flood is answered at no more than the configured rate, a chargen client
 * that never reads costs bounded memory, connection limits refuse with a message while others
 * are served. Sending from port 19 or spoofing a source port needs root (these tests run as root
 * here and in CI).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Conn, dial, listenPacket } from "../src/net/index.js";
import { settled, waitFor } from "./support/kit.js";
import { runPython } from "./support/python.js";
import { sockit, startServe } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

const LIMIT = { timeout: 60_000 };

/** Resident set size of process `pid` in bytes (from /proc). */
function rss(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m?.[1] ?? 0) * 1024;
}

/** The last counters line a `sockit -v serve` printed, as name → number. */
function lastCounters(stderr: string): Record<string, number> {
  const lines = stderr.split("\n").filter((l) => l.includes("counters: "));
  const last = lines.at(-1) ?? "";
  const out: Record<string, number> = {};
  for (const part of last.replace(/^.*counters: /, "").split(", ")) {
    const m = /^(.*) (\d+)$/.exec(part);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Python: send one datagram from 127.0.0.1:SRC (a privileged port: root) and wait for a reply. */
const FROM_PORT = `
import socket, sys
dst = int(sys.argv[1])
for src in [int(p) for p in sys.argv[2].split(",")]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", src))
    except OSError:
        s.close()
        continue
    s.settimeout(float(sys.argv[3]))
    s.sendto(b"loop?", ("127.0.0.1", dst))
    try:
        data, _ = s.recvfrom(65535)
        print(src, "reply", data.decode())
    except socket.timeout:
        print(src, "no-reply")
    s.close()
    break
else:
    print("none", "no free port")
`;

/** Python: a raw UDP datagram with a spoofed source port (what a fraggle attacker sends). */
const SPOOF = `
import socket, struct, sys
src, dst = int(sys.argv[1]), int(sys.argv[2])
payload = b"spoofed"
hdr = struct.pack("!HHHH", src, dst, 8 + len(payload), 0)  # checksum 0: none (IPv4)
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
except PermissionError:
    print("no-raw")
    sys.exit(0)
s.sendto(hdr + payload, ("127.0.0.1", 0))
print("sent")
`;

describe("UDP abuse", () => {
  test(
    "an echo datagram from source port 19 (chargen) gets no reply; from a high port it does",
    LIMIT,
    async () => {
      const srv = await startServe(["echo", "--udp", "--stats-every", "1"], ["-v"]);
      try {
        const udp = String(srv.port("echo", "udp"));
        const low = await runPython(FROM_PORT, [udp, "19,17,13,7,9,1000,1001,1002", "1.0"]);
        assert.equal(low.code, 0, low.stderr);
        assert.match(low.stdout, /^\d+ no-reply\n$/, "no reply to a privileged source port");
        const src = Number(low.stdout.split(" ")[0]);
        assert.ok(src < 1024);
        const high = await runPython(FROM_PORT, [udp, "20000,20001,20002,20003,20004,20005", "3.0"]);
        assert.match(high.stdout, /^\d+ reply loop\?\n$/, "a normal client is answered");
      } finally {
        assert.equal(await srv.stop(), 0);
      }
      assert.match(srv.child.stderr(), /dropped echo\/udp peer 127\.0\.0\.1:\d+: source port below 1024/);
      assert.match(
        srv.child.stderr(),
        /counters: .*udp received 2, replied 1, dropped\(source port < 1024\) 1/,
      );
    },
  );

  test(
    "a spoofed datagram 'from' the chargen port to echo is dropped: no echo↔chargen loop",
    LIMIT,
    async (t) => {
      const srv = await startServe(["echo", "chargen", "--udp"], ["-v"]);
      try {
        const r = await runPython(SPOOF, [
          String(srv.port("chargen", "udp")),
          String(srv.port("echo", "udp")),
        ]);
        assert.equal(r.code, 0, r.stderr);
        if (r.stdout.trim() === "no-raw") {
          t.skip("raw sockets need CAP_NET_RAW");
          return;
        }
        // readiness: the server has logged the looped datagram it dropped
        await waitFor(
          () => /dropped echo\/udp peer .*\(loop\)/.test(srv.child.stderr()),
          5000,
          "the server to drop the looped datagram",
        );
      } finally {
        assert.equal(await srv.stop(), 0);
      }
      const err = srv.child.stderr();
      assert.match(
        err,
        /dropped echo\/udp peer 127\.0\.0\.1:\d+: source port is one this host serves \(loop\)/,
      );
      assert.match(err, /counters: .*udp received 1, dropped\(loop\) 1/);
      assert.doesNotMatch(err, /replied/);
    },
  );

  test("a flood from one source is answered at no more than the configured rate", LIMIT, async () => {
    const rate = 10;
    const burst = 20;
    const srv = await startServe(["echo", "--udp", "--udp-rate", String(rate), "--udp-burst", String(burst)]);
    const pc = await listenPacket("udp", "127.0.0.1:0");
    try {
      const to = `127.0.0.1:${srv.port("echo", "udp")}`;
      let replies = 0;
      const counting = (async () => {
        for await (const _ of pc) replies++;
      })();
      const t0 = performance.now();
      let sent = 0;
      // 2 s at about 1 000 datagrams/s: 100 × the allowed rate
      while (performance.now() - t0 < 2000 && sent < 4000) {
        for (let i = 0; i < 20; i++, sent++) await pc.writeTo(`flood ${sent}`, to);
        await sleep(20); // the scenario: the flood's pace, 20 datagrams every 20 ms
      }
      const elapsed = (performance.now() - t0) / 1000;
      await settled(() => replies); // replies still in flight have arrived
      await pc.close();
      await counting;
      const allowed = burst + rate * (elapsed + 0.5);
      assert.ok(sent >= 1000, `sent ${sent}`);
      assert.ok(replies >= burst, `at least the burst is answered: ${replies}`);
      assert.ok(
        replies <= allowed,
        `${replies} replies to ${sent} datagrams in ${elapsed.toFixed(2)} s > ${allowed}`,
      );
    } finally {
      await pc.close();
      assert.equal(await srv.stop(), 0);
    }
    assert.match(srv.child.stderr(), /limited\(per source\) \d+/);
  });
});

describe("TCP abuse", () => {
  test("chargen clients that never read do not grow the server's memory", LIMIT, async (t) => {
    const clients = 100;
    const srv = await startServe(
      [
        "chargen",
        "--chargen-bytes",
        String(2 ** 40),
        "--chargen-seconds",
        "600",
        "--max-per-source",
        String(clients),
        "--max-conns",
        String(clients),
        "--stats-every",
        "1",
      ],
      ["-v"],
    );
    const pid = srv.child.proc.pid!;
    // one Python process holds the clients: small receive buffers, never a recv(), until killed
    const py = `
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    conns.append(s)
print("connected", flush=True)
time.sleep(60)
`;
    const holder = start("python3", ["-c", py, String(srv.port("chargen")), String(clients)]);
    try {
      const before = rss(pid);
      await holder.line(/connected/, 20_000);
      // wait (bounded) until the server has filled the socket buffers and stalled
      const out = () => lastCounters(srv.child.stderr())["bytes out"] ?? 0;
      // readiness: bytes out stop growing for over two --stats-every periods (a counters line
      // is printed only when they change)
      await settled(out, 2200, 25_000);
      const early = rss(pid);
      const out1 = out();
      await sleep(3000); // the scenario: 3 s with every client stalled
      const late = rss(pid);
      const out2 = out();
      t.diagnostic(
        `server RSS: ${(before / 2 ** 20).toFixed(1)} MiB before, ${(early / 2 ** 20).toFixed(1)} MiB with ${clients} stalled clients, ${(late / 2 ** 20).toFixed(1)} MiB 3 s later; bytes written ${out1} then ${out2}`,
      );
      assert.ok(out1 > 0, "chargen wrote until the buffers filled");
      // what may still trickle out fills the kernel's socket buffers (tcp_wmem autotuning), not the process
      assert.ok(
        out2 - out1 < Math.max(2 ** 20, out1 / 10),
        `the stalled server wrote ${out2 - out1} more bytes in 3 s`,
      );
      assert.ok(late - early < 8 * 2 ** 20, `RSS grew ${late - early} bytes while every client was stalled`);
      assert.ok(late - before < 64 * 2 ** 20, `RSS grew ${late - before} bytes for ${clients} clients`);
    } finally {
      holder.kill("SIGKILL");
      await holder.exit(5000).catch(() => {});
      assert.equal(await srv.stop(), 0);
    }
  });

  test("past the total limit clients are refused with a message; the others are served", LIMIT, async () => {
    const srv = await startServe(["echo", "--max-conns", "5"]);
    const at = `127.0.0.1:${srv.port("echo")}`;
    const conns: Conn[] = [];
    try {
      for (let i = 0; i < 5; i++) conns.push(await dial("tcp", at));
      const echoes = async (c: Conn, s: string) => {
        await c.write(s);
        c.setReadDeadline(Date.now() + 5000);
        return (await c.readExactly(s.length)).toString();
      };
      for (const [i, c] of conns.entries()) assert.equal(await echoes(c, `c${i}`), `c${i}`);
      const r = await sockit(["echo", at]);
      assert.equal(r.code, 6);
      assert.match(r.stderr, /sockit: too many connections \(limit 5\); try again later/);
      for (const [i, c] of conns.entries()) assert.equal(await echoes(c, `again${i}`), `again${i}`);
      await conns.pop()!.close();
      // a slot frees when a client leaves: the server notices the close, then serves again
      await waitFor(async () => (await sockit(["echo", at])).code === 0, 10_000, "a slot to free", 20);
    } finally {
      for (const c of conns) c.abort();
      assert.equal(await srv.stop(), 0);
    }
    assert.match(srv.child.stderr(), /refused\(total limit\) [1-9]/);
  });

  test("a silent client is closed after --idle seconds", LIMIT, async () => {
    const srv = await startServe(["echo", "--idle", "0.5"]);
    const c = await dial("tcp", `127.0.0.1:${srv.port("echo")}`);
    try {
      const t0 = Date.now();
      c.setReadDeadline(Date.now() + 5000);
      assert.equal(await c.read(), null);
      const waited = Date.now() - t0;
      assert.ok(waited >= 400 && waited < 4000, `closed after ${waited} ms`);
    } finally {
      c.abort();
      assert.equal(await srv.stop(), 0);
    }
    assert.match(srv.child.stderr(), /idle-closed 1/);
  });
});
