/**
 * The course (docs/tutorial.md and docs/tutorial/*.md): every program of chapters 1-7 and every
 * exercise solution runs, and the output a chapter shows is what the program prints (addresses'
 * ports, dates and the host name normalised on both sides).
 *
 * The convention the last test enforces over every code block of the course:
 * - ```ts: the first line is `// examples/PATH.ts` (the block is that whole file) or
 *   `// examples/PATH.ts#NAME` (the block is the region between `// #region NAME` and
 *   `// #endregion NAME` of that file); the file must be one a test here runs;
 * - ```text id=NAME or ```console id=NAME: output; a test here compares it with a run (a block
 *   must be a run of consecutive lines of the program's output; in ```console, lines starting
 *   with "$ " are the commands and are not compared, but a `node build/examples/…` command must
 *   name a program a test here runs).
 * No other block is allowed.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { netnsPair, netnsSkipReason } from "./support/netns.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT, startServe } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ENV = { ...process.env, TZ: "UTC" }; // the date strings the chapters show are UTC
const tracePreload = new URL("./support/trace-preload.js", import.meta.url).href;

/** Example sources (`examples/PATH.ts`) some test here runs. */
const RUN = new Set<string>();
/** Output block ids some test here compared. */
const SHOWN = new Set<string>();
/**
 * Why a test skipped (a missing peer), with the example files it would run and the output ids
 * it would compare: the convention test excuses those, and says so.
 */
const EXCUSED: Array<{ reason: string; files: string[]; ids: string[] }> = [];

/** The built program of `examples/REL.ts`, noted as run. */
function example(rel: string): string {
  RUN.add(`examples/${rel}.ts`);
  return join(root, "build", "examples", `${rel}.js`);
}

/** Runs `examples/REL.ts` to its end (exit 0 expected); its stdout. */
async function run(rel: string, args: string[] = [], ms = 20_000): Promise<string> {
  const child = start(process.execPath, [example(rel), ...args], ENV);
  const code = await child.exit(ms);
  assert.equal(code, 0, `${rel} exited ${code}\nstdout: ${child.stdout()}\nstderr: ${child.stderr()}`);
  return child.stdout();
}

interface Block {
  where: string;
  lang: string;
  id: string | undefined;
  lines: string[];
}

/** The course's Markdown files, relative to the root. */
function courseFiles(): string[] {
  const chapters = readdirSync(join(root, "docs", "tutorial"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/tutorial/${f}`);
  return ["docs/tutorial.md", ...chapters];
}

/** Every fenced block of the course. */
function courseBlocks(): Block[] {
  const out: Block[] = [];
  for (const rel of courseFiles()) {
    const lines = readFileSync(join(root, rel), "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      // a block may be indented (inside a list item): its lines lose that indentation
      const m = /^( *)```(\S*)(.*)$/.exec(lines[i]!);
      if (!m) continue;
      const indent = m[1]!;
      let j = i + 1;
      while (j < lines.length && lines[j] !== `${indent}\`\`\``) j++;
      const id = /\bid=(\S+)/.exec(m[3]!)?.[1];
      const body = lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
      out.push({ where: `${rel}:${i + 1}`, lang: m[2]!, id, lines: body });
      i = j;
    }
  }
  return out;
}

const blocks = courseBlocks();

