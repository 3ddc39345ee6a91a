/**
 * `sockit scan` end to end, on loopback only and only against ports this test owns: open ports
 * (our own listeners), closed ports (bound, read back, released) and filtered ports (a Python
 * listener with backlog 0 whose accept queue is full, so further SYNs get no answer).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatTable, planScan } from "../src/cli/commands/scan.js";
import { UsageError } from "../src/cli/exit.js";
import { closedPort } from "./support/kit.js";
import { leakFree } from "./support/leaks.js";
import { pythonOracle } from "./support/python.js";
import { type Child, start } from "./support/spawn.js";

const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/**
 * Python: `n` listeners with backlog 0, each with its accept queue filled (connects until one
 * gets no answer); prints their ports comma-separated, then holds them until stdin closes.
 */
const FULL_QUEUES = `
import socket, sys
keep, ports = [], []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0); keep.append(s)
    port = s.getsockname()[1]
    for _ in range(64):
        c = socket.socket(); c.settimeout(0.3)
        try:
            c.connect(("127.0.0.1", port)); keep.append(c)
        except OSError:
            c.close(); break
    ports.append(port)
print(",".join(map(str, ports)), flush=True)
sys.stdin.read()
`;

interface Row {
  port: number;
  state: string;
  service?: string;
}

async function openServer(): Promise<net.Server> {
  const srv = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return srv;
}

function portOf(srv: net.Server): number {
  return (srv.address() as net.AddressInfo).port;
}

async function closeServer(srv: net.Server): Promise<void> {
  await new Promise<void>((resolve) => srv.close(() => resolve()));
}

async function scan(
  ...args: string[]
): Promise<{ code: number | null; out: string; err: string; child: Child }> {
  const child = start(process.execPath, [MAIN, "scan", ...args]);
  try {
    const code = await child.exit(20_000);
    return { code, out: child.stdout(), err: child.stderr(), child };
  } finally {
    child.kill("SIGKILL");
  }
}

async function fullQueues(n: number): Promise<[Child, number[]]> {
  const py = start("python3", ["-c", FULL_QUEUES, String(n)]);
  try {
    const m = await py.line(/^([\d,]+)$/m, 20_000);
    return [py, m[1]!.split(",").map(Number)];
  } catch (err) {
    py.kill("SIGKILL");
    throw err;
  }
}

test(
  "--all --json: our listeners are open, a released port is closed, a full accept queue is filtered",
  leakFree(async () => {
    const a = await openServer();
    const b = await openServer();
    await using held = await closedPort();
    const closed = held.port;
    const [py, [full]] = await fullQueues(1);
    try {
      const ports = [portOf(a), portOf(b), closed, full!].sort((x, y) => x - y);
      const r = await scan("--all", "--json", "-w", "0.5", "127.0.0.1", ports.join(","));
      assert.equal(r.code, 0, r.err);
      const rows = JSON.parse(r.out) as Row[];
      assert.deepEqual(
        rows.map((x) => x.port),
        ports,
      );
      const state = (p: number) => rows.find((x) => x.port === p)?.state;
      assert.equal(state(portOf(a)), "open");
      assert.equal(state(portOf(b)), "open");
      assert.equal(state(closed), "closed");
      assert.equal(state(full!), "filtered");
      // the service name is what Python's getservbyport says (absent when it knows none)
      const oracle = await pythonOracle("import socket", "socket.getservbyport(x, 'tcp')", ports);
      for (const [i, row] of rows.entries())
        assert.equal(row.service, oracle[i]!.ok, `service of ${row.port}`);
    } finally {
      py.kill("SIGKILL");
      await closeServer(a);
      await closeServer(b);
    }
  }),
);

