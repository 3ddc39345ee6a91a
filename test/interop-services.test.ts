/**
 * The RFC services against implementations nobody here wrote: Debian xinetd's internal services
 * as servers for the sockit clients; rdate, OpenBSD netcat and Python's socket module as clients
 * of `sockit serve`. Everything on 127.0.0.1; sockit binds free ports, xinetd free ports below 32768.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { dial } from "../src/net/index.js";
import { decodeTime } from "../src/services/rfc/protocol.js";
import { needs, peerPath } from "./support/peers.js";
import { runPython } from "./support/python.js";
import { type Served, sockit, startServe } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";
import { startXinetd, type Xinetd } from "./support/xinetd.js";

const LIMIT = { timeout: 30_000 };
const YEAR = String(new Date().getUTCFullYear());

/** Runs `cmd args` with `input` on stdin; bounded; stdout as bytes (nc passes binary through). */
async function run(cmd: string, args: string[], input = "", ms = 10_000) {
  const c = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let stderr = "";
  c.stdout.on("data", (d: Buffer) => out.push(d));
  c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // a peer that finishes before reading its input (daytime, qotd) closes its stdin: not an error
  c.stdin.on("error", () => {});
  c.stdin.end(input);
  const timer = setTimeout(() => c.kill("SIGKILL"), ms);
  const [code] = (await once(c, "close")) as [number | null];
  clearTimeout(timer);
  const bytes = Buffer.concat(out);
  return { code, bytes, stdout: bytes.toString("latin1"), stderr };
}