/** The same text with what changes from run to run replaced by names. */
function normalise(text: string): string[] {
  return text
    .replaceAll(`'${hostname()}'`, "'HOSTNAME'")
    .replace(/\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}(?: \([^)'\n]*\)?)?/g, "DATE")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, "ISODATE")
    .replace(/\b[0-9a-f]{8} = \d+ seconds/g, "HEX = N seconds")
    .replace(/((?:\d{1,3}\.){3}\d{1,3}|::1)('?, |:)\d{1,5}\b/g, "$1$2PORT")
    .replace(/((?:\d{1,3}\.){3}\d{1,3}) \d{1,5}\b/g, "$1 PORT")
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
}

/** True when `part` is a run of consecutive lines of `whole`. */
function isRun(part: string[], whole: string[]): boolean {
  if (part.length === 0) return false;
  for (let i = 0; i + part.length <= whole.length; i++) {
    if (part.every((l, k) => l === whole[i + k])) return true;
  }
  return false;
}

/**
 * Asserts that every output block `id` (or `id/…`) of the course is what `actual` printed.
 * `more` normalises what legitimately varies in this one program's output (both sides).
 */
function shown(id: string, actual: string, more: (s: string) => string = (s) => s): void {
  const mine = blocks.filter((b) => b.id === id || b.id?.startsWith(`${id}/`));
  assert.ok(mine.length > 0, `no output block id=${id} in the course`);
  const got = normalise(more(actual));
  for (const b of mine) {
    const text = b.lang === "console" ? b.lines.filter((l) => !l.startsWith("$ ")) : b.lines;
    const want = normalise(more(text.join("\n")));
    assert.ok(
      isRun(want, got),
      `${b.where} (id=${b.id}) is not what the program printed.\nshown:\n${want.join("\n")}\nprinted:\n${got.join("\n")}`,
    );
    SHOWN.add(b.id!);
  }
}

/** A program whose whole check is its run against its output block in the chapter. */
function outputTest(title: string, program: string, id: string): void {
  test(title, async () => shown(id, await run(program)));
}

// ---------------------------------------------------------------- chapter 1

test("chapter 1: endpoints.ts prints every host form, port form, socket kind and byte order the chapter shows", async () => {
  const out = await run("01-sockets/endpoints");
  assert.match(
    out,
    /^host "2130706433" {2}-> AF_INET {2}\["127\.0\.0\.1",13\]$/m,
    "an integer host is an address",
  );
  assert.match(out, /^port "daytime" -> 13$/m);
  assert.match(out, /^htons\(7013\) = 25883 /m);
  assert.match(out, /SO_BROADCAST, 1\) first$/m, "the broadcast refusal says what to set");
  shown("endpoints", out);
});

test("chapter 1, solution 1: 01-resolve.ts lists the stream and datagram addresses of a name", async () => {
  const out = await run("solutions/01-resolve", ["127.0.0.1", "daytime"]);
  shown("solution-01", out);
});

test("chapter 1, solution 2: 01-inet-forms.ts: inet_aton takes the old short and hex forms, inet_pton does not", async () => {
  const out = await run("solutions/01-inet-forms");
  assert.match(out, /^inet_aton\("0x7f\.1"\) = 127\.0\.0\.1 /m);
  assert.match(out, /^inet_pton\(AF_INET, "127\.1"\): OSError EINVAL$/m);
  shown("solution-01-inet", out);
});

test("chapter 1, solution 3: 01-bind-ports.ts: two free ports, then EADDRINUSE on the first's", async () => {
  const out = await run("solutions/01-bind-ports");
  assert.match(out, /different: true$/m);
  shown("solution-01-bind", out);
});

// ---------------------------------------------------------------- chapter 2

/** Runs a lab server and client, each traced, as two processes; both outputs and traces. */
async function lab(
  server: string,
  serverArgs: string[],
  client: string,
  clientArgs: (host: string, port: string) => string[],
): Promise<{ srv: Child; cli: Child }> {
  const srv = start(process.execPath, ["--import", tracePreload, example(server), ...serverArgs], ENV);
  try {
    const [, host, port] = await srv.line(/listening on (\S+):(\d+)/);
    const cli = start(
      process.execPath,
      ["--import", tracePreload, example(client), ...clientArgs(host!, port!)],
      ENV,
    );
    assert.equal(await cli.exit(), 0, cli.stderr());
    await srv.line(/acknowledgement received from the server/);
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(), 0, srv.stderr());
    return { srv, cli };
  } finally {
    srv.kill("SIGKILL");
  }
}

test("chapter 2: the daytime lab as two processes, traced: outputs and call sequences as the chapter shows", async () => {
  const { srv, cli } = await lab(
    "02-client-server/daytime-server",
    ["0", "127.0.0.1"],
    "02-client-server/daytime-client",
    (h, p) => [h, p],
  );
  const [, clientPort] = /client address: \('127\.0\.0\.1', (\d+)\)/.exec(cli.stdout()) ?? [];
  assert.ok(
    srv.stdout().includes(`from ('127.0.0.1', ${clientPort}): acknowledgement`),
    "the server names the client",
  );
  shown("lab-server-trace", srv.stderr());
  shown("lab-client-trace", cli.stderr());
  shown("lab-server-output", srv.stdout());
  shown("lab-client-output", cli.stdout());
});

test("chapter 2: the same lab with the Go-style face, traced", async () => {
  const { srv, cli } = await lab(
    "02-client-server/daytime-server-net",
    ["127.0.0.1:0"],
    "02-client-server/daytime-client-net",
    (h, p) => [`${h}:${p}`],
  );
  const [, clientPort] = /client address: 127\.0\.0\.1:(\d+)/.exec(cli.stdout()) ?? [];
  assert.ok(
    srv.stdout().includes(`from 127.0.0.1:${clientPort}: acknowledgement`),
    "the server names the client",
  );
  shown("lab-net-server-trace", srv.stderr());
  shown("lab-net-client-trace", cli.stderr());
  shown("lab-net-output", `${srv.stdout()}\n${cli.stdout()}`);
});

test("chapter 2, solution 1: 02-time-server.ts sends RFC 868 time, 4 bytes, and the client reads the current date", async () => {
  const out = await run("solutions/02-time-server");
  const [, iso] = /that is (\S+)/.exec(out) ?? [];
  assert.ok(Math.abs(Date.parse(iso!) - Date.now()) < 60_000, `a current date: ${out}`);
  shown("solution-02", out);
});

test("chapter 2, solution 2: 02-two-clients.ts: each accept() is a new descriptor for one client's end", async () => {
  const out = await run("solutions/02-two-clients");
  assert.equal((out.match(/client \d's end: true$/gm) ?? []).length, 2, out);
  shown("solution-02-two", out);
});

// ---------------------------------------------------------------- chapter 3

test("chapter 3: partial-reads.ts shows a message split over three recv() and two frames in one", async () => {
  const out = await run("03-tcp/partial-reads");
  assert.match(out, /^first recv\(1024\): "HEL" \(3 bytes\)$/m);
  shown("partial-reads", out);
});

outputTest(
  "chapter 3: half-close.ts: the server reads EOF after the request and still answers",
  "03-tcp/half-close",
  "half-close",
);

outputTest(
  "chapter 3: timeouts-nonblocking.ts: TimeoutError keeps the socket usable; EAGAIN, then select()",
  "03-tcp/timeouts-nonblocking",
  "timeouts",
);

test("chapter 3: errors.ts provokes refused, reset, timeout and address in use, each with its class and errno", async () => {
  const out = await run("03-tcp/errors");
  for (const [cls, code] of [
    ["ConnectionRefusedError", "ECONNREFUSED"],
    ["ConnectionResetError", "ECONNRESET"],
    ["TimeoutError", "ETIMEDOUT"],
    ["OSError", "EADDRINUSE"],
  ])
    assert.match(out, new RegExp(`^  ${cls} errno \\d+ ${code}: `, "m"));
  shown("errors", out);
});

outputTest(
  "chapter 3, solution 1: 03-recv-exactly.ts reassembles a frame from pieces with recv() alone",
  "solutions/03-recv-exactly",
  "solution-03",
);

outputTest(
  "chapter 3, solution 2: 03-no-half-close.ts: without shutdown both sides wait, until the client's timeout",
  "solutions/03-no-half-close",
  "solution-03-deadlock",
);

// ---------------------------------------------------------------- chapter 4

outputTest("chapter 4: udp-echo.ts: three datagrams, three replies", "04-udp/udp-echo", "udp-echo");

outputTest(
  "chapter 4: truncation.ts: what does not fit in recvfrom's buffer is gone",
  "04-udp/truncation",
  "truncation",
);

outputTest(
  "chapter 4: broadcast.ts: refused without SO_BROADCAST; with it, one sendto reaches both receivers",
  "04-udp/broadcast",
  "broadcast",
);

test("chapter 4: loss.ts on loopback with the simulated drop names the same missing datagrams every run", async () => {
  const out = await run("04-udp/loss");
  const [, got, missing] = /received (\d+) of 100; missing: (.+)/.exec(out) ?? [];
  assert.equal(100 - Number(got), missing!.split(", ").length, "the missing ones are the ones not received");
  shown("loss", out);
});

test(
  "chapter 4: loss.ts across a network-namespace link that drops 10 % of packets",
  { skip: netnsSkipReason() },
  async () => {
    const ns = netnsPair();
    try {
      const loss = ns.randomLoss(10);
      const [cmd, args] = ns.argv(ns.server, [
        process.execPath,
        example("04-udp/loss"),
        "receive",
        ns.serverV4,
        "0",
      ]);
      const rx = start(cmd, args, ENV);
      try {
        const [, port] = await rx.line(/receiving on 198\.51\.100\.2:(\d+)/);
        const [scmd, sargs] = ns.argv(ns.client, [
          process.execPath,
          example("04-udp/loss"),
          "send",
          ns.serverV4,
          port!,
          "100",
        ]);
        const tx = start(scmd, sargs, ENV);
        assert.equal(await tx.exit(20_000), 0, tx.stderr());
        assert.equal(await rx.exit(20_000), 0, rx.stderr());
        const [, got, list] = /received (\d+) of 100; missing: (.+)/.exec(rx.stdout()) ?? [];
        const missing = list === "none" ? 0 : list!.split(", ").length;
        assert.equal(100 - Number(got), missing);
        assert.ok(missing > 0, "10 % loss of 100 datagrams loses some");
        assert.ok(
          loss.dropped() >= missing,
          `the link dropped ${loss.dropped()} packets, ${missing} datagrams are missing`,
        );
        const vary = (s: string) =>
          s.replace(
            /received \d+ of 100; missing: [\d, ]+|received \d+ of 100; missing: none/g,
            "received R of 100; missing: LIST",
          );
        // in the order a reader sees them: the receiver starts, the sender finishes, the receiver reports
        const [first, ...rest] = rx.stdout().split("\n");
        shown("loss-netns", [first, tx.stdout(), ...rest].join("\n"), vary);
      } finally {
        rx.kill("SIGKILL");
      }
    } finally {
      ns.close();
    }
  },
);

test("chapter 4, solution 1: 04-stop-and-wait.ts delivers every datagram, in order, despite 30 % loss", async () => {
  const out = await run("solutions/04-stop-and-wait");
  assert.match(out, /^delivered 10 of 10 datagrams, in order, after \d+ retransmissions$/m);
  shown("solution-04", out, (s) => s.replace(/after \d+ retransmissions/, "after N retransmissions"));
});

// ---------------------------------------------------------------- chapter 5

test("chapter 5: task-per-client.ts: a silent client holds up nobody; 200 tasks cost 2 descriptors each; the 201st is told busy", async () => {
  const out = await run("05-many-clients/task-per-client");
  assert.match(out, /^descriptors: \+400 \(2 per client/m);
  assert.match(out, /^client 201 got "busy: try again later\\n"$/m);
  assert.match(out, /^all closed: descriptors \+0, tasks running: 0$/m);
  const [, kib] = /^heap: \+(\d+) KiB/m.exec(out) ?? [];
  assert.ok(Number(kib) > 0, `200 connected clients take some heap: ${out}`);
  shown("task-per-client", out, (s) =>
    s.replace(/heap: \+\d+ KiB \(about [\d.]+ KiB per client\)/, "heap: +N KiB (about M KiB per client)"),
  );
});

const chatPeers = needs(["nc"]);
if (chatPeers !== false)
  EXCUSED.push({
    reason: chatPeers,
    files: ["examples/05-many-clients/select-chat-server.ts"],
    ids: ["select-chat-server", "select-chat-nc", "select-chat-python"],
  });

test(
  "chapter 5: the select() chat server with two nc clients and a Python one, as the chapter shows",
  { skip: chatPeers, timeout: 60_000 },
  async () => {
    const srv = start(process.execPath, [example("05-many-clients/select-chat-server"), "0"], ENV);
    const kids: Child[] = [srv];
    try {
      const [, host, port] = await srv.line(/chat server listening on ([\d.]+):(\d+)/);
      const nc = () => {
        const c = start(peerPath("nc"), [host!, port!], ENV);
        kids.push(c);
        return c;
      };
      const a = nc();
      await a.line(/welcome .*; 0 other/);
      const b = nc();
      await b.line(/welcome .*; 1 other/);
      await a.line(/joined/);
      const py = start(
        "python3",
        [join(root, "examples", "05-many-clients", "chat-client.py"), host!, port!],
        ENV,
      );
      kids.push(py);
      await py.line(/welcome .*; 2 other/);
      await a.line(/\] hello from python$/m);
      await b.line(/\] hello from python$/m);
      a.proc.stdin!.end("hi from the first nc\n"); // nc goes on reading until the server closes
      await py.line(/\] hi from the first nc$/m);
      await b.line(/\] hi from the first nc$/m);
      assert.equal(await py.exit(10_000), 0, py.stderr()); // a second of quiet, then it leaves
      await a.line(/ left\n/);
      b.kill("SIGTERM"); // the second nc is stopped (Ctrl-C): its connection closes
      await b.exit();
      await srv.line(/ left\n[\s\S]* left\n/);
      await a.line(/ left\n[\s\S]* left\n/);
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
      assert.equal(await a.exit(), 0, `nc exits when the server closes: ${a.stderr()}`);
      assert.match(a.stdout(), /\* server shutting down\n$/);
      assert.ok(!a.stdout().includes("hi from the first nc"), "a line is not echoed to its sender");
      shown("select-chat-server", srv.stdout());
      shown("select-chat-nc", a.stdout());
      shown("select-chat-python", py.stdout());
    } finally {
      for (const k of kids) k.kill("SIGKILL");
    }
  },
);

test("chapter 5, solution 1: 05-idle-timeout.ts: idle clients are closed and free their slots", async () => {
  const out = await run("solutions/05-idle-timeout");
  assert.match(out, /^a third client at once: "busy/m);
  assert.match(out, /^a third client now: "HELLO\\n"$/m);
  shown("solution-05", out);
});

// ---------------------------------------------------------------- chapter 6

/** Runs `sockit serve ARGS` until its banner names its address; the child and "HOST PORT". */
async function serve(args: string[], banner: RegExp): Promise<{ srv: Child; host: string; port: string }> {
  const srv = start(process.execPath, [SOCKIT, "serve", ...args], ENV);
  try {
    const [, host, port] = await srv.line(banner);
    return { srv, host: host!, port: port! };
  } catch (err) {
    srv.kill("SIGKILL");
    throw err;
  }
}

/** A Unix time (ms) from a daytime line (`Mon Dec  7 04:10:49 2026 UTC`) or rdate's (`… UTC 2026`). */
function clock(text: string): number {
  const m = /\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (?:(\d{4}) UTC|UTC (\d{4}))/.exec(text);
  assert.ok(m, `no date in ${JSON.stringify(text)}`);
  const month = "JanFebMarAprMayJunJulAugSepOctNovDec".indexOf(m[1]!) / 3;
  return Date.UTC(Number(m[6] ?? m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}

/** The same date lines with the date replaced (both sides of a comparison); the layout stays. */
const dates = (s: string) =>
  s.replace(
    /\w{3} \w{3} +\d{1,2} \d{2}:\d{2}:\d{2} (\d{4} UTC|UTC \d{4})/g,
    (_, y: string) => `DAY MON DD HH:MM:SS ${y.replace(/\d{4}/, "YYYY")}`,
  );

/** Asserts `ms` (a time a server told) is within a few seconds of this machine's clock. */
function near(ms: number, what: string): void {
  assert.ok(Math.abs(ms - Date.now()) < 5000, `${what}: ${new Date(ms).toISOString()} is not now`);
}

test("chapter 6: time-client.ts reads RFC 868's 4 bytes from sockit serve time: the current time", async () => {
  const served = await startServe(["time"]);
  try {
    const out = await run("06-protocols/time-client", ["127.0.0.1", String(served.port("time"))]);
    const [, hex, since1900] = /: ([0-9a-f]{8}) = (\d+) seconds since 1900/.exec(out) ?? [];
    assert.equal(Number.parseInt(hex!, 16), Number(since1900), "the 4 bytes, big-endian, are the number");
    const [, unix] = /= (\d+) seconds since 1970/.exec(out) ?? [];
    assert.equal(Number(unix), Number(since1900) - 2_208_988_800);
    const [, iso] = /that is (\S+)/.exec(out) ?? [];
    near(Date.parse(iso!), "the time told");
    assert.equal(Date.parse(iso!), Number(unix) * 1000);
    shown("time-client", out, (t) => t.replace(/= \d+ seconds since 1970/, "= N seconds since 1970"));
    assert.equal(await served.stop(), 0);
  } finally {
    served.child.kill("SIGKILL");
  }
});

test("chapter 6, solution 2: 06-time-udp.ts asks sockit serve time -u with one datagram", async () => {
  const served = await startServe(["time", "-u"]);
  try {
    const port = String(served.port("time", "udp"));
    const out = await run("solutions/06-time-udp", ["127.0.0.1", port]);
    const [, iso] = /that is (\S+)/.exec(out) ?? [];
    near(Date.parse(iso!), "the time told over UDP");
    shown("solution-06-udp", out);
    assert.equal(await served.stop(), 0);
  } finally {
    served.child.kill("SIGKILL");
  }
});

const rfcPeers = needs(["nc", "rdate"]);
if (rfcPeers !== false)
  EXCUSED.push({
    reason: rfcPeers,
    files: [],
    ids: ["echo-nc", "daytime-nc", "daytime-nc-udp", "time-rdate"],
  });

test(
  "chapter 6: nc against sockit serve echo and daytime (TCP and UDP), rdate against time",
  { skip: rfcPeers },
  async () => {
    const served = await startServe(["echo", "daytime", "time", "-u"]);
    try {
      const echo = start(peerPath("nc"), ["-N", "127.0.0.1", String(served.port("echo"))], ENV);
      echo.proc.stdin!.end("hello, echo\n"); // -N: shut down the sending side at the end of input
      assert.equal(await echo.exit(), 0, echo.stderr());
      assert.equal(echo.stdout(), "hello, echo\n");
      shown("echo-nc", echo.stdout());
      const daytime = start(peerPath("nc"), ["127.0.0.1", String(served.port("daytime"))], ENV);
      daytime.proc.stdin!.end();
      assert.equal(await daytime.exit(), 0, daytime.stderr());
      near(clock(daytime.stdout()), "daytime");
      shown("daytime-nc", daytime.stdout(), dates);
      // over UDP: one datagram asks (what it holds does not matter), one datagram answers
      const udp = start(
        peerPath("nc"),
        ["-u", "-w1", "127.0.0.1", String(served.port("daytime", "udp"))],
        ENV,
      );
      udp.proc.stdin!.end("hi\n");
      assert.equal(await udp.exit(), 0, udp.stderr());
      near(clock(udp.stdout()), "daytime over UDP");
      shown("daytime-nc-udp", udp.stdout(), dates);
      const rdate = start(peerPath("rdate"), ["-p", "-o", String(served.port("time")), "127.0.0.1"], ENV);
      assert.equal(await rdate.exit(), 0, rdate.stderr());
      near(clock(rdate.stdout()), "rdate");
      shown("time-rdate", rdate.stdout(), dates);
      assert.equal(await served.stop(), 0);
    } finally {
      served.child.kill("SIGKILL");
    }
  },
);

const ircPeers = needs(["nc"]);
if (ircPeers !== false)
  EXCUSED.push({
    reason: ircPeers,
    files: ["examples/06-protocols/irc-client.ts"],
    ids: ["irc-client", "chat-nc"],
  });

test(
  "chapter 6: irc-client.ts registers, joins #lobby and talks with an nc user on sockit serve chat",
  { skip: ircPeers, timeout: 60_000 },
  async () => {
    const { srv, host, port } = await serve(
      ["chat", "--port", "0"],
      /chat \(IRC and plain text\) on ([\d.]+):(\d+)/,
    );
    const kids: Child[] = [srv];
    try {
      const irc = start(process.execPath, [example("06-protocols/irc-client"), host, port], ENV);
      kids.push(irc);
      await irc.line(/^S: 353 /m); // registered and in #lobby
      const nc = start(peerPath("nc"), [host, port], ENV);
      kids.push(nc);
      nc.proc.stdin!.write("/nick grace\n"); // a first line that is not NICK/USER: the plain mode
      await nc.line(/^<ada> hello, guest1$/m);
      nc.proc.stdin!.end("hi ada, from nc\n");
      assert.equal(await irc.exit(), 0, irc.stderr());
      assert.match(irc.stdout(), /^S: <grace> hi ada, from nc$/m);
      await nc.line(/\*\*\* ada quit \(Quit: bye\)/);
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
      assert.equal(await nc.exit(), 0, nc.stderr()); // the server said goodbye and closed
      shown("irc-client", irc.stdout());
      shown("chat-nc", nc.stdout());
    } finally {
      for (const k of kids) k.kill("SIGKILL");
    }
  },
);

const weechatPeers = needs(["weechat-headless", "nc"]);
if (weechatPeers !== false) EXCUSED.push({ reason: weechatPeers, files: [], ids: ["chat-weechat-nc"] });

test(
  "chapter 6: WeeChat, a real IRC client, joins #lobby on sockit serve chat and talks to an nc user",
  { skip: weechatPeers, timeout: 60_000 },
  async () => {
    const { srv, host, port } = await serve(
      ["chat", "--port", "0"],
      /chat \(IRC and plain text\) on ([\d.]+):(\d+)/,
    );
    const home = mkdtempSync(join(tmpdir(), "sockit-course-weechat-"));
    const kids: Child[] = [srv];
    try {
      const nc = start(peerPath("nc"), [host, port], ENV);
      kids.push(nc);
      nc.proc.stdin!.write("/nick grace\n");
      await nc.line(/you are now grace/);
      // the chapter's commands, as WeeChat's command line takes them (-r), with a wait before
      // each line typed, since they do not wait for the connection
      const commands = [
        "/set irc.server_default.nicks wee",
        `/server add local ${host}/${port} -notls`,
        "/set irc.server.local.autojoin #lobby",
        "/connect local",
        "/wait 2 /msg -server local #lobby hello from weechat",
        "/wait 4 /quit bye",
      ];
      const wee = start(peerPath("weechat-headless"), ["--dir", home, "-r", commands.join(";")], ENV);
      kids.push(wee);
      await nc.line(/^<wee> hello from weechat\r?$/m);
      assert.equal(await wee.exit(15_000), 0, wee.stderr());
      await nc.line(/\*\*\* wee quit \(Quit: bye\)/);
      nc.proc.stdin!.end(); // nc reads on until the server closes
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
      assert.equal(await nc.exit(), 0, nc.stderr());
      shown("chat-weechat-nc", nc.stdout().replaceAll("\r", ""));
    } finally {
      for (const k of kids) k.kill("SIGKILL");
      rmSync(home, { recursive: true, force: true });
    }
  },
);

/** A temporary directory with `hello.txt` for the FTP and transfer tests; `f` gets its path. */
async function withFiles(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sockit-course-files-"));
  try {
    writeFileSync(join(dir, "hello.txt"), "hello over FTP\n");
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FTP_BANNER = /FTP on ([\d.]+):(\d+) serving/;

test("chapter 6: ftp-get.ts logs in, opens a passive data connection and retrieves a file from sockit serve ftp", () =>
  withFiles(async (dir) => {
    const { srv, host, port } = await serve(["ftp", dir, "--port", "0"], FTP_BANNER);
    try {
      const out = await run("06-protocols/ftp-get", [host, port, "hello.txt"]);
      const [, dataPort] = /\(\|\|\|(\d+)\|\)/.exec(out) ?? [];
      assert.notEqual(dataPort, port, "the data connection goes to a second port");
      assert.match(out, /^\(data connection: 15 bytes, then EOF\) "hello over FTP\\n"$/m);
      shown("ftp-get", out, (t) => t.replace(/\(\|\|\|\d+\|\)/, "(|||PORT|)"));
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      srv.kill("SIGKILL");
    }
  }));

test("chapter 6, solution 3: 06-ftp-list.ts lists with NLST and retrieves each file, a data connection each", () =>
  withFiles(async (dir) => {
    writeFileSync(join(dir, "notes.txt"), "two\nlines\n");
    const { srv, host, port } = await serve(["ftp", dir, "--port", "0"], FTP_BANNER);
    try {
      const out = await run("solutions/06-ftp-list", [host, port]);
      assert.equal((out.match(/^\(a new data connection, to /gm) ?? []).length, 3, out);
      assert.match(out, /^listed: hello\.txt, notes\.txt$/m);
      shown("solution-06-ftp", out);
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      srv.kill("SIGKILL");
    }
  }));

/** The Python the chapter shows (ftplib, the standard library's FTP client), with the port to use. */
const FTPLIB = (port: string) =>
  `from ftplib import FTP; f = FTP(); f.connect("127.0.0.1", ${port}); f.login(); print(f.nlst()); f.retrlines("RETR hello.txt"); f.quit()`;

test("chapter 6: Python's ftplib lists and retrieves from sockit serve ftp", () =>
  withFiles(async (dir) => {
    const { srv, port } = await serve(["ftp", dir, "--port", "0"], FTP_BANNER);
    try {
      const shownCommand = blocks.find((b) => b.id === "ftp-python")?.lines[0] ?? "";
      assert.ok(shownCommand.includes(FTPLIB("2121")), `the chapter shows this Python: ${shownCommand}`);
      const py = start("python3", ["-c", FTPLIB(port)], ENV);
      assert.equal(await py.exit(), 0, py.stderr());
      shown("ftp-python", py.stdout());
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      srv.kill("SIGKILL");
    }
  }));

const curlPeer = needs(["curl"]);
if (curlPeer !== false) EXCUSED.push({ reason: curlPeer, files: [], ids: ["ftp-curl"] });

test("chapter 6: curl lists and retrieves from sockit serve ftp", { skip: curlPeer }, () =>
  withFiles(async (dir) => {
    const { srv, host, port } = await serve(["ftp", dir, "--port", "0"], FTP_BANNER);
    try {
      const list = start(peerPath("curl"), ["-s", "-l", `ftp://${host}:${port}/`], ENV);
      assert.equal(await list.exit(), 0, list.stderr());
      const get = start(peerPath("curl"), ["-s", `ftp://${host}:${port}/hello.txt`], ENV);
      assert.equal(await get.exit(), 0, get.stderr());
      shown("ftp-curl", `${list.stdout().replaceAll("\r", "")}${get.stdout()}`);
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      srv.kill("SIGKILL");
    }
  }),
);

test("chapter 6: sockit recv and sockit send copy a file over one TCP connection, verified", () =>
  withFiles(async (dir) => {
    const into = join(dir, "in");
    mkdirSync(into);
    writeFileSync(join(dir, "notes.txt"), "hello over TCP\n");
    const recv = start(process.execPath, [SOCKIT, "recv", "--dir", into, "127.0.0.1:0"], ENV);
    try {
      const [, port] = await recv.line(/listening on 127\.0\.0\.1:(\d+)/);
      const send = start(
        process.execPath,
        [SOCKIT, "send", join(dir, "notes.txt"), `127.0.0.1:${port}`],
        ENV,
      );
      assert.equal(await send.exit(), 0, send.stderr());
      assert.equal(await recv.exit(), 0, recv.stderr()); // one sender served, then it exits
      assert.equal(readFileSync(join(into, "notes.txt"), "utf8"), "hello over TCP\n");
      shown("recv", recv.stdout());
      shown("send", send.stdout());
    } finally {
      recv.kill("SIGKILL");
    }
  }));

/** Runs `sockit game serve --host 127.0.0.1 --port 0 ARGS` until it names its port. */
async function gameServe(args: string[] = []): Promise<{ srv: Child; port: string }> {
  const srv = start(
    process.execPath,
    [SOCKIT, "game", "serve", "--host", "127.0.0.1", "--port", "0", ...args],
    ENV,
  );
  try {
    const [, port] = await srv.line(/listening on 127\.0\.0\.1:(\d+) \(udp\)/);
    return { srv, port: port! };
  } catch (err) {
    srv.kill("SIGKILL");
    throw err;
  }
}

test("chapter 6: game-peek.ts joins sockit game serve by the documented datagrams, reads a snapshot, leaves", async () => {
  const { srv, port } = await gameServe();
  try {
    const out = await run("06-protocols/game-peek", ["127.0.0.1", port, "ada"]);
    const [, bytes] = /^snapshot: (\d+) bytes/m.exec(out) ?? [];
    const [, size] = /^size: .* = (\d+)$/m.exec(out) ?? [];
    assert.equal(size, bytes, "the snapshot's length is what the layout says");
    assert.match(out, /^ {2}player 0 "ada" \(me\): alive/m);
    await srv.line(/^leave: ada \(player 1\)/m); // the leave, token and all, was taken
    const tick = (t: string) => t.replace(/tick \d+/, "tick N");
    shown("game-peek", out, tick);
    shown("game-peek-server", srv.stdout());
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(), 0, srv.stderr());
  } finally {
    srv.kill("SIGKILL");
  }
});

test(
  "chapter 6: two sockit game join --bot play a match on sockit game serve: one result everywhere",
  { timeout: 120_000 },
  async () => {
    const { srv, port } = await gameServe();
    const bots: Child[] = [];
    try {
      for (const name of ["ada", "grace"]) {
        bots.push(
          start(
            process.execPath,
            [SOCKIT, "game", "join", `127.0.0.1:${port}`, "--name", name, "--bot"],
            ENV,
          ),
        );
        await srv.line(new RegExp(`^join: ${name} `, "m")); // in this order: player 1, then 2
      }
      for (const b of bots) assert.equal(await b.exit(90_000), 0, b.stderr());
      const [, result] = /^match over at tick \d+: (winner \w+|draw)$/m.exec(srv.stdout()) ?? [];
      assert.ok(result, srv.stdout());
      for (const b of bots)
        assert.equal(b.stdout(), `result: ${result}\n`, "every client saw the server's result");
      await srv.line(/^leave: ada [\s\S]*^leave: grace |^leave: grace [\s\S]*^leave: ada /m);
      // who wins is the bots' business: the winner's name and the ticks vary from match to match
      const vary = (t: string) =>
        t
          .replace(/winner (ada|grace)|draw/g, "winner NAME")
          .replace(/tick \d+/g, "tick N")
          .replace(/^(leave: \w+ .*\n?)+/m, "LEAVES\n");
      shown("game-bots-server", srv.stdout(), vary);
      shown("game-bots-ada", bots[0]!.stdout(), vary);
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      for (const b of bots) b.kill("SIGKILL");
      srv.kill("SIGKILL");
    }
  },
);

test("chapter 6: http-get.ts fetches a file from sockit serve http with a request written by hand", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-course-www-"));
  try {
    writeFileSync(join(dir, "hello.txt"), "hello, web\n");
    const { srv, host, port } = await serve(["http", dir, "--port", "0"], /Serving HTTP on ([\d.]+):(\d+)/);
    try {
      const out = await run("06-protocols/http-get", [host, port, "/hello.txt"]);
      assert.match(out, /^HTTP\/1\.[01] 200 OK$/m);
      await srv.line(/"GET \/hello\.txt HTTP\/1\.0" 200 11/);
      shown("http-get", out);
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      srv.kill("SIGKILL");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

if (curlPeer !== false) EXCUSED.push({ reason: curlPeer, files: [], ids: ["http-curl"] });

test("chapter 6: curl fetches the same file from sockit serve http", { skip: curlPeer }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-course-www-"));
  try {
    writeFileSync(join(dir, "hello.txt"), "hello, web\n");
    const { srv, host, port } = await serve(["http", dir, "--port", "0"], /Serving HTTP on ([\d.]+):(\d+)/);
    try {
      const curl = start(peerPath("curl"), ["-s", "-i", "-0", `http://${host}:${port}/hello.txt`], ENV);
      assert.equal(await curl.exit(), 0, curl.stderr());
      const head = curl
        .stdout()
        .split("\r\n")
        .filter((l) => /^(HTTP\/|content-type:|content-length:|hello)/i.test(l));
      shown("http-curl", head.join("\n"));
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0, srv.stderr());
    } finally {
      srv.kill("SIGKILL");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("chapter 6: smtp-client.ts sends a message to sockit serve smtp, which stores it", async () => {
  const { srv, host, port } = await serve(["smtp", "127.0.0.1:0"], /SMTP mail sink on ([\d.]+):(\d+)/);
  try {
    const out = await run("06-protocols/smtp-client", [host, port]);
    const [, id] = /stored as (\S+)/.exec(out) ?? [];
    await srv.line(new RegExp(`from=<me@example\\.org> to=<you@example\\.org> subject="hi" .*id=${id}`));
    const vary = (t: string) =>
      t
        .replace(/^(S: 220 |S: 250-|S: 221 2\.0\.0 )\S+ (ESMTP|greets|closing) /gm, "$1HOST $2 ")
        .replace(/stored as \S+/, "stored as ID");
    shown("smtp-client", out, vary);
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(), 0, srv.stderr());
  } finally {
    srv.kill("SIGKILL");
  }
});

test("chapter 6: sockit rpc call, and solution 1: 06-rpc-by-hand.ts, against sockit serve rpc", async () => {
  const { srv, host, port } = await serve(["rpc", "127.0.0.1:0"], /on ([\d.]+):(\d+)\n/);
  try {
    const call = start(process.execPath, [SOCKIT, "rpc", "call", `${host}:${port}`, "add", "[1, 2]"], ENV);
    assert.equal(await call.exit(), 0, call.stderr());
    shown("rpc-call", call.stdout());
    const out = await run("solutions/06-rpc-by-hand", [host, port]);
    assert.match(out, /^<-- \{"jsonrpc":"2\.0","result":19,"id":2\}$/m);
    shown("solution-06", out);
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(), 0, srv.stderr());
  } finally {
    srv.kill("SIGKILL");
  }
});

// ---------------------------------------------------------------- chapter 7

test("chapter 7: go-echo.ts: listen, for await, lines over framed(), a read deadline, listenPacket", async () => {
  const out = await run("07-go-face/go-echo");
  assert.match(out, /^server: 127\.0\.0\.1:\d+ silent: TimeoutError ETIMEDOUT$/m);
  shown("go-echo", out);
});

test("chapter 7: codecs.ts: the same frames in one chunk and byte by byte; a hostile header refused", async () => {
  const out = await run("07-go-face/codecs");
  assert.equal(
    (out.match(/in one chunk: "hello", "world"; byte by byte: "hello", "world"$/gm) ?? []).length,
    3,
  );
  assert.match(out, /^bytes held: 0$/m);
  shown("codecs", out);
});

test("chapter 7: backpressure.ts: a writer without a reader stops at the kernel's buffers, then finishes", async () => {
  const out = await run("07-go-face/backpressure");
  const [, kib] = /without a reader: (\d+) KiB of 32768 KiB written/.exec(out) ?? [];
  assert.ok(Number(kib) > 0 && Number(kib) < 32768, `some, not all, written: ${out}`);
  assert.match(out, /the writer wrote 0 KiB more: it waits$/m);
  assert.match(out, /^the client read 32768 KiB; all written: true$/m);
  shown("backpressure", out, (s) => s.replace(/reader: \d+ KiB/, "reader: N KiB"));
});

test("chapter 7, solution 1: 07-framed-lengths.ts: frames answered by size; a too-large header refused at once", async () => {
  const out = await run("solutions/07-framed-lengths");
  assert.match(out, /^client: a 1 MiB header sent: refused: EFRAMETOOLARGE$/m);
  shown("solution-07", out);
});

// ---------------------------------------------------------------- the convention

test("every code block of the course is an excerpt of an example a test runs, or output a test compares", (t) => {
  const bad: string[] = [];
  for (const b of blocks) {
    if (b.lang === "ts") {
      const m = /^\/\/ (examples\/\S+\.ts)(?:#(\S+))?$/.exec(b.lines[0] ?? "");
      if (!m) {
        bad.push(`${b.where}: a ts block starts with "// examples/PATH.ts" or "// examples/PATH.ts#REGION"`);
        continue;
      }
      const [, file, region] = m;
      if (!existsSync(join(root, file!))) {
        bad.push(`${b.where}: ${file} does not exist`);
        continue;
      }
      if (!RUN.has(file!)) bad.push(`${b.where}: no test in test/course.test.ts runs ${file}`);
      const src = readFileSync(join(root, file!), "utf8").replace(/\n$/, "").split("\n");
      let want = src;
      if (region !== undefined) {
        const from = src.findIndex((l) => l.trim() === `// #region ${region}`);
        const to = src.findIndex((l) => l.trim() === `// #endregion ${region}`);
        if (from < 0 || to < from) {
          bad.push(`${b.where}: ${file} has no region ${region}`);
          continue;
        }
        want = src.slice(from + 1, to);
      }
      if (b.lines.slice(1).join("\n") !== want.join("\n"))
        bad.push(`${b.where}: differs from ${file}${region ? `#${region}` : ""}`);
    } else if (b.lang === "text" || b.lang === "console") {
      if (b.id === undefined) bad.push(`${b.where}: an output block needs id=NAME`);
      else if (!SHOWN.has(b.id)) bad.push(`${b.where}: no test compared id=${b.id} with a run`);
      for (const l of b.lines) {
        const cmd = /^\$ .*?node (?:--import \S+ )?build\/(examples\/\S+)\.js/.exec(l);
        if (cmd && !RUN.has(`${cmd[1]}.ts`)) bad.push(`${b.where}: no test here runs ${cmd[1]}.ts`);
      }
    } else
      bad.push(`${b.where}: a \`\`\`${b.lang} block is neither an example (ts) nor output (text, console)`);
  }
  // every program of chapters 1-7 and every solution is run by a test here
  for (const dir of [
    "01-sockets",
    "02-client-server",
    "03-tcp",
    "04-udp",
    "05-many-clients",
    "06-protocols",
    "07-go-face",
    "solutions",
  ]) {
    for (const f of readdirSync(join(root, "examples", dir)).filter((n) => n.endsWith(".ts"))) {
      if (!RUN.has(`examples/${dir}/${f}`))
        bad.push(`examples/${dir}/${f} is run by no test in test/course.test.ts`);
    }
  }
  if (netnsSkipReason() !== undefined) {
    t.diagnostic(`loss-netns not compared here: ${netnsSkipReason()}`);
    for (let i = bad.length - 1; i >= 0; i--) if (bad[i]!.includes("id=loss-netns")) bad.splice(i, 1);
  }
  for (const e of EXCUSED) {
    t.diagnostic(`${[...e.files, ...e.ids.map((i) => `id=${i}`)].join(", ")} not checked here: ${e.reason}`);
    const names = [...e.files, ...e.ids.map((i) => `id=${i}`)];
    for (let i = bad.length - 1; i >= 0; i--) if (names.some((n) => bad[i]!.includes(n))) bad.splice(i, 1);
  }
  assert.ok(blocks.length >= 20, `only ${blocks.length} blocks in the course: is the scan broken?`);
  assert.deepEqual(bad, [], bad.join("\n"));
});
