/**
 * Figure `chat`: messages delivered per second by an IRC server on loopback, `sockit serve chat`
 * against Debian's `ngircd`, driven by the same load generator in the same run (interleaved
 * rounds). Both servers run as child processes; the load generator runs here.
 *
 * One round: CLIENTS IRC clients (fresh nicks each round) in ROOMS rooms register and join; then every client
 * sends MSGS messages to its room as fast as its connection takes them, and the round ends when
 * every member has received every other member's messages (or after 15 s). The figure is
 * deliveries (one message reaching one member) per second over that time, capped at 15 s.
 * `sockit` runs with its flood control opened wide; `sockitFlood` with its default flood control
 * (10 lines/s, bursts of 20); ngircd (`raw`) with its defaults (its own flood control, which
 * paces a client to about one command a second past a short burst) and `MaxConnectionsIP = 0`.
 * So `sockit`/`raw` compares a server left to run flat out with one that paces its clients:
 * read `sockitFlood` against `raw` for like against like. `redis3`: three `sockit serve chat
 * --redis` nodes (flood control opened wide, as `sockit`) joined through a `redis-server` on a
 * Unix socket, the same clients spread over the three round-robin: against `sockit` (one node)
 * it is the cost and gain of the network (skipped without redis-server).
 *
 * Run: `npm run build && node build/bench/chat.js` (BENCH_RUNS, BENCH_CHAT_CLIENTS,
 * BENCH_CHAT_ROOMS, BENCH_CHAT_MSGS override; without ngircd installed only sockit runs).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Conn, dial } from "../src/net/index.js";
import { emit, HOST, interleave, main, nowMs, tempDir, withTimeout } from "./lib.js";
import { accepting, freePort } from "./procs.js";

const FIGURE = "chat";
const CLIENTS = Math.max(2, Number(process.env.BENCH_CHAT_CLIENTS ?? 40) || 40);
const ROOMS = Math.max(1, Number(process.env.BENCH_CHAT_ROOMS ?? 4) || 4);
const MSGS = Math.max(1, Number(process.env.BENCH_CHAT_MSGS ?? 50) || 50);
const ROUND_MS = 15_000;
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

async function startSockit(
  floodDefaults: boolean,
  extra: string[] = [],
): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const wide = floodDefaults
    ? []
    : ["--flood-rate", "1000000", "--flood-burst", "1000000", "--flood-pending", "1000000"];
  const proc = spawn(
    process.execPath,
    [
      SOCKIT,
      "serve",
      "chat",
      "--port",
      String(port),
      "--max-clients",
      "4096",
      "--max-per-source",
      "4096",
      "--sendq",
      "8388608",
      ...wide,
      ...extra,
    ],
    { stdio: "ignore" },
  );
  await accepting(port);
  return { port, proc };
}

async function startNgircd(dir: string): Promise<{ port: number; proc: ChildProcess } | undefined> {
  if (spawnSync("sh", ["-c", "command -v ngircd || test -x /usr/sbin/ngircd"]).status !== 0) return undefined;
  const port = await freePort();
  const conf = join(dir, "ngircd.conf");
  writeFileSync(
    conf,
    `[Global]\nName = bench.local\nInfo = bench\nAdminInfo1 = bench\nAdminInfo2 = bench\nAdminEMail = bench@localhost\n` +
      `Listen = ${HOST}\nPorts = ${port}\nMotdPhrase = bench\nPidFile = ${join(dir, "ngircd.pid")}\n` +
      `[Limits]\nMaxConnectionsIP = 0\nMaxConnections = 0\nMaxJoins = 0\n[Options]\nPAM = no\nIdent = no\nDNS = no\n`,
  );
  const bin = spawnSync("sh", ["-c", "command -v ngircd || echo /usr/sbin/ngircd"]).stdout.toString().trim();
  const proc = spawn(bin, ["-n", "-f", conf], { stdio: "ignore" });
  await accepting(port);
  return { port, proc };
}

/** A redis-server on a Unix socket in `dir` (nothing saved), if installed. */
async function startRedis(dir: string): Promise<{ url: string; proc: ChildProcess } | undefined> {
  if (spawnSync("sh", ["-c", "command -v redis-server"]).status !== 0) return undefined;
  const sock = join(dir, "redis.sock");
  const proc = spawn(
    "redis-server",
    ["--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  const until = nowMs() + 10_000;
  while (!existsSync(sock)) {
    if (nowMs() > until) throw new Error("redis-server did not create its socket within 10 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `unix:${sock}`, proc };
}

/** One client of the load generator: registers, joins, counts the messages it receives. */
class Member {
  received = 0;
  joined = false;
  #held = "";
  constructor(
    readonly conn: Conn,
    readonly nick: string,
    readonly room: string,
  ) {
    void this.#read();
  }
  async #read(): Promise<void> {
    try {
      for (;;) {
        const b = await this.conn.read();
        if (b === null) return;
        this.#held += b.toString("latin1");
        let i: number;
        while ((i = this.#held.indexOf("\n")) >= 0) {
          const l = this.#held.slice(0, i);
          this.#held = this.#held.slice(i + 1);
          if (l.includes(" PRIVMSG ")) this.received++;
          else if (/ 366 /.test(l)) this.joined = true;
          else if (l.startsWith("PING")) void this.conn.write(`PONG ${l.slice(5)}\n`).catch(() => {});
        }
      }
    } catch {
      // closed
    }
  }
}

let rounds = 0;

/** One round against the server(s) on `ports` (clients round-robin); resolves deliveries per second. */
async function round(...ports: number[]): Promise<number> {
  const members: Member[] = [];
  const r = rounds++; // fresh nicknames each round: a server may still hold the last round's
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const conn = await dial("tcp", `${HOST}:${ports[i % ports.length]!}`, { timeout: 5000 });
      const m = new Member(conn, `b${r}x${i}`, `#bench${i % ROOMS}`);
      members.push(m);
      await conn.write(`NICK ${m.nick}\r\nUSER ${m.nick} 0 * :bench\r\nJOIN ${m.room}\r\n`);
    }
    await withTimeout(
      (async () => {
        while (!members.every((m) => m.joined)) await new Promise((r) => setTimeout(r, 20));
      })(),
      20_000,
      `every bench client to join (${members.filter((m) => m.joined).length} of ${CLIENTS} did)`,
    );
    await new Promise((r) => setTimeout(r, 200));
    const expected = members.reduce(
      (n, m) => n + (members.filter((o) => o.room === m.room).length - 1) * MSGS,
      0,
    );
    const t0 = nowMs();
    await Promise.all(
      members.map(async (m) => {
        for (let k = 0; k < MSGS; k++)
          await m.conn.write(`PRIVMSG ${m.room} :${m.nick} ${k} hello from the bench\r\n`);
      }),
    );
    const total = () => members.reduce((n, m) => n + m.received, 0);
    while (total() < expected && nowMs() - t0 < ROUND_MS) await new Promise((r) => setTimeout(r, 5));
    return total() / ((nowMs() - t0) / 1000);
  } finally {
    for (const m of members) m.conn.abort();
    await new Promise((r) => setTimeout(r, 300)); // let the server see them go
  }
}

main(FIGURE, async () => {
  const dir = tempDir("sockit-bench-chat-");
  const children: ChildProcess[] = [];
  // the watchdog exits the process without running `finally`: the servers must not outlive it
  process.once("exit", () => {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const s = await startSockit(false);
  children.push(s.proc);
  const d = await startSockit(true);
  children.push(d.proc);
  const n = await startNgircd(dir);
  if (n) children.push(n.proc);
  const redis = await startRedis(dir);
  const nodes: Array<{ port: number; proc: ChildProcess }> = [];
  if (redis) {
    children.push(redis.proc);
    for (let i = 0; i < 3; i++) {
      const node = await startSockit(false, ["--redis", redis.url]);
      children.push(node.proc);
      nodes.push(node);
    }
  }
  try {
    const variants: Record<string, () => Promise<number>> = {
      sockit: () => round(s.port),
      sockitFlood: () => round(d.port),
    };
    if (n !== undefined) variants.raw = () => round(n.port);
    if (nodes.length === 3) variants.redis3 = () => round(...nodes.map((x) => x.port));
    const samples = await interleave(variants, Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3));
    emit({
      figure: FIGURE,
      unit: "deliveries/s",
      higherIsBetter: true,
      target: 1,
      samples: {
        sockit: samples.sockit ?? [],
        raw: samples.raw ?? [],
        sockitFlood: samples.sockitFlood ?? [],
        redis3: samples.redis3 ?? [],
      },
      extra: {
        mode: `sockit serve chat (flood control off; sockitFlood: default flood control) vs ngircd defaults (raw); redis3: three nodes over Redis, flood control off; ${CLIENTS} clients in ${ROOMS} rooms, ${MSGS} messages each, sent at once, rounds capped at ${ROUND_MS / 1000} s`,
        ngircd: n !== undefined,
        redis: redis !== undefined,
      },
    });
  } finally {
    s.proc.kill("SIGKILL");
    d.proc.kill("SIGKILL");
    n?.proc.kill("SIGKILL");
    for (const x of nodes) x.proc.kill("SIGKILL");
    redis?.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