describe("xinetd's internal services as servers for the sockit clients", { skip: needs(["xinetd"]) }, () => {
  let xi: Xinetd;
  before(async () => {
    xi = await startXinetd();
  });
  after(async () => {
    await xi?.stop();
  });
  const at = (s: keyof Xinetd["ports"]) => `127.0.0.1:${xi.ports[s]}`;

  for (const u of [[], ["-u"]]) {
    const proto = u.length ? "UDP" : "TCP";
    test(`sockit echo ${u.join("")} gets its message back from xinetd (${proto})`, LIMIT, async () => {
      const r = await sockit(["-v", "echo", ...u, at("echo"), "hello", "xinetd"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello xinetd\n");
      assert.match(r.stderr, /13 bytes back intact/);
    });

    test(`sockit daytime ${u.join("")} prints xinetd's date line (${proto})`, LIMIT, async () => {
      const r = await sockit(["daytime", ...u, at("daytime")]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(YEAR), r.stdout);
      assert.equal(r.stdout.split("\n").length, 2, "one line");
    });

    test(
      `sockit time ${u.join("")} reads xinetd's 4-byte time: near the local clock (${proto})`,
      LIMIT,
      async () => {
        const r = await sockit(["--json", "time", ...u, at("time")]);
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout) as { bytes: number; offsetSeconds: number; time: string };
        assert.equal(j.bytes, 4);
        assert.ok(Math.abs(j.offsetSeconds) < 2, `offset ${j.offsetSeconds}`);
        assert.ok(j.time.startsWith(YEAR));
      },
    );

    test(`sockit chargen ${u.join("")} reads xinetd's lines as chargen lines (${proto})`, LIMIT, async () => {
      const r = await sockit(["-v", "chargen", ...u, "-n", "20", at("chargen")]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /every line is a chargen line/);
      assert.doesNotMatch(r.stderr, /warning/);
      const lines = r.stdout.split("\n").filter(Boolean);
      if (u.length === 0) assert.equal(lines.length, 20);
      else assert.ok(lines.length >= 1, "a UDP reply holds at least one line");
    });
  }

  test("xinetd's discard swallows what the sockit client sends (TCP)", LIMIT, async () => {
    const c = await dial("tcp", at("discard"), { timeout: 5000 });
    try {
      await c.write(Buffer.alloc(100_000, 0x61));
      await c.closeWrite();
      c.setReadDeadline(Date.now() + 5000);
      assert.equal(await c.read(), null, "EOF and nothing else");
    } finally {
      await c.close();
    }
  });
});

describe("clients nobody here wrote, against sockit serve", () => {
  let srv: Served;
  before(async () => {
    srv = await startServe(["--udp"]);
  });
  after(async () => {
    assert.equal(await srv?.stop(), 0, "SIGTERM stops sockit serve cleanly");
  });

  for (const u of [false, true]) {
    const opts = { ...LIMIT, skip: needs(["rdate"]) };
    test(`rdate ${u ? "-u " : ""}reads sockit's time (${u ? "UDP" : "TCP"})`, opts, async () => {
      const r = await run(peerPath("rdate"), [u ? "-pu" : "-p", "-o", String(srv.port("time")), "127.0.0.1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}\n$/);
      assert.ok(r.stdout.includes(YEAR));
    });
  }

  test("nc as a TCP client of each service", { ...LIMIT, skip: needs(["nc"]) }, async () => {
    const p = (s: string) => String(srv.port(s));
    const nc = peerPath("nc");
    const [echo, discard, daytime, qotd, time] = await Promise.all([
      run(nc, ["-N", "127.0.0.1", p("echo")], "hello nc\n"),
      run(nc, ["-N", "127.0.0.1", p("discard")], "into the void\n"),
      run(nc, ["-d", "127.0.0.1", p("daytime")]),
      run(nc, ["-d", "127.0.0.1", p("qotd")]),
      run(nc, ["-d", "127.0.0.1", p("time")]),
    ]);
    assert.equal(echo.stdout, "hello nc\n");
    assert.equal(discard.stdout, "");
    assert.match(daytime.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} UTC\r\n$/);
    assert.ok(qotd.stdout.endsWith("\r\n") && Buffer.byteLength(qotd.stdout) < 512, qotd.stdout);
    const t = decodeTime(time.bytes);
    assert.ok(Math.abs(t.date.getTime() - Date.now()) < 5000);
    for (const r of [echo, discard, daytime, qotd, time]) assert.equal(r.code, 0, r.stderr);
  });

  test("nc reads chargen lines until it closes", { ...LIMIT, skip: needs(["nc"]) }, async () => {
    const c = start(peerPath("nc"), ["-d", "127.0.0.1", String(srv.port("chargen"))]);
    try {
      await c.line(/(.*\r\n){5}/, 10_000);
      const lines = c.stdout().split("\r\n").slice(0, 5);
      assert.equal(lines[0], "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh");
      assert.equal(lines[4]!.length, 72);
    } finally {
      c.kill("SIGKILL");
      await c.exit(2000).catch(() => {});
    }
  });

  test("nc -u as a UDP client of each service", { ...LIMIT, skip: needs(["nc"]) }, async () => {
    const nc = peerPath("nc");
    const ask = (s: string) => run(nc, ["-u", "-w1", "127.0.0.1", String(srv.port(s, "udp"))], "hi udp\n");
    const [echo, daytime, qotd, chargen, time] = await Promise.all(
      ["echo", "daytime", "qotd", "chargen", "time"].map(ask),
    );
    assert.equal(echo!.stdout, "hi udp\n");
    assert.match(daytime!.stdout, /UTC\r\n$/);
    assert.ok(qotd!.stdout.length > 0 && qotd!.stdout.endsWith("\r\n"));
    assert.equal(chargen!.stdout.length, 74, "one line");
    assert.ok(Math.abs(decodeTime(time!.bytes).date.getTime() - Date.now()) < 5000);
  });

  test("Python's socket module as a TCP and UDP client of each service", LIMIT, async () => {
    const ports = Object.fromEntries(
      srv.listening.filter((l) => l.proto === "tcp").map((l) => [l.service, l.port]),
    );
    const py = `
import json, socket, struct, sys, time
ports = json.loads(sys.argv[1])
H = "127.0.0.1"
def tcp(port, send=b""):
    s = socket.create_connection((H, port), timeout=5)
    if send:
        s.sendall(send)
        s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        d = s.recv(65536)
        if not d or len(out) > 100000:
            break
        out += d
    s.close()
    return out
def udp(port, send=b"?"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(send, (H, port))
    d, _ = s.recvfrom(65535)
    s.close()
    return d
r = {}
r["echo"] = tcp(ports["echo"], b"python echo\\n").decode()
r["discard"] = tcp(ports["discard"], b"x" * 10000).decode()
r["daytime"] = tcp(ports["daytime"]).decode()
r["qotd_len"] = len(tcp(ports["qotd"]))
r["time_delta"] = struct.unpack("!I", tcp(ports["time"]))[0] - 2208988800 - time.time()
c = socket.create_connection((H, ports["chargen"]), timeout=5)
f = c.makefile("rb")
r["chargen"] = [f.readline().decode() for _ in range(3)]
c.close()
r["udp_echo"] = udp(ports["echo"], b"python udp").decode()
r["udp_time_delta"] = struct.unpack("!I", udp(ports["time"]))[0] - 2208988800 - time.time()
r["udp_chargen"] = udp(ports["chargen"]).decode()
r["udp_daytime"] = udp(ports["daytime"]).decode()
print(json.dumps(r))
`;
    const res = await runPython(py, [JSON.stringify(ports)], undefined, 20_000);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(r.echo, "python echo\n");
    assert.equal(r.discard, "");
    assert.match(r.daytime as string, /UTC\r\n$/);
    assert.ok((r.qotd_len as number) > 0 && (r.qotd_len as number) < 512);
    assert.ok(Math.abs(r.time_delta as number) < 2);
    assert.deepEqual(
      (r.chargen as string[]).map((l) => l.length),
      [74, 74, 74],
    );
    assert.equal(r.udp_echo, "python udp");
    assert.ok(Math.abs(r.udp_time_delta as number) < 2);
    assert.equal((r.udp_chargen as string).length, 74);
    assert.match(r.udp_daytime as string, /UTC\r\n$/);
  });
});
