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
import { fileURLToPath } from "node:url";
import { dial } from "../src/net/index.js";
import { fdCount, sockstat, socketsOn } from "./support/kernel.js";
import { SOCKIT, sockit, startServe } from "./support/sockit-serve.js";
import { waitFor } from "./support/kit.js";
import { needs } from "./support/peers.js";
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
    try:
        conns.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    except ConnectionResetError:
        # shed (accepted and reset) before this connect() returned: a loaded machine lets the
        # server's reset in between the handshake and the return
        pass
    time.sleep(0.01)
print("connected", flush=True)
time.sleep(60)
`;

/** ss reads the kernel's sockets; namespaces need ip (and root). */
const SS = { ...LIMIT, skip: needs(["ss"]) };
const NETNS = { ...LIMIT, skip: process.getuid?.() !== 0 ? "network namespaces need root" : needs(["ip"]) };

describe("kernel memory", () => {
  test(
    "chargen clients that never read leave no orphaned send queues: the limits bound kernel memory",
    SS,
    async (t) => {
      const clients = 200;
      // the defaults: 1 MiB per connection, 16 per source, 5 s to finish
      const srv = await startServe(["chargen", "--stats-every", "1"], ["-v"]);
      const port = srv.port("chargen");
      const before = sockstat();
      const holder = start("python3", ["-c", HOLD, String(port), String(clients)]);
      try {
        await holder.line(/connected/, 30_000);
        await sleep(1000); // the scenario: the last connections get the time to take their megabyte
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
  test("the per-source limit counts every address of one IPv6 /64 as one source", NETNS, async () => {
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

/**
 * Python: WAVES waves of PER connections to 127.0.0.1:PORT, GAP seconds apart; each connection
 * sends until the server stops taking bytes (its echo is never read), then stays open.
 */
const STALLED_WAVES = `
import socket, sys, time
port, waves, per, gap = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
held = []
chunk = b"x" * 65536
for w in range(waves):
    for _ in range(per):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        stuck_since = None
        until = time.time() + 2
        while time.time() < until:
            try:
                s.send(chunk)
                stuck_since = None
            except BlockingIOError:
                stuck_since = stuck_since or time.time()
                if time.time() - stuck_since > 0.05:
                    break
                time.sleep(0.005)
            except OSError:
                break
        held.append(s)
    print("wave", w, flush=True)
    time.sleep(gap)
print("done", flush=True)
time.sleep(60)
`;

describe("descriptors", () => {
  test("a connection closed for idleness gives its descriptor back at once", LIMIT, async (t) => {
    const max = 10;
    const waves = 3;
    const srv = await startServe([
      "echo",
      "--max-conns",
      String(max),
      "--max-per-source",
      String(max),
      "--idle",
      "0.5",
    ]);
    const pid = srv.child.proc.pid!;
    const base = fdCount(pid);
    const clients = start("python3", [
      "-c",
      STALLED_WAVES,
      String(srv.port("echo")),
      String(waves),
      String(max),
      "1.5",
    ]);
    let peak = 0;
    let done = false;
    const finished = clients.line(/done/, 30_000).finally(() => (done = true));
    try {
      for (let i = 0; i < 600 && !done; i++) {
        peak = Math.max(peak, fdCount(pid) - base);
        await sleep(50);
      }
      await finished;
      peak = Math.max(peak, fdCount(pid) - base);
      t.diagnostic(
        `${waves} waves of ${max} stalled clients: at most ${peak} more descriptors than at start`,
      );
      // each wave is idle-closed before the next arrives: its descriptors must be gone by then
      assert.ok(peak <= max + 2, `${peak} descriptors in use for --max-conns ${max}`);
    } finally {
      clients.kill("SIGKILL");
      await clients.exit(5000).catch(() => {});
      assert.equal(await srv.stop(), 0);
    }
    assert.match(srv.child.stderr(), new RegExp(`idle-closed ${waves * max}\\b`));
  });

  test(
    "past the descriptor limit connections are shed, counted and logged; the server recovers",
    LIMIT,
    async () => {
      const clients = 100;
      const limits = ["--max-conns", String(clients), "--max-per-source", String(clients)];
      const args = ["-v", "serve", "echo", ...limits, "--json", "--port", "all=0", "--stats-every", "1"];
      const srv = start("prlimit", ["--nofile=64", process.execPath, SOCKIT, ...args]);
      const holder = { kill: () => {}, exit: async () => null } as unknown as ReturnType<typeof start>;
      let hold = holder;
      try {
        const [line] = await srv.line(/^\{"listening".*\}$/m, 10_000);
        const port = (JSON.parse(line) as { listening: Array<{ port: number }> }).listening[0]!.port;
        hold = start("python3", ["-c", HOLD, String(port), String(clients)]);
        await hold.line(/connected/, 30_000);
        const err = srv.stderr();
        const room = Number(/leaves room for (\d+) connections/.exec(err)?.[1]);
        assert.ok(room > 0 && room < 64, `the warning names the room: ${err}`);
        // ready when a counters line (one a second) has counted every client past the room
        const shedNow = () => lastCounters(srv.stderr())["shed(descriptor limit)"] ?? 0;
        await waitFor(() => shedNow() >= clients - room, 10_000, "the shedding counted").catch(() => {});
        const shed = shedNow();
        assert.ok(shed >= clients - room, `shed ${shed} of ${clients} with room for ${room}`);
        assert.match(
          srv.stderr(),
          /refused echo\/tcp peer 127\.0\.0\.1:\d+: descriptor limit \(64 open files; raise ulimit -n/,
        );
        hold.kill("SIGKILL");
        await hold.exit(5000);
        let ok = false;
        for (let i = 0; i < 50 && !ok; i++) {
          ok = (await sockit(["echo", `127.0.0.1:${port}`])).code === 0;
          if (!ok) await sleep(100);
        }
        assert.ok(ok, "served again once the clients left");
      } finally {
        hold.kill("SIGKILL");
        await hold.exit(5000).catch(() => {});
        srv.kill("SIGTERM");
        assert.equal(await srv.exit(10_000), 0);
      }
    },
  );

  test(
    "a process out of descriptors (EMFILE) counts and logs it; accept works again once some are free",
    LIMIT,
    async () => {
      const rfc = fileURLToPath(new URL("../src/services/rfc/index.js", import.meta.url));
      const script = `