test(
  "text output lists only open ports by default, says how many are not shown, and --all lists all",
  leakFree(async () => {
    const a = await openServer();
    await using h1 = await closedPort();
    await using h2 = await closedPort();
    const [c1, c2] = [h1.port, h2.port];
    try {
      const ports = [portOf(a), c1, c2].sort((x, y) => x - y).join(",");
      const r = await scan("127.0.0.1", ports);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trimEnd().split("\n");
      assert.match(lines[0]!, /^PORT\s+STATE\s+SERVICE$/);
      assert.match(lines[1]!, new RegExp(`^${portOf(a)}/tcp\\s+open\\b`));
      assert.equal(lines[2], "not shown: 2 closed (--all lists them)");
      assert.equal(lines.length, 3);
      const all = await scan("--all", "127.0.0.1", ports);
      assert.equal(all.out.trimEnd().split("\n").length, 4);
      assert.match(all.out, new RegExp(`^${c1}/tcp\\s+closed`, "m"));
    } finally {
      await closeServer(a);
    }
  }),
);

test(
  "a scan that finds nothing open still exits 0; -v reports the totals on stderr",
  leakFree(async () => {
    await using held = await closedPort();
    const c = held.port;
    const r = await scan("-v", "--json", "127.0.0.1", String(c));
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.out), []);
    assert.match(r.err, /scanned 1 port on 127\.0\.0\.1 in [\d.]+ s: 0 open, 1 closed, 0 filtered/);
  }),
);

test(
  "-c bounds the connects in flight: three filtered ports one at a time take three timeouts",
  leakFree(async () => {
    const [py, ports] = await fullQueues(3);
    try {
      const t0 = performance.now();
      const r = await scan("--json", "--all", "-c", "1", "-w", "0.4", "127.0.0.1", ports.join(","));
      const took = performance.now() - t0;
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(
        (JSON.parse(r.out) as Row[]).map((x) => x.state),
        ["filtered", "filtered", "filtered"],
      );
      assert.ok(took >= 1150, `three sequential 0.4 s timeouts took only ${took} ms`);
    } finally {
      py.kill("SIGKILL");
    }
  }),
);

test("usage errors exit 1 and an unknown host exits 2", async () => {
  for (const args of [
    ["127.0.0.1", "10-1"],
    ["127.0.0.1", "0"],
    ["127.0.0.1", "http"],
    ["-c", "0", "127.0.0.1", "80"],
    ["-w", "abc", "127.0.0.1", "80"],
    ["127.0.0.1"],
  ]) {
    const r = await scan(...args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.err}`);
  }
  const r = await scan("no-such-host.invalid", "80");
  assert.equal(r.code, 2, r.err);
});

test("planScan: defaults, flags and mistakes (pure)", () => {
  assert.deepEqual(planScan("h", "22,80", {}), {
    host: "h",
    ports: [22, 80],
    concurrency: 100,
    timeoutMs: 1000,
    all: false,
  });
  const p = planScan("::1", "1-3", { concurrency: "7", wait: "0.25", all: true });
  assert.deepEqual([p.concurrency, p.timeoutMs, p.all, p.ports], [7, 250, true, [1, 2, 3]]);
  const bad: Array<[string, string, { concurrency?: string; wait?: string }]> = [
    ["", "80", {}],
    ["h", "80", { concurrency: "0" }],
    ["h", "80", { concurrency: "5000" }],
    ["h", "80", { concurrency: "1.5" }],
    ["h", "80", { wait: "0" }],
    ["h", "80", { wait: "-1" }],
    ["h", "80", { wait: "1e3" }],
    ["h", "80", { wait: "4000" }],
  ];
  for (const [h, ports, o] of bad) assert.throws(() => planScan(h, ports, o), UsageError, JSON.stringify(o));
});

test("formatTable: a header and one aligned line per port", () => {
  assert.equal(
    formatTable([
      { port: 22, state: "open", service: "ssh" },
      { port: 40000, state: "filtered" },
    ]),
    "PORT      STATE     SERVICE\n22/tcp    open      ssh\n40000/tcp filtered\n",
  );
});
