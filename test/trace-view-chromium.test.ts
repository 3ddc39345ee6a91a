/**
 * `sockit trace-view` end to end: the daytime lab runs as two processes with SOCKIT_TRACE
 * pointing at a viewer, and headless Chromium shows the sequence diagram — one lane per process,
 * each process's calls in order, arrows for the connection, the data and the tear-down. The
 * screenshot (with SOCKIT_SCREENSHOT=FILE) is the one docs/tutorial chapter 2 shows. Then the page's JSON export, replayed by
 * `sockit trace-view FILE`, draws the same calls; and replayed with the times a preempted sender
 * writes (its send returned late by its clock), a receiving call is still drawn below its sender,
 * and arrows that go round in a circle still draw every call, each lane in its order.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { needs } from "./support/peers.js";
import { launchChromium } from "./support/chromium.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const server = fileURLToPath(new URL("../examples/02-client-server/daytime-server.js", import.meta.url));
const client = fileURLToPath(new URL("../examples/02-client-server/daytime-client.js", import.meta.url));
/** SOCKIT_SCREENSHOT=FILE saves the diagram there (docs/img/trace-view-daytime.png), as mail-web does. */
const SHOT = process.env.SOCKIT_SCREENSHOT;

const SERVER_CALLS = ["socket", "bind", "listen", "getsockname", "accept", "sendall", "recv", "close"];
const CLIENT_CALLS = ["socket", "connect", "getsockname", "recv", "sendall", "close"];