import fs from "node:fs";
import { serve, formatEvent } from ${JSON.stringify(rfc)};
const host = await serve({ services: [{ name: "echo", port: 0 }], limits: { idleMs: 400 },
  onEvent: (e) => console.error(formatEvent(e)) });
const lines = [];
process.stdin.on("data", async (d) => {
  for (const cmd of d.toString().trim().split("\\n")) {
    if (cmd === "release") { for (const fd of held) fs.closeSync(fd); held.length = 0; console.log("released"); }
    if (cmd === "stop") { console.log(JSON.stringify(host.counters)); await host.close(); process.exit(0); }
  }
});
const held = [];
try { for (;;) held.push(fs.openSync("/dev/null", "r")); } catch {}
console.log(JSON.stringify({ port: host.bound[0].port, held: held.length }));
`;
      const child = start("prlimit", ["--nofile=64", process.execPath, "--input-type=module", "-e", script]);
      try {
        const [line] = await child.line(/^\{"port".*\}$/m, 10_000);
        const { port, held } = JSON.parse(line) as { port: number; held: number };
        assert.ok(held > 0, "the descriptors were used up");
        // the runtime cannot accept: it closes the connection unserved
        const c = await dial("tcp", `127.0.0.1:${port}`);
        c.setReadDeadline(Date.now() + 3000);
        assert.equal(await c.read().catch(() => null), null);
        c.abort();
        await sleep(500); // the scenario: a sweep of the host runs while descriptors are exhausted
        child.proc.stdin!.write("release\n");
        await child.line(/released/, 5000);
        const again = await dial("tcp", `127.0.0.1:${port}`);
        try {
          await again.write("back\n");
          again.setReadDeadline(Date.now() + 3000);
          assert.equal((await again.readExactly(5)).toString(), "back\n");
        } finally {
          again.abort();
        }
        child.proc.stdin!.write("stop\n");
        const [counters] = await child.line(/^\{"tcpAccepted".*\}$/m, 10_000);
        assert.ok(
          (JSON.parse(counters) as { tcpDescriptorsExhausted: number }).tcpDescriptorsExhausted >= 1,
          counters,
        );
        assert.equal(await child.exit(10_000), 0, child.stderr());
        assert.match(child.stderr(), /error echo\/tcp peer -: out of file descriptors \(EMFILE\/ENFILE\)/);
      } finally {
        child.kill("SIGKILL");
        await child.exit(5000).catch(() => {});
      }
    },
  );
});
