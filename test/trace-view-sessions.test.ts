/**
 * `sockit trace-view` on real sessions: each test runs a sockit service and its client as
 * separate processes, both with SOCKIT_TRACE pointing at a viewer, and reads the diagram headless
 * Chromium draws — UDP datagrams as arrows (sendto → recvfrom; chapter 4's examples too), the
 * protocol each connection speaks (HTTP, SMTP, IRC, FTP control and the FTP data connection
 * opened after EPSV/PASV), and a game whose datagrams outrun the page's buffer: the page keeps
 * the newest calls, says how many older ones it dropped, and still draws the datagrams — also
 * when the game's session is replayed with one player's copy of a snapshot lost (each snapshot
 * arrow ends in the player whose port it was sent to).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { needs } from "./support/peers.js";
import { launchChromium } from "./support/chromium.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

/** The environment without SOCKIT_TRACE, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  if (extra.SOCKIT_TRACE === undefined) delete e.SOCKIT_TRACE;
  return e;
}

interface Lane {
  pid: number;
  role: string;
  /** Each socket column's role, left to right (the order the sockets first appeared). */
  socks: string[];
}
interface Arrow {
  kind: string;
  from: number;
  to: number;
  fromSock: number;
  toSock: number;
  y1: number;
  y2: number;
}
interface Drawn {
  lanes: Lane[];
  calls: Record<number, string[]>;
  arrows: Arrow[];
  older: string;
  /** What the `extra` expression gave. */
  extra?: unknown;
}

// (an expression as text: it runs in the page, whose DOM types this project does not load)
const READ_PAGE = `(() => {
  const lanes = [...document.querySelectorAll("g.lane")].map((g) => ({
    pid: Number(g.dataset.pid), role: g.dataset.role,
    socks: [...g.querySelectorAll("text.sockhead")].map((t) => t.dataset.role) }));
  const calls = {};
  for (const g of document.querySelectorAll("g.ev")) (calls[g.dataset.pid] ??= []).push(g.dataset.call);
  const arrows = [...document.querySelectorAll("line.arrow")].map((l) => ({
    kind: l.classList[1], from: Number(l.dataset.fromPid), to: Number(l.dataset.toPid),
    fromSock: Number(l.dataset.fromSock), toSock: Number(l.dataset.toSock),
    y1: Number(l.getAttribute("y1")), y2: Number(l.getAttribute("y2")) }));
  return { lanes, calls, arrows, older: document.getElementById("older").textContent };
})()`;

const kinds = (d: Drawn, kind: string, from?: number, to?: number): Arrow[] =>
  d.arrows.filter(
    (a) => a.kind === kind && (from === undefined || a.from === from) && (to === undefined || a.to === to),
  );
const lane = (d: Drawn, pid: number): Lane => {
  const l = d.lanes.find((x) => x.pid === pid);
  assert.ok(l, `a lane for pid ${pid}: ${JSON.stringify(d.lanes)}`);
  return l;
};