/** The environment without SOCKIT_TRACE, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  if (extra.SOCKIT_TRACE === undefined) delete e.SOCKIT_TRACE;
  return e;
}

interface Drawn {
  lanes: string[];
  calls: Record<string, string[]>;
  arrows: string[];
}

// (expressions as text: they run in the page, whose DOM types this project does not load)
const READ_PAGE = `(() => {
  const lanes = [...document.querySelectorAll("g.lane")].map((g) => g.dataset.proc);
  const calls = {};
  for (const g of document.querySelectorAll("g.ev")) (calls[g.dataset.proc] ??= []).push(g.dataset.call);
  const arrows = [...document.querySelectorAll("line.arrow")].map(
    (l) => l.classList[1] + " " + l.dataset.from + " -> " + l.dataset.to);
  return { lanes, calls, arrows };
})()`;

// each arrow with the rows it joins, and each process's calls with their rows
const READ_ROWS = `(() => {
  const arrows = [...document.querySelectorAll("line.arrow")].map((l) => ({
    name: l.classList[1] + " " + l.dataset.from + " -> " + l.dataset.to,
    y1: Number(l.getAttribute("y1")), y2: Number(l.getAttribute("y2")) }));
  const rows = [...document.querySelectorAll("g.ev")].map((g) => ({
    call: g.dataset.proc + ":" + g.dataset.call, y: Number(g.querySelector("circle").getAttribute("cy")) }));
  return { arrows, rows };
})()`;

interface Rows {
  arrows: { name: string; y1: number; y2: number }[];
  rows: { call: string; y: number }[];
}

describe("sockit trace-view draws the daytime lab", { skip: needs(["chromium"]), timeout: 90_000 }, () => {
  const children: Child[] = [];
  const dir = mkdtempSync(join(tmpdir(), "sockit-trace-view-"));
  after(async () => {
    for (const c of children) {
      c.kill("SIGTERM");
      await c.exit().catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function viewer(args: string[]): Promise<string> {
    const v = start(process.execPath, [SOCKIT, "trace-view", "--port", "0", ...args], env());
    children.push(v);
    const [, address] = await v.line(/on http:\/\/(\S+)\//);
    return address!;
  }

  /**
   * Opens the page at `url` and evaluates `expr` there until `want` holds (for up to ~10 s): the
   * last value read; with `shot`, a screenshot of the diagram is saved there.
   */
  async function readPage<T>(url: string, expr: string, want: (v: T) => boolean, shot?: string): Promise<T> {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 420 } });
      await page.goto(url);
      let last: T | undefined;
      for (let i = 0; i < 100; i++) {
        last = (await page.evaluate(expr)) as T;
        if (want(last)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (shot !== undefined) {
        mkdirSync(join(shot, ".."), { recursive: true });
        await page.locator("#diagram").screenshot({ path: shot });
      }
      return last!;
    } finally {
      await browser.close();
    }
  }
  const drawn = (url: string, want: (d: Drawn) => boolean, shot?: string) =>
    readPage<Drawn>(url, READ_PAGE, want, shot);
  /** The rows and arrows the page at `url` draws, once `want` holds. */
  const rowsAt = (url: string, want: (r: Rows) => boolean) => readPage<Rows>(url, READ_ROWS, want);

  const complete = (d: Drawn) =>
    (d.calls["daytime-server.js"]?.length ?? 0) >= SERVER_CALLS.length &&
    (d.calls["daytime-client.js"]?.length ?? 0) >= CLIENT_CALLS.length;

  let saved = "";
  test("live: two lanes, each process's calls in order, arrows for set-up, data and tear-down", async () => {
    const at = await viewer([]);
    const traced = env({ SOCKIT_TRACE: `http://${at}` });
    const srv = start(process.execPath, [server, "0", "127.0.0.1"], traced);
    children.push(srv);
    const [, host, port] = await srv.line(/listening on (\S+):(\d+)/);
    const cli = start(process.execPath, [client, host!, port!], traced);
    assert.equal(await cli.exit(), 0, cli.stderr());
    await srv.line(/acknowledgement/);

    const d = await drawn(`http://${at}/`, complete, SHOT);
    assert.deepEqual([...d.lanes].sort(), ["daytime-client.js", "daytime-server.js"]);
    assert.deepEqual(d.calls["daytime-server.js"], SERVER_CALLS);
    assert.deepEqual(d.calls["daytime-client.js"], CLIENT_CALLS);
    assert.deepEqual([...d.arrows].sort(), [
      "data daytime-client.js:sendall -> daytime-server.js:recv",
      "data daytime-server.js:sendall -> daytime-client.js:recv",
      "setup daytime-client.js:connect -> daytime-server.js:accept",
      "teardown daytime-client.js:close -> daytime-server.js:close",
      "teardown daytime-server.js:close -> daytime-client.js:close",
    ]);
    const res = await fetch(`http://${at}/trace.json`);
    saved = await res.text();
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(), 0);
  });

  test("replay: the JSON export, served by `sockit trace-view FILE`, draws the same calls", async () => {
    assert.ok(saved.length > 0, "the live test saved a trace");
    const file = join(dir, "trace.json");
    writeFileSync(file, saved);
    const at = await viewer([file]);
    const d = await drawn(`http://${at}/`, complete);
    assert.deepEqual(d.calls["daytime-server.js"], SERVER_CALLS);
    assert.deepEqual(d.calls["daytime-client.js"], CLIENT_CALLS);
    assert.equal(d.arrows.filter((a) => a.startsWith("setup ")).length, 1);
  });

  interface Ev {
    proc: string;
    call: string;
    t: number;
    dur: number;
  }
  /** The live test's trace, changed by `edit`, replayed by a viewer of its own: its address. */
  async function replayed(name: string, edit: (one: (proc: string, call: string) => Ev, all: Ev[]) => void) {
    assert.ok(saved.length > 0, "the live test saved a trace");
    const events = JSON.parse(saved) as Ev[];
    edit((proc, call) => {
      const e = events.find((x) => x.proc === proc && x.call === call);
      assert.ok(e, `${proc} ${call} in ${saved}`);
      return e;
    }, events);
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(events));
    return `http://${await viewer([file])}/`;
  }

  test("replay: a server that read its clock late (set aside just after its send) is still drawn above its client's answer", async () => {
    // what a server set aside just after its send writes: its sendall returned (by its clock)
    // after the client had got the time and sent its acknowledgement, and all it did next is
    // that much later too
    const url = await replayed("late.json", (one, all) => {
      const greet = one("daytime-server.js", "sendall");
      const ack = one("daytime-client.js", "sendall");
      const returned = greet.t + greet.dur;
      const late = ack.t + ack.dur - returned + 0.5;
      for (const e of all) if (e.proc === "daytime-server.js" && e.t >= returned) e.t += late;
      greet.dur += late;
    });
    const d = await drawn(url, complete);
    // each process's calls in their own order, as always
    assert.deepEqual(d.calls["daytime-server.js"], SERVER_CALLS);
    assert.deepEqual(d.calls["daytime-client.js"], CLIENT_CALLS);
    const r = await rowsAt(url, (x) => x.arrows.length >= 5);
    const seen = JSON.stringify(r);
    // every arrow to a receiving call points down (the two closes point at each other)
    const got = r.arrows.filter((a) => !/^teardown .* -> .*:close$/.test(a.name));
    assert.equal(got.length, 3, seen);
    for (const a of got) assert.ok(a.y2 > a.y1, `${a.name} goes up: ${seen}`);
    const y = (call: string) => r.rows.find((x) => x.call === call)!.y;
    assert.ok(y("daytime-server.js:sendall") < y("daytime-client.js:recv"), seen);
    assert.ok(y("daytime-client.js:sendall") < y("daytime-server.js:recv"), seen);
  });

  test("replay: arrows that go round in a circle (a send that returns after its own process got the answer) still draw every call, each lane in its order", async () => {
    // a program that sends from one task and receives in another: its sendall returned (by its
    // clock) after its recv had got the answer to it, so the sendall → recv → sendall → recv
    // arrows and the server's own order make a circle
    const url = await replayed("circle.json", (one) => {
      const greet = one("daytime-server.js", "sendall");
      const got = one("daytime-server.js", "recv");
      const close = one("daytime-server.js", "close");
      const between = (got.t + got.dur + close.t + close.dur) / 2;
      greet.dur = between - greet.t;
    });
    const d = await drawn(url, complete);
    assert.deepEqual(d.calls["daytime-server.js"], [
      "socket",
      "bind",
      "listen",
      "getsockname",
      "accept",
      "recv",
      "sendall",
      "close",
    ]);
    assert.deepEqual(d.calls["daytime-client.js"], CLIENT_CALLS);
    const r = await rowsAt(url, (x) => x.arrows.length >= 5);
    assert.equal(r.rows.length, SERVER_CALLS.length + CLIENT_CALLS.length, JSON.stringify(r));
    assert.equal(new Set(r.rows.map((x) => x.y)).size, r.rows.length, "one row per call");
    assert.equal(r.arrows.filter((a) => a.name.startsWith("data ")).length, 2, JSON.stringify(r));
  });

  test("live, over the rate budget: the calls not traced are counted in their lanes, and every data arrow still joins a send to the call that read those bytes", async () => {
    // a ping-pong of 64-byte rounds, each round's bytes its own ("round 17" padded), both ends
    // traced with a small budget, a different one each: their traced stretches differ, so a
    // page that lost count of the skipped bytes would match a send to another round's read
    const rounds = 3000;
    const lib = JSON.stringify(fileURLToPath(new URL("../src/index.js", import.meta.url)));
    const pong = join(dir, "pong.mjs");
    const ping = join(dir, "ping.mjs");
    writeFileSync(
      pong,
      `import { listen } from ${lib};
const ln = await listen("tcp", "127.0.0.1:0");
console.log("listening on " + ln.address);
const c = await ln.accept();
for (let d; (d = await c.read(64)) !== null; ) await c.write(d);
await c.close();
await ln.close();
`,
    );
    writeFileSync(
      ping,
      `import { dial } from ${lib};
const c = await dial("tcp", process.argv[2]);
for (let i = 0; i < ${rounds}; i++) {
  await c.write(Buffer.from(("round " + i).padEnd(64, ".")));
  for (let got = 0; got < 64; ) got += (await c.read(64 - got)).length;
}
await c.close();
`,
    );
    const at = await viewer([]);
    const srv = start(
      process.execPath,
      [pong],
      env({ SOCKIT_TRACE: `http://${at}`, SOCKIT_TRACE_RATE: "900" }),
    );
    children.push(srv);
    const [, address] = await srv.line(/listening on (\S+)/);
    const cli = start(
      process.execPath,
      [ping, address!],
      env({ SOCKIT_TRACE: `http://${at}`, SOCKIT_TRACE_RATE: "500" }),
    );
    children.push(cli);
    assert.equal(await cli.exit(), 0, cli.stderr());
    assert.equal(await srv.exit(), 0, srv.stderr());
    const trace = (await (await fetch(`http://${at}/trace.json`)).json()) as {
      call: string;
      args: string[];
    }[];
    const skipped = trace.filter((e) => e.call === "skipped").reduce((n, e) => n + Number(e.args[0]), 0);
    assert.ok(skipped > rounds, `most calls skipped: ${skipped}`);
    const read = `(() => {
  const rows = new Map([...document.querySelectorAll("g.ev")].map((g) =>
    [Number(g.querySelector("circle").getAttribute("cy")), { call: g.dataset.call, tip: g.querySelector("title").textContent }]));
  const arrows = [...document.querySelectorAll("line.arrow.data")].map((l) => ({
    from: rows.get(Number(l.getAttribute("y1"))), to: rows.get(Number(l.getAttribute("y2"))) }));
  const gaps = [...rows.values()].filter((r) => r.call === "skipped").length;
  return { arrows, gaps, status: document.getElementById("status").textContent };
})()`;
    type Row = { call: string; tip: string };
    const r = await readPage<{ arrows: { from: Row; to: Row }[]; gaps: number; status: string }>(
      `http://${at}/?keep=100000`,
      read,
      (x) => x.status.includes(`${skipped} not traced`),
    );
    assert.ok(r.status.includes(`${skipped} not traced`), r.status);
    assert.ok(r.gaps > 2, `skipped rows drawn: ${r.gaps}`);
    assert.ok(r.arrows.length >= 20, `data arrows: ${r.arrows.length}`);
    const round = (tip: string) => /round \d+/.exec(tip)?.[0];
    for (const a of r.arrows) {
      assert.equal(a.from.call, "send", JSON.stringify(a));
      assert.equal(a.to.call, "recv", JSON.stringify(a));
      assert.ok(round(a.from.tip) !== undefined && round(a.from.tip) === round(a.to.tip), JSON.stringify(a));
    }
  });
});
