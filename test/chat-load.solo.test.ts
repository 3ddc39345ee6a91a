/**
 * Load on `sockit serve chat` (a child process, so the clients and the server do not share a
 * CPU): CLIENTS IRC clients in ROOMS rooms, each sending RATE messages a second for SECONDS;
 * every message must reach every other member of its room exactly once, in order per sender,
 * and nobody is dropped but one client that never reads, in every room: what it is sent outgrows
 * its 64 KiB send queue and the kernel's buffers, it is dropped with "SendQ exceeded", and every
 * room sees it leave while the messages keep flowing.
 *
 * The figure by default: 1,000 clients, 10 rooms, 5 msg/s, 10 s (about 30 s on two
 * cores; a `.solo` file, so nothing else runs beside it). `SOCKIT_CHAT_LOAD=CxRxMxS` (clients x
 * rooms x rate x seconds) sets another; under ~8 MB sent to the never-reader its drop is not
 * asserted (the kernel's buffers may absorb it — chat-robust.test.ts floods past them).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { type Conn, dial } from "../src/net/index.js";
import { waitFor } from "./support/kit.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

const [CLIENTS, ROOMS, RATE, SECONDS] = (process.env.SOCKIT_CHAT_LOAD ?? "1000x10x5x10")
  .split("x")
  .map(Number) as [number, number, number, number];
const PAD = "p".repeat(400); // long lines: more bytes through every queue

class Member {
  readonly nick: string;
  readonly room: string;
  /** Per sender: the next sequence number expected. */
  readonly next = new Map<string, number>();
  received = 0;
  errors: string[] = [];
  joined = false;
  closed = false;
  quits: string[] = [];
  #held = "";
  constructor(
    readonly conn: Conn,
    readonly index: number,
  ) {
    this.nick = `c${index}`;
    this.room = `#r${index % ROOMS}`;
    void this.#read();
  }
  async #read(): Promise<void> {
    try {
      for (;;) {
        const b = await this.conn.read();
        if (b === null) break;
        this.#held += b.toString("latin1");
        let i: number;
        while ((i = this.#held.indexOf("\n")) >= 0) {
          this.#line(this.#held.slice(0, i).replace(/\r$/, ""));
          this.#held = this.#held.slice(i + 1);
        }
      }
    } catch {
      // reset
    } finally {
      this.closed = true;
    }
  }
  #line(l: string): void {
    const m = /^:(c\d+)!\S+ PRIVMSG (#r\d+) :(\d+) p+$/.exec(l);
    if (m) {
      const [, from, room, seq] = m;
      if (room !== this.room) this.errors.push(`${this.nick} got a message for ${room}`);
      const want = this.next.get(from!) ?? 0;
      if (Number(seq) !== want) this.errors.push(`${this.nick} from ${from}: got ${seq}, expected ${want}`);
      this.next.set(from!, Number(seq) + 1);
      this.received++;
    } else if (/ 366 /.test(l)) this.joined = true;
    else if (/ QUIT /.test(l)) this.quits.push(l);
    else if (l.startsWith("PING")) void this.conn.write(`PONG ${l.slice(5)}\r\n`).catch(() => {});
  }
}

test(`chat load: ${CLIENTS} clients, ${ROOMS} rooms, ${RATE} msg/s for ${SECONDS} s, a never-reader among them`, async () => {
  const server = start(process.execPath, [
    SOCKIT,
    "serve",
    "chat",
    "--port",
    "0",
    "--json",
    "--max-clients",
    String(CLIENTS + 10),
    "--max-per-source",
    String(CLIENTS + 10),
    "--flood-rate",
    String(RATE * 4),
    "--sendq",
    "65536",
  ]);
  const members: Member[] = [];
  let slow: ReturnType<typeof spawn> | undefined;
  try {
    const [line] = await server.line(/^\{"listening".*\}$/m, 10_000);
    const { listening, port } = JSON.parse(line) as { listening: string; port: number };
    for (let i = 0; i < CLIENTS; i++) {
      const conn = await dial("tcp", listening, { timeout: 10_000 });
      const m = new Member(conn, i);
      members.push(m);
      await conn.write(`NICK ${m.nick}\r\nUSER ${m.nick} 0 * :load\r\nJOIN ${m.room}\r\n`);
    }
    await waitFor(() => members.every((m) => m.joined), 30_000, "every client to join its room");
    // the never-reader, in every room: Python with a small receive buffer that reads nothing
    slow = spawn(
      "python3",
      [
        "-c",
        `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"NICK slow\\r\\nUSER slow 0 * :never reads\\r\\nJOIN " + sys.argv[2].encode() + b"\\r\\n")
sys.stdin.read()
`,
        String(port),
        Array.from({ length: ROOMS }, (_, i) => `#r${i}`).join(","),
      ],
      { stdio: ["pipe", "ignore", "ignore"] },
    );
    await new Promise((r) => setTimeout(r, 500));
    const perSender = RATE * SECONDS;
    // what the never-reader is sent: beyond ~8 MB (64 KiB of send queue plus the kernel's
    // autotuned buffers on both ends of a loopback connection) it cannot all be absorbed
    const dropExpected = CLIENTS * perSender * (PAD.length + 40) > 8e6;
    let seq = 0;
    const t0 = Date.now();
    // one tick every 1/RATE s: every client sends its next message
    while (seq < perSender) {
      await Promise.all(members.map((m) => m.conn.write(`PRIVMSG ${m.room} :${seq} ${PAD}\r\n`)));
      seq++;
      const due = t0 + (seq * 1000) / RATE;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    const expected = (m: Member) => (members.filter((o) => o.room === m.room).length - 1) * perSender;
    await waitFor(
      () => members.every((m) => m.received >= expected(m)),
      60_000,
      "every message to reach every other member of its room",
      100,
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more (no duplicates) arrives
    for (const m of members) {
      assert.deepEqual(m.errors.slice(0, 5), [], `${m.nick}: out of order or misrouted`);
      assert.equal(m.received, expected(m), `${m.nick}: each message exactly once`);
      assert.equal(m.closed, false, `${m.nick} was not dropped`);
    }
    assert.ok(
      members.every((m) => m.quits.every((q) => q.startsWith(":slow!"))),
      "nobody else left",
    );
    if (dropExpected) {
      // what it was sent outgrew its send queue and the kernel's buffers: dropped, as the room saw
      assert.ok(
        members.every((m) => m.quits.some((q) => /^:slow!\S+ QUIT :.*SendQ exceeded/.test(q))),
        `every room saw the never-reader leave with "SendQ exceeded" (${members[0]!.quits.join(" | ") || "no QUIT"})`,
      );
    }
  } finally {
    slow?.kill("SIGKILL");
    for (const m of members) m.conn.abort();
    server.kill("SIGTERM");
    await server.exit(15_000).catch(() => server.kill("SIGKILL"));
  }
});