describe("sockit trace-view draws real sessions", { skip: needs(["chromium"]), timeout: 120_000 }, () => {
  const children: Child[] = [];
  const dir = mkdtempSync(join(tmpdir(), "sockit-trace-sessions-"));
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const c of children) {
      c.kill("SIGKILL");
      await c.exit(5000).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh viewer (replaying `args`' file, if any); resolves the SOCKIT_TRACE value for it. */
  async function viewer(...args: string[]): Promise<string> {
    const v = start(process.execPath, [SOCKIT, "trace-view", "--port", "0", ...args], env());
    children.push(v);
    const [, address] = await v.line(/on http:\/\/(\S+)\//);
    return `http://${address!}`;
  }
  /** `sockit ARGS` traced to `at`. */
  function traced(at: string, args: string[]): Child {
    const c = start(process.execPath, [SOCKIT, ...args], env({ SOCKIT_TRACE: at }));
    children.push(c);
    return c;
  }
  /** A traced `sockit serve … --json`; resolves it and its HOST:PORT (the first match of `re`). */
  async function serve(
    at: string,
    args: string[],
    re = /"listening":"([^"]+)"/,
  ): Promise<{ child: Child; address: string }> {
    const child = traced(at, [...args, "--json"]);
    const [, address] = await child.line(re);
    return { child, address: address! };
  }
  /** Stops a child by its pid (SIGTERM, bounded wait). */
  async function stop(c: Child): Promise<void> {
    c.kill("SIGTERM");
    await c.exit(8000).catch(() => {});
  }
  /** The diagram once `want` holds (polled for at most 10 s); the last one read otherwise. */
  async function drawn(at: string, want: (d: Drawn) => boolean, query = "", extra?: string): Promise<Drawn> {
    const page = await browser!.newPage({ viewport: { width: 1200, height: 600 } });
    try {
      await page.goto(`${at}/${query}`);
      let last: Drawn | undefined;
      for (let i = 0; i < 100; i++) {
        last = (await page.evaluate(READ_PAGE)) as Drawn;
        if (want(last)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (extra !== undefined) last!.extra = await page.evaluate(extra);
      return last!;
    } finally {
      await page.close();
    }
  }

  test("UDP: each datagram is an arrow from its sendto/send to the recvfrom that got it, in order", async () => {
    const at = await viewer();
    const srv = await serve(
      at,
      ["serve", "echo", "--udp", "--port", "all=0"],
      /"service":"echo","proto":"udp","address":"([^"]+)"/,
    );
    const udp = srv.address;
    const cli = traced(at, ["echo", "-u", udp, "-c", "3", "same", "bytes"]);
    assert.equal(await cli.exit(), 0, cli.stderr());
    const s = srv.child.proc.pid!;
    const c = cli.proc.pid!;
    const d = await drawn(at, (x) => kinds(x, "datagram").length >= 6);
    await stop(srv.child);

    const out = kinds(d, "datagram", c, s);
    const back = kinds(d, "datagram", s, c);
    assert.equal(out.length, 3, JSON.stringify(d.arrows));
    assert.equal(back.length, 3, JSON.stringify(d.arrows));
    assert.equal(d.arrows.length, 6, "no stream arrows for datagrams");
    // three identical datagrams each way: matched in order (rows are in the order calls returned)
    for (const list of [out, back]) {
      const bySend = [...list].sort((a, b) => a.y1 - b.y1);
      for (let i = 1; i < bySend.length; i++) assert.ok(bySend[i]!.y2 > bySend[i - 1]!.y2, "in order");
    }
    const port = udp.split(":").at(-1);
    assert.ok(lane(d, s).socks.includes(`UDP :${port}`), JSON.stringify(d.lanes));
    assert.equal(lane(d, s).role, "server");
    assert.equal(lane(d, c).role, "client");
  });

  test("chapter 4's UDP examples (one process, two sockets): every datagram received has its arrow, a truncated one too", async () => {
    const at = await viewer();
    const pids: number[] = [];
    for (const name of ["udp-echo", "truncation"]) {
      const file = fileURLToPath(new URL(`../examples/04-udp/${name}.js`, import.meta.url));
      const c = start(process.execPath, [file], env({ SOCKIT_TRACE: at }));
      children.push(c);
      assert.equal(await c.exit(), 0, c.stderr());
      pids.push(c.proc.pid!);
    }
    // the real trace says how many datagrams each program received
    const got = async (): Promise<number[]> => {
      const all = (await (await fetch(`${at}/trace.json`)).json()) as {
        pid: number;
        call: string;
        error?: unknown;
      }[];
      return pids.map((p) => all.filter((e) => e.pid === p && e.call === "recvfrom" && !e.error).length);
    };
    const sizes = `window.traceView.links().filter((a) => a.kind === "datagram").map((a) => [a.from.pid, a.from.len, a.to.len])`;
    let want: number[] = [];
    for (let i = 0; i < 50; i++) {
      want = await got();
      if (want.every((n) => n > 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const e = await drawn(
      at,
      (x) => pids.every((p, i) => kinds(x, "datagram", p, p).length === want[i]),
      "",
      sizes,
    );
    for (const [i, p] of pids.entries())
      assert.equal(kinds(e, "datagram", p, p).length, want[i], JSON.stringify(e.arrows));
    assert.equal(e.arrows.length, want[0]! + want[1]!, "datagram arrows only");
    for (const a of kinds(e, "datagram")) assert.notEqual(a.fromSock, a.toSock);
    // the truncation example: 32 bytes sent, 10 received; then 5 and 5; then 26 and 26 — in order
    const trunc = (e.extra as [number, number, number][])
      .filter(([pid]) => pid === pids[1])
      .map(([, s, r]) => [s, r]);
    assert.deepEqual(trunc, [
      [32, 10],
      [5, 5],
      [26, 26],
    ]);
  });

  test("HTTP: sockit serve http and sockit get — connection, request, response, close", async () => {
    const at = await viewer();
    const root = join(dir, "www");
    mkdirSync(root);
    writeFileSync(join(root, "hello.txt"), "hello over HTTP\n");
    const srv = await serve(at, ["serve", "http", root, "--port", "0"]);
    const cli = traced(at, ["get", `http://${srv.address}/hello.txt`]);
    assert.equal(await cli.exit(), 0, cli.stderr());
    assert.equal(cli.stdout(), "hello over HTTP\n");
    const s = srv.child.proc.pid!;
    const c = cli.proc.pid!;
    const d = await drawn(
      at,
      (x) => kinds(x, "data", s, c).length >= 1 && kinds(x, "teardown").length >= 1 && x.lanes.length === 2,
    );
    await stop(srv.child);

    assert.equal(kinds(d, "setup", c, s).length, 1, JSON.stringify(d.arrows));
    assert.ok(kinds(d, "data", c, s).length >= 1, "the request");
    assert.ok(kinds(d, "data", s, c).length >= 1, "the response");
    assert.ok(kinds(d, "teardown").length >= 1, JSON.stringify(d));
    const port = srv.address.split(":").at(-1);
    assert.ok(lane(d, s).socks.includes(`listening :${port}`), JSON.stringify(d.lanes));
    assert.ok(
      lane(d, s).socks.some((r) => r.startsWith("HTTP · from 127.0.0.1:")),
      JSON.stringify(d.lanes),
    );
    assert.ok(lane(d, c).socks.includes(`HTTP · to ${srv.address}`), JSON.stringify(d.lanes));
  });

  test("SMTP: sockit serve smtp and sockit mail send — the dialogue both ways", async () => {
    const at = await viewer();
    const srv = await serve(at, ["serve", "smtp", "127.0.0.1:0"]);
    const cli = traced(at, ["mail", "send", "--from", "a@example.org", "--to", "b@example.org", srv.address]);
    cli.proc.stdin!.end("hello by mail\n");
    assert.equal(await cli.exit(), 0, cli.stderr());
    const s = srv.child.proc.pid!;
    const c = cli.proc.pid!;
    // greeting, EHLO, MAIL, RCPT, DATA, the message, QUIT: several turns each way
    const d = await drawn(
      at,
      (x) => kinds(x, "data", c, s).length >= 5 && kinds(x, "data", s, c).length >= 5,
    );
    await stop(srv.child);

    assert.equal(kinds(d, "setup", c, s).length, 1, JSON.stringify(d.arrows));
    assert.ok(kinds(d, "data", c, s).length >= 5, JSON.stringify(d.arrows));
    assert.ok(kinds(d, "data", s, c).length >= 5, JSON.stringify(d.arrows));
    // the server speaks first: its greeting is the first data arrow
    const first = [...kinds(d, "data")].sort((a, b) => a.y1 - b.y1)[0]!;
    assert.equal(first.from, s, JSON.stringify(d.arrows));
    assert.ok(
      lane(d, s).socks.some((r) => r.startsWith("SMTP · from ")),
      JSON.stringify(d.lanes),
    );
    assert.ok(lane(d, c).socks.includes(`SMTP · to ${srv.address}`), JSON.stringify(d.lanes));
  });

  test("chat: sockit serve chat and two sockit chat clients — a line said by one reaches the other", async () => {
    const at = await viewer();
    const srv = await serve(at, ["serve", "chat", "--port", "0"]);
    const bob = traced(at, ["chat", srv.address, "--nick", "bob", "--join", "#lab", "--no-reconnect"]);
    await bob.line(/you joined #lab/);
    const ann = traced(at, ["chat", srv.address, "--nick", "ann", "--join", "#lab", "--no-reconnect"]);
    await ann.line(/you joined #lab/);
    await bob.line(/ann joined #lab/);
    ann.proc.stdin!.write("hello from ann\n");
    await bob.line(/hello from ann/);
    ann.proc.stdin!.end();
    bob.proc.stdin!.end();
    assert.equal(await ann.exit(), 0, ann.stderr());
    assert.equal(await bob.exit(), 0, bob.stderr());
    const s = srv.child.proc.pid!;
    const a = ann.proc.pid!;
    const b = bob.proc.pid!;
    const d = await drawn(
      at,
      (x) =>
        x.lanes.length === 3 && kinds(x, "teardown", a).length >= 1 && kinds(x, "teardown", b).length >= 1,
    );
    await stop(srv.child);

    assert.equal(d.lanes.length, 3);
    assert.equal(kinds(d, "setup", a, s).length, 1, JSON.stringify(d.arrows));
    assert.equal(kinds(d, "setup", b, s).length, 1, JSON.stringify(d.arrows));
    assert.ok(kinds(d, "data", a, s).length >= 1 && kinds(d, "data", s, b).length >= 1);
    assert.equal(lane(d, s).role, "server");
    assert.ok(
      lane(d, s).socks.filter((r) => r.startsWith("IRC · from ")).length === 2,
      JSON.stringify(d.lanes),
    );
    for (const p of [a, b])
      assert.ok(lane(d, p).socks.includes(`IRC · to ${srv.address}`), JSON.stringify(d.lanes));
  });

  test("FTP: the control connection and the data connection opened after EPSV/PASV are named as such, in order", async () => {
    const at = await viewer();
    const root = join(dir, "ftp");
    mkdirSync(root);
    writeFileSync(join(root, "note.txt"), "over the data connection\n");
    const srv = await serve(at, ["serve", "ftp", root, "--port", "0"]);
    const out = join(dir, "note.copy");
    const cli = traced(at, ["ftp", "get", `ftp://${srv.address}/note.txt`, "-o", out]);
    assert.equal(await cli.exit(), 0, cli.stderr());
    const s = srv.child.proc.pid!;
    const c = cli.proc.pid!;
    const isData = (r: string) => /^FTP data \((EPSV|PASV)\)/.test(r);
    const d = await drawn(
      at,
      (x) =>
        x.lanes.length === 2 && x.lanes.every((l) => l.socks.some(isData)) && kinds(x, "setup").length >= 2,
    );
    await stop(srv.child);

    // the client: the control connection first, then the data connection
    const cs = lane(d, c).socks.filter((r) => r !== "");
    assert.equal(cs.length, 2, JSON.stringify(d.lanes));
    assert.equal(cs[0], `FTP control · to ${srv.address}`);
    assert.match(cs[1]!, /^FTP data \((EPSV|PASV)\) · to 127\.0\.0\.1:\d+$/);
    // the server: its listener, the control connection, the passive listener, the data connection
    const ss = lane(d, s).socks;
    const ctl = ss.findIndex((r) => r.startsWith("FTP control · from "));
    const dataListener = ss.findIndex((r) => /^FTP data listener \((EPSV|PASV)\) · listening :\d+$/.test(r));
    const data = ss.findIndex((r) => /^FTP data \((EPSV|PASV)\) · from 127\.0\.0\.1:\d+$/.test(r));
    assert.ok(ctl >= 0 && dataListener > ctl && data > dataListener, JSON.stringify(ss));
    // two connections set up, control before data; the file's bytes go server -> client on data
    const setups = [...kinds(d, "setup", c, s)].sort((x, y) => x.y1 - y.y1);
    assert.equal(setups.length, 2, JSON.stringify(d.arrows));
    const dataSock = d.arrows.filter((a) => a.kind === "data" && a.from === s && a.to === c);
    assert.ok(dataSock.length >= 2, "replies on control, the file on data");
  });

  test("game: UDP lanes stay usable when the datagrams outrun the page's buffer (older ones dropped, counted)", async () => {
    const at = await viewer();
    const srv = traced(at, ["game", "serve", "--host", "127.0.0.1", "--port", "0", "--players", "2"]);
    const [, address] = await srv.line(/listening on (\S+) \(udp\)/);
    const bots = ["ann", "ben"].map((n) => traced(at, ["game", "join", address!, "--name", n, "--bot"]));
    await srv.line(/match started/, 15_000);
    const s = srv.proc.pid!;
    const keep = 200;
    interface Ev {
      pid: number;
      call: string;
      t: number;
      dur: number;
      args: string[];
      len?: number;
      hex?: string;
      addr?: [string, number];
    }
    // the page opens once the viewer holds more than twice what it keeps: the calls that named the
    // players' ports (their connect, the first datagrams) are among those it drops at once
    for (let i = 0; i < 100; i++) {
      const held = ((await (await fetch(`${at}/trace.json`)).json()) as unknown[]).length;
      if (held > 2 * keep) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // for each snapshot arrow: the address the server sent it to, and the process that got it
    const sentTo = `window.traceView.links().filter((a) => a.kind === "datagram" && a.from.call === "sendto")
      .map((a) => [a.from.args[a.from.args.length - 1], a.to.pid])`;
    // a bot sends an input only when it turns: the page is read until the calls it keeps hold
    // snapshots to both players and an input from each
    const players = bots.map((b) => b.proc.pid!);
    const d = await drawn(
      at,
      (x) =>
        /^\d+ older events dropped/.test(x.older) &&
        kinds(x, "datagram", s).length >= 20 &&
        players.every(
          (p) => kinds(x, "datagram", s, p).length >= 5 && kinds(x, "datagram", p, s).length >= 1,
        ),
      `?keep=${keep}`,
      sentTo,
    );
    // the same calls with "Group repeats": one row per run of datagrams to or from one address
    const rowsOf = `[...document.querySelectorAll("g.ev")].map((g) =>
      [Number(g.dataset.pid), g.dataset.call, Number(g.dataset.count), g.querySelector("text.lbl").textContent])`;
    const g = await drawn(
      at,
      (x) =>
        /^\d+ older events dropped/.test(x.older) &&
        players.every(
          (p) => kinds(x, "datagram", s, p).length >= 1 && kinds(x, "datagram", p, s).length >= 1,
        ),
      `?keep=${keep}&group=1`,
      rowsOf,
    );
    // the session as the viewer holds it, for the replay below (taken while the players play)
    const all = (await (await fetch(`${at}/trace.json`)).json()) as Ev[];
    for (const b of bots) await stop(b);
    await stop(srv);

    const rows = g.extra as [number, string, number, string][];
    assert.equal(
      rows.reduce((n, r) => n + r[2], 0),
      keep,
      "every call kept is in one row, counted once",
    );
    assert.ok(rows.length * 4 < keep, `${rows.length} rows for ${keep} calls`);
    for (const [pid, call, n, text] of rows) if (n > 1) assert.match(text, / ×\d+$/, `${pid} ${call}`);
    for (const b of bots) {
      const p = b.proc.pid!;
      assert.ok(
        rows.some(([pid, call, n]) => pid === s && call === "sendto" && n > 1) &&
          rows.some(([pid, call, n]) => pid === p && call === "recvfrom" && n > 1),
        `snapshots to ${p} grouped: ${JSON.stringify(rows)}`,
      );
      // the grouped rows keep their arrows: snapshots to each player, inputs back
      assert.ok(kinds(g, "datagram", s, p).length >= 1, `a snapshot arrow to ${p}`);
      assert.ok(kinds(g, "datagram", p, s).length >= 1, `an input arrow from ${p}`);
    }

    assert.match(d.older, new RegExp(`^\\d+ older events dropped \\(the page keeps the last ${keep}\\)$`));
    const drawnCalls = Object.values(d.calls).reduce((n, l) => n + l.length, 0);
    assert.equal(drawnCalls, keep);
    assert.equal(lane(d, s).role, "server");
    assert.ok(
      lane(d, s).socks.some((r) => /^UDP :\d+$/.test(r)),
      JSON.stringify(d.lanes),
    );
    // the same snapshot goes to every player: each arrow ends in the process its address names
    // (one process per address), though the calls that told the players' ports were dropped
    const owner = new Map<string, number>();
    for (const [to, pid] of d.extra as [string, number][]) {
      assert.equal(owner.get(to) ?? pid, pid, `datagrams to ${to} drawn into two processes`);
      owner.set(to, pid);
    }
    assert.equal(owner.size, 2, JSON.stringify([...owner]));
    // snapshots go to both players, inputs come back from them
    for (const b of bots) {
      assert.ok(kinds(d, "datagram", s, b.proc.pid!).length >= 5, `snapshots to ${b.proc.pid}`);
      assert.ok(
        kinds(d, "datagram", b.proc.pid!, s).length >= 1,
        `inputs from ${b.proc.pid}: ${JSON.stringify({ calls: d.calls, arrows: d.arrows.map((a) => `${a.from}>${a.to}`) })}`,
      );
    }

    // The same session replayed with one snapshot lost on its way to a player (UDP may drop it):
    // the only copy of those bytes left is the other player's. A datagram addressed to the first
    // player must not take it, nor teach the page that the other player has the first one's port
    // (then every input of that player would go unmatched). The replay holds the sockets' set-up
    // and the datagrams from that snapshot on, so no port is known when the page meets it.
    const bytes = (e: Ev) => `${e.len}:${e.hex}`;
    const datagram = (e: Ev) => /^(send|sendto|recv|recvfrom)$/.test(e.call);
    // each player's port, as the server saw it: the address of the inputs it got from that player
    const sent = new Map<string, number>();
    for (const e of all) if (e.pid !== s && e.call === "send") sent.set(bytes(e), e.pid);
    const portOwner = new Map<number, number>();
    for (const e of all) {
      const from = sent.get(bytes(e));
      if (e.pid === s && e.call === "recvfrom" && from !== undefined && e.addr)
        portOwner.set(e.addr[1], from);
    }
    assert.equal(portOwner.size, 2, `the players' ports: ${JSON.stringify([...portOwner])}`);
    const portIn = (addr: string) => Number(/, (\d+)\)$/.exec(addr)?.[1]);
    const byEnd = all.filter(datagram).sort((a, b) => a.t + a.dur - (b.t + b.dur));
    // a snapshot (from the middle of the session) that both players got, with inputs from both
    // in the 150 calls that follow it
    const at0 = byEnd.findIndex((e, i) => {
      if (i < byEnd.length / 3 || e.pid !== s || e.call !== "sendto") return false;
      const next = byEnd.slice(i, i + 150);
      const got = next.filter((x) => x.call === "recvfrom" && x.pid !== s && bytes(x) === bytes(e));
      return (
        new Set(got.map((x) => x.pid)).size === 2 &&
        players.every((p) => next.some((x) => x.pid === p && x.call === "send"))
      );
    });
    assert.ok(at0 >= 0, "a snapshot both players got, with inputs from both after it");
    const first = byEnd[at0]!;
    const window = byEnd.slice(at0, at0 + 150);
    const owner1 = portOwner.get(portIn(first.args[first.args.length - 1]!));
    const lost = window.find((e) => e.call === "recvfrom" && e.pid === owner1 && bytes(e) === bytes(first))!;
    const file = join(dir, "lost-snapshot.json");
    writeFileSync(
      file,
      JSON.stringify([...all.filter((e) => !datagram(e)), ...window.filter((e) => e !== lost)]),
    );
    const replay = await viewer(file);
    const r = await drawn(replay, (x) => kinds(x, "datagram").length >= 20, "", sentTo);
    const arrows = r.extra as [string, number][];
    assert.ok(arrows.length >= 20, JSON.stringify(arrows));
    for (const [to, pid] of arrows)
      assert.equal(
        pid,
        portOwner.get(portIn(to)),
        `a snapshot to ${to} drawn into ${pid}: ${JSON.stringify(arrows)}`,
      );
  });
});
