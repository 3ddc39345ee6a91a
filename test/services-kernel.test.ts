/**
 * What the RFC services cost the kernel and the process, against `sockit serve` in a child
 * process: clients that never read cannot leave orphaned sockets holding send queues (checked in
 * /proc/net/sockstat and with `ss` on the server's port), the per-source limit counts an IPv6 /64
 * as one source (inside a network namespace with many addresses of one /64), a connection closed
 * for idleness gives its descriptor back at once, and running out of descriptors is shed and
 * counted rather than silent. Network namespaces need root (these tests run as root here and in CI).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sockstat, socketsOn } from "./support/kernel.js";
import { SOCKIT, startServe } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

const LIMIT = { timeout: 90_000 };

/** The last counters line a `sockit -v serve` printed, as name → number. */
function lastCounters(stderr: string): Record<string, number> {
  const last =
    stderr
      .split("\n")
      .filter((l) => l.includes("counters: "))
      .at(-1) ?? "";
  const out: Record<string, number> = {};
  for (const part of last.replace(/^.*counters: /, "").split(", ")) {
    const m = /^(.*) (\d+)$/.exec(part);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Python: N connections to 127.0.0.1:PORT, 10 ms apart, never a recv(), held until killed. */
const HOLD = `
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    conns.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    time.sleep(0.01)
print("connected", flush=True)
time.sleep(60)
`;

describe("kernel memory", () => {
  test(
    "chargen clients that never read leave no orphaned send queues: the limits bound kernel memory",
    LIMIT,
    async (t) => {
      const clients = 200;
      // the defaults: 1 MiB per connection, 16 per source, 5 s to finish
      const srv = await startServe(["chargen", "--stats-every", "1"], ["-v"]);
      const port = srv.port("chargen");
      const before = sockstat();
      const holder = start("python3", ["-c", HOLD, String(port), String(clients)]);
      try {
        await holder.line(/connected/, 30_000);
        await sleep(1000); // the last connections have had their megabyte
        const mine = socketsOn(port).filter((s) => s.state !== "LISTEN" && s.state !== "TIME-WAIT");
        const orphans = mine.filter((s) => !s.owned);
        const queued = mine.reduce((n, s) => n + s.wqueued + s.rmem, 0);
        const after = sockstat();
        t.diagnostic(
          `server port: ${mine.length} sockets, ${orphans.length} orphaned, ${(queued / 2 ** 20).toFixed(1)} MiB queued; ` +
            `sockstat: orphans ${before.orphan} → ${after.orphan}, TCP memory ${before.memPages} → ${after.memPages} pages`,
        );
        assert.equal(
          orphans.length,
          0,
          `sockets on the server's port that no process holds: ${orphans.length}`,
        );
        const perSource = srv.limits.maxPerSource!;
        assert.ok(
          mine.length <= perSource,
          `${mine.length} server sockets for one source (limit ${perSource})`,
        );
        assert.ok(queued <= perSource * 1.5 * 2 ** 20, `${queued} bytes queued on the server's sockets`);
        // machine-wide (other programs run too): far below one orphaned megabyte per client
        assert.ok(after.orphan - before.orphan < clients / 2, `orphans ${before.orphan} → ${after.orphan}`);
        assert.ok(
          after.memPages - before.memPages < (clients * 2 ** 20) / 4096 / 2,
          `TCP memory ${before.memPages} → ${after.memPages} pages`,
        );
      } finally {
        holder.kill("SIGKILL");
        await holder.exit(5000).catch(() => {});
        assert.equal(await srv.stop(), 0);
      }
      const c = lastCounters(srv.child.stderr());
      assert.equal(c["tcp accepted"], clients);
      assert.ok((c["reset(linger)"] ?? 0) >= clients - 2 * srv.limits.maxPerSource!, JSON.stringify(c));
      assert.match(srv.child.stderr(), /byte budget spent; then reset: its slot went to a new client/);
    },
  );
});

/** Python: one connection from each source address (all held open), one line each way. */
const FROM_EACH = `
import socket, sys
port, server = int(sys.argv[1]), sys.argv[2]
held = []
for src in sys.argv[3:]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect((server, port))
    s.sendall(b"hi\\n")
    got = b""
    while not got.endswith(b"\\n"):
        b = s.recv(512)
        if not b:
            break
        got += b
    print(src, got.decode().strip(), flush=True)
    held.append(s)
`;

describe("sources", () => {
  test("the per-source limit counts every address of one IPv6 /64 as one source", LIMIT, async () => {
    const ns = `sockit-svc64-${process.pid}`;
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
    const sameNet = Array.from({ length: 8 }, (_, i) => `2001:db8::a:${i + 1}`);
    const otherNet = "2001:db8:0:1::1";
    ip("netns", "add", ns);
    try {
      ip("-n", ns, "link", "set", "lo", "up");
      for (const a of ["2001:db8::1", ...sameNet, otherNet]) {
        ip("-n", ns, "addr", "add", `${a}/64`, "dev", "lo", "nodad");
      }
      const args = [
        "serve",
        "echo",
        "--host",
        "2001:db8::1",
        "--max-per-source",
        "4",
        "--json",
        "--port",
        "all=0",
      ];
      const srv = start("ip", ["netns", "exec", ns, process.execPath, SOCKIT, ...args]);
      try {
        const [line] = await srv.line(/^\{"listening".*\}$/m, 10_000);
        const port = (JSON.parse(line) as { listening: Array<{ port: number }> }).listening[0]!.port;
        const py = start("ip", [
          "netns",
          "exec",
          ns,
          "python3",
          "-c",
          FROM_EACH,
          String(port),
          "2001:db8::1",
          ...sameNet,
          otherNet,
        ]);
        assert.equal(await py.exit(20_000), 0, py.stderr());
        const got = new Map(
          py
            .stdout()
            .trim()
            .split("\n")
            .map((l) => [l.split(" ")[0]!, l.slice(l.indexOf(" ") + 1)]),
        );
        const refusal = "sockit: too many connections from 2001:db8::/64 (limit 4); try again later";
        assert.deepEqual(
          sameNet.map((a) => got.get(a)),
          [...Array(4).fill("hi"), ...Array(4).fill(refusal)],
          "four addresses of the /64 are served, the other four refused",
        );
        assert.equal(got.get(otherNet), "hi", "another /64 is another source");
      } finally {
        srv.kill("SIGTERM");
        await srv.exit(10_000);
      }
    } finally {
      ip("netns", "del", ns);
    }
  });
});
