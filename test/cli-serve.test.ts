/**
 * `sockit serve` and the service clients end to end, as child processes: the table, the help,
 * graceful shutdown on signals, limits seen from a client, quote files, exit codes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { LIMIT_FLAGS } from "../src/cli/commands/serve.js";
import { dial, listen, listenPacket } from "../src/net/index.js";
import { DEFAULT_LIMITS, SERVICE_NAMES, WELL_KNOWN_PORTS } from "../src/services/rfc/limits.js";
import { within } from "./support/leaks.js";
import { SOCKIT, sockit, startServe } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

const LIMIT = { timeout: 30_000 };

async function portsFree(ports: number[]): Promise<boolean> {
  for (const p of ports) {
    try {
      const ln = await listen("tcp", `127.0.0.1:${p}`);
      await ln.close();
    } catch {
      return false;
    }
  }
  return true;
}

describe("sockit serve", () => {
  test("--help lists every limit with its flag and default, and the safety rules", LIMIT, async () => {
    const r = await sockit(["serve", "--help"]);
    assert.equal(r.code, 0);
    for (const f of LIMIT_FLAGS) {
      const d = DEFAULT_LIMITS[f.key] / f.scale;
      assert.match(
        r.stdout.replace(/\s+/g, " "),
        new RegExp(`--${f.flag} <\\w+> .*?\\(default ${d}\\)`),
        f.flag,
      );
    }
    assert.match(r.stdout, /UDP is off unless --udp/);
    assert.match(r.stdout, /ports below 1024/);
  });

  test(
    "with no arguments: all six services on 127.0.0.1 at 7000 + the well-known port, a table on stdout",
    LIMIT,
    async (t) => {
      const ports = SERVICE_NAMES.map((n) => 7000 + WELL_KNOWN_PORTS[n]);
      if (!(await portsFree(ports))) {
        t.skip("a default port (7007–7037) is in use on this machine");
        return;
      }
      const c = start(process.execPath, [SOCKIT, "serve"]);
      try {
        await c.line(/^time .*$/m);
        const rows = c.stdout().trim().split("\n");
        assert.match(rows[0]!, /^SERVICE\s+PROTO\s+LISTENING ON\s+TRY IT FROM ANOTHER TERMINAL$/);
        assert.deepEqual(
          rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3).join(" ")),
          SERVICE_NAMES.map((n) => `${n} tcp 127.0.0.1:${7000 + WELL_KNOWN_PORTS[n]}`),
        );
        assert.match(c.stdout(), /sockit echo 127\.0\.0\.1:7007 +or: nc 127\.0\.0\.1 7007/);
        assert.match(c.stdout(), /rdate -p -o 7037 127\.0\.0\.1/);
        const r = await sockit(["echo", "127.0.0.1:7007"]);
        assert.equal(r.stdout, "hello from sockit\n");
      } finally {
        c.kill("SIGINT");
        assert.equal(await c.exit(10_000), 0, "SIGINT stops it cleanly");
      }
      assert.match(c.stderr(), /serving 6 services \(TCP only; --udp adds UDP\); Ctrl-C stops/);
      assert.match(c.stderr(), /SIGINT: shutting down/);
      assert.match(c.stderr(), /counters: tcp accepted 1/);
    },
  );

  test("--port-base and --port move the services", LIMIT, async () => {
    const base = await (async () => {
      for (let i = 0; i < 50; i++) {
        const b = 20000 + Math.floor(Math.random() * 10000);
        if (await portsFree([b + 7, b + 37])) return b;
      }
      throw new Error("no free port base");
    })();
    const c = start(process.execPath, [
      SOCKIT,
      "serve",
      "echo",
      "time",
      "--port-base",
      String(base),
      "--json",
    ]);
    try {
      const [line] = await c.line(/^\{.*\}$/m);
      const j = JSON.parse(line) as { listening: Array<{ service: string; port: number }> };
      assert.deepEqual(
        j.listening.map((l) => [l.service, l.port]),
        [
          ["echo", base + 7],
          ["time", base + 37],
        ],
      );
    } finally {
      c.kill("SIGTERM");
      assert.equal(await c.exit(10_000), 0);
    }
  });

  test("SIGTERM: stops accepting, connected clients see the end, exit 0", LIMIT, async () => {
    const srv = await startServe(["echo", "chargen"]);
    const e = await dial("tcp", `127.0.0.1:${srv.port("echo")}`);
    const g = await dial("tcp", `127.0.0.1:${srv.port("chargen")}`);
    try {
      await e.write("x");
      e.setReadDeadline(Date.now() + 5000);
      assert.equal((await e.read())!.toString(), "x");
      g.setReadDeadline(Date.now() + 5000);
      assert.ok(await g.read());
      const stopped = srv.stop();
      assert.equal(await within(e.read(), 5000, "echo client sees EOF"), null);
      assert.equal(await stopped, 0);
      await assert.rejects(dial("tcp", `127.0.0.1:${srv.port("echo")}`), /ECONNREFUSED/);
      assert.match(srv.child.stderr(), /SIGTERM: shutting down; clients get 5 s to finish/);
    } finally {
      e.abort();
      g.abort();
    }
  });

  test("a second signal cuts the grace period short", LIMIT, async () => {
    const srv = await startServe(["echo", "--grace", "60"]);
    const c = await dial("tcp", `127.0.0.1:${srv.port("echo")}`);
    // never reading: the server blocks writing the echo back, so this client cannot finish
    const flood = (async () => {
      for (let i = 0; i < 256; i++) await c.write(Buffer.alloc(1 << 20));
    })().catch(() => {});
    try {
      await new Promise((r) => setTimeout(r, 300));
      srv.child.kill("SIGTERM");
      await srv.child.line(/^/m, 100).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(srv.child.proc.exitCode, null, "still in its grace period");
      srv.child.kill("SIGTERM");
      assert.equal(await srv.child.exit(5000), 0);
      await within(flood, 5000, "the client's writes fail");
    } finally {
      c.abort();
    }
  });

  test(
    "over the per-source limit a client reads why it was refused; -v logs it; others go on",
    LIMIT,
    async () => {
      const srv = await startServe(["echo", "--max-per-source", "1"], ["-v"]);
      const a = await dial("tcp", `127.0.0.1:${srv.port("echo")}`);
      try {
        await a.write("first");
        a.setReadDeadline(Date.now() + 5000);
        assert.equal((await a.readExactly(5)).toString(), "first");
        const r = await sockit(["echo", `127.0.0.1:${srv.port("echo")}`]);
        assert.equal(r.code, 6);
        assert.match(
          r.stderr,
          /the reply differs from what was sent \(sent 18 bytes, got 72: "sockit: too many connections from 127\.0\.0\.1 \(limit 1\); try again later\\r\\n"\)/,
        );
        await a.write("still");
        assert.equal((await a.readExactly(5)).toString(), "still");
        await a.close();
        assert.equal(await srv.stop(), 0);
        const err = srv.child.stderr();
        assert.match(err, /refused echo\/tcp peer 127\.0\.0\.1:\d+: per-source connection limit \(1\)/);
        assert.match(err, /counters: tcp accepted 1, refused\(per-source limit\) 1/);
      } finally {
        a.abort();
        srv.child.kill("SIGKILL");
      }
    },
  );

  test(
    "--quotes serves quotes from a file; a quote of 512 bytes is refused with its line",
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "sockit-quotes-"));
      try {
        const good = join(dir, "good.txt");
        writeFileSync(good, "The only quote.\n%\n");
        const srv = await startServe(["qotd", "--quotes", good]);
        const r = await sockit(["qotd", `127.0.0.1:${srv.port("qotd")}`]);
        assert.equal(r.stdout, "The only quote.\n");
        assert.equal(await srv.stop(), 0);
        const bad = join(dir, "bad.txt");
        writeFileSync(bad, `short\n\n${"x".repeat(600)}\n`);
        const b = await sockit(["serve", "qotd", "--quotes", bad, "--port", "all=0"]);
        assert.equal(b.code, 1);
        assert.match(b.stderr, /--quotes .*bad\.txt: the quote starting at line 3 has 602 bytes/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("a port in use: exit 6 and a message naming the address", LIMIT, async () => {
    const busy = await listen("tcp", "127.0.0.1:0");
    try {
      const r = await sockit(["serve", "echo", "--port", `echo=${busy.port}`]);
      assert.equal(r.code, 6);
      assert.match(
        r.stderr,
        new RegExp(`bind 127\\.0\\.0\\.1:${busy.port}: address already in use \\(EADDRINUSE\\)`),
      );
    } finally {
      await busy.close();
    }
  });

  test("bad arguments: exit 1 with the reason", LIMIT, async () => {
    const r = await sockit(["serve", "gopher"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown service gopher/);
  });
});

describe("the service clients", () => {
  test("echo -c, time, daytime, qotd, chargen against sockit serve", LIMIT, async () => {
    const srv = await startServe(["--udp"]);
    const at = (s: string) => `127.0.0.1:${srv.port(s)}`;
    try {
      const e = await sockit(["-v", "echo", at("echo"), "-c", "3", "ping"]);
      assert.equal(e.stdout, "ping\nping\nping\n");
      assert.equal((e.stderr.match(/5 bytes back intact in [\d.]+ ms/g) ?? []).length, 3);
      const t = await sockit(["time", at("time")]);
      assert.match(
        t.stdout,
        /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} UTC {2}offset [+-]\d+\.\d{3} s to the local clock \(±0\.5 s\)\n$/,
      );
      const tj = JSON.parse((await sockit(["--json", "time", "-u", at("time")])).stdout) as {
        offsetSeconds: number;
      };
      assert.ok(Math.abs(tj.offsetSeconds) <= 1.5);
      const d = await sockit(["daytime", at("daytime")]);
      assert.match(d.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} UTC\n$/);
      const q = await sockit(["qotd", "-u", at("qotd")]);
      assert.ok(q.stdout.length > 0 && !q.stdout.includes("\r"));
      const g = await sockit(["-v", "chargen", "-n", "3", at("chargen")]);
      assert.equal(g.stdout.split("\n").filter(Boolean).length, 3);
      assert.match(g.stderr, /every line is a chargen line; all exactly as RFC 864/);
      for (const r of [e, t, d, q, g]) assert.equal(r.code, 0, r.stderr);
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });

  test("exit codes: refused 3, no UDP reply 4 (with a hint), a bad time reply 6", LIMIT, async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    const port = ln.port;
    await ln.close();
    const refused = await sockit(["daytime", `127.0.0.1:${port}`]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /connection refused \(ECONNREFUSED\)/);
    const pc = await listenPacket("udp", "127.0.0.1:0");
    try {
      const silent = await sockit(["time", "-u", "-w", "0.3", pc.localAddress]);
      assert.equal(silent.code, 4);
      assert.match(silent.stderr, /no reply within 0\.3 s .*sockit serve --udp/);
    } finally {
      await pc.close();
    }
    const text = await listen("tcp", "127.0.0.1:0");
    const serving = (async () => {
      const c = await text.accept();
      await c.write("not a time\r\n");
      await c.close();
    })();
    try {
      const bad = await sockit(["time", text.address]);
      assert.equal(bad.code, 6);
      assert.match(
        bad.stderr,
        /a time reply is 4 bytes \(RFC 868; some servers send 8\), got 12: "not a time"/,
      );
    } finally {
      await serving;
      await text.close();
    }
  });
});
