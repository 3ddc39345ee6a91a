/**
 * The chat server under abuse, on loopback: a client that never reads while the room flows
 * (SendQ exceeded; the others get everything), flood control (paced, then Excess Flood), the
 * registration and ping timeouts, the client limit, `sockit serve chat`'s graceful shutdown and
 * its --motd, --password and --history.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type ChatLimits, type ChatServer, serveChat } from "../src/services/chat/index.js";
import { LineClient } from "./support/chat.js";
import { waitFor } from "./support/kit.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

async function withServer(
  limits: Partial<ChatLimits>,
  fn: (s: ChatServer, connect: () => Promise<LineClient>) => Promise<void>,
): Promise<void> {
  const server = await serveChat({ port: 0, limits });
  const open: LineClient[] = [];
  try {
    await fn(server, async () => {
      const c = await LineClient.connect(server.address);
      open.push(c);
      return c;
    });
  } finally {
    for (const c of open) await c.close();
    await server.close();
  }
}

describe("chat robustness", () => {
  test("a client that never reads is dropped with SendQ exceeded; the room keeps flowing", async () => {
    const limits = {
      sendQueueBytes: 64 * 1024,
      floodRate: 100_000,
      floodBurst: 100_000,
      floodMaxPending: 100_000,
    };
    await withServer(limits, async (server, connect) => {
      const talker = await connect();
      const watcher = await connect();
      await talker.register("talker");
      await watcher.register("watcher");
      await talker.send("JOIN #flow");
      await watcher.send("JOIN #flow");
      await talker.wait(/:watcher!\S+ JOIN #flow/);
      // the never-reader: Python with a small receive buffer; reads only when told to (stdin)
      const py = spawn(
        "python3",
        [
          "-c",
          `
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"NICK slow\\r\\nUSER slow 0 * :never reads\\r\\nJOIN #flow\\r\\n")
print("joined", flush=True)
sys.stdin.readline()
s.settimeout(5)
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
except Exception as e:
    print("recv ended:", type(e).__name__)
print("last:", data.rstrip(b"\\r\\n").split(b"\\r\\n")[-1].decode("latin1"), flush=True)
`,
          String(server.port),
        ],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
      let pyOut = "";
      py.stdout.on("data", (d: Buffer) => (pyOut += d.toString()));
      const pyExit = new Promise<number | null>((r) => py.once("exit", (c) => r(c)));
      try {
        await talker.wait(/:slow!\S+ JOIN #flow/);
        const text = "x".repeat(400);
        let sent = 0;
        // flow until the server drops the never-reader (bounded: at most 40 000 lines, ~17 MB),
        // in batches of 50 lines (~21 KB: within a reader's send queue) the watcher keeps up with
        while (!talker.lines.some((l) => /QUIT :SendQ exceeded/.test(l)) && sent < 40_000) {
          const batch = Array.from({ length: 50 }, (_, i) => `PRIVMSG #flow :${sent + i} ${text}`);
          await talker.send(...batch);
          sent += 50;
          await watcher.wait(
            new RegExp(`PRIVMSG #flow :${sent - 1} x`),
            5000,
            Math.max(0, watcher.lines.length - 60),
          );
        }
        await talker.wait(/^:slow!slow@127\.0\.0\.1 QUIT :SendQ exceeded$/, 10_000);
        py.stdin.write("read\n"); // it reads again now: the goodbye reaches it
        await watcher.wait(/^:slow!\S+ QUIT :SendQ exceeded$/);
        // the room goes on: the watcher gets every line, in order, exactly once
        await talker.send("PRIVMSG #flow :after the drop");
        await watcher.wait(/PRIVMSG #flow :after the drop$/, 10_000);
        const got = watcher.lines
          .filter((l) => / PRIVMSG #flow :\d+ x/.test(l))
          .map((l) => Number(/:(\d+) x/.exec(l)![1]));
        assert.equal(got.length, sent);
        assert.ok(
          got.every((n, i) => n === i),
          "in order, each once",
        );
        await waitFor(() => server.clients === 2, 5000, "the server to let the slow client go");
        const timer = setTimeout(() => py.kill("SIGKILL"), 10_000);
        await pyExit;
        clearTimeout(timer);
        assert.match(pyOut, /^last: ERROR :Closing Link \(SendQ exceeded\)$/m, pyOut);
      } finally {
        py.kill("SIGKILL");
      }
    });
  });

  test("flood control: lines past the burst are paced; too many held back is Excess Flood", async () => {
    await withServer({ floodRate: 10, floodBurst: 5, floodMaxPending: 40 }, async (_s, connect) => {
      const a = await connect();
      const b = await connect();
      await a.register("fast");
      await b.register("reader");
      await a.send("JOIN #f");
      await b.send("JOIN #f");
      await a.wait(/:reader!\S+ JOIN #f/);
      const t0 = Date.now();
      await a.send(...Array.from({ length: 25 }, (_, i) => `PRIVMSG #f :n${i}`));
      await b.wait(/PRIVMSG #f :n24$/, 10_000);
      const took = Date.now() - t0;
      // 5 at once, then 20 at 10/s: about 2 s (the bucket may have refilled a little before)
      assert.ok(took >= 1500, `25 lines took ${took} ms; flood control should pace them`);
      const got = b.lines.filter((l) => / PRIVMSG #f :n\d+$/.test(l)).map((l) => l.split(":n")[1]);
      assert.deepEqual(
        got,
        Array.from({ length: 25 }, (_, i) => String(i)),
      );
      await a.send(...Array.from({ length: 200 }, (_, i) => `PRIVMSG #f :flood${i}`));
      await a.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Excess Flood\)$/);
      await a.waitClosed();
      await b.wait(/^:fast!\S+ QUIT :Excess Flood$/);
    });
  });

  test("registration timeout (silent and half-registered clients); ping timeout; PONG keeps a client", async () => {
    await withServer({ registrationMs: 300, pingMs: 300, pongMs: 300 }, async (_s, connect) => {
      const silent = await connect();
      const half = await connect();
      await half.send("NICK halfway");
      const live = await connect();
      const dead = await connect();
      await live.register("live");
      await dead.register("dead");
      await live.send("JOIN #p");
      await dead.send("JOIN #p");
      await live.wait(/:dead!\S+ JOIN #p/);
      for (const c of [silent, half]) {
        await c.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Registration timed out\)$/, 3000);
        await c.waitClosed();
      }
      // live answers every PING; dead never does
      const answering = setInterval(() => {
        if (live.lines.some((l) => l.startsWith("PING"))) void live.send("PONG :sockit").catch(() => {});
      }, 50);
      try {
        await dead.wait(/^PING :?sockit$/, 3000);
        await dead.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Ping timeout: \d+ seconds\)$/, 3000);
        await live.wait(/^:dead!\S+ QUIT :Ping timeout: \d+ seconds$/);
        await new Promise((r) => setTimeout(r, 800));
        assert.equal(live.closed, false, "a client that answers PING stays");
      } finally {
        clearInterval(answering);
      }
    });
  });

  test("max clients: one more is told why and closed", async () => {
    await withServer({ maxClients: 2 }, async (server, connect) => {
      const a = await connect();
      const b = await connect();
      await a.wait(/NOTICE/);
      await b.wait(/NOTICE/);
      const c = await connect();
      await c.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Too many connections \(limit 2\)\)$/);
      await c.waitClosed();
      assert.equal(server.clients, 2);
    });
  });

  test("sockit serve chat: SIGTERM tells every client, IRC and plain, and exits 0", async () => {
    const child = start(process.execPath, [SOCKIT, "serve", "chat", "--port", "0", "--json"]);
    try {
      const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
      const { listening } = JSON.parse(line) as { listening: string };
      const irc = await LineClient.connect(listening);
      const plain = await LineClient.connect(listening);
      try {
        await irc.register("ircuser");
        await plain.send("hi");
        await plain.wait(/welcome/);
        child.kill("SIGTERM");
        await irc.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Server shutting down\)$/);
        await plain.wait(/^\*\*\* Closing Link: 127\.0\.0\.1 \(Server shutting down\)$/);
        await irc.waitClosed();
        await plain.waitClosed();
        assert.equal(await child.exit(10_000), 0, child.stderr());
      } finally {
        await irc.close();
        await plain.close();
      }
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("sockit serve chat flags", () => {
  test("--motd FILE, --password, --history N; nicknames collide under rfc1459 casemapping", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockit-chat-motd-"));
    const motd = join(dir, "motd.txt");
    writeFileSync(motd, "Line one of the MOTD.\nLine two.\n");
    const child = start(process.execPath, [
      SOCKIT,
      "serve",
      "chat",
      "--port",
      "0",
      "--json",
      "--motd",
      motd,
      "--password",
      "s3cret",
      "--history",
      "2",
      "--max-per-source",
      "5",
    ]);
    const open: LineClient[] = [];
    try {
      const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
      const { listening, limits } = JSON.parse(line) as {
        listening: string;
        limits: { maxPerSource: number };
      };
      assert.equal(limits.maxPerSource, 5, "--max-per-source after serve chat is taken");
      const connect = async () => {
        const c = await LineClient.connect(listening);
        open.push(c);
        return c;
      };
      const wrong = await connect();
      await wrong.send("PASS nope", "NICK intruder", "USER i 0 * :i");
      await wrong.wait(/ 464 \* :Password incorrect$/);
      await wrong.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Bad Password\)$/);
      await wrong.waitClosed();
      const a = await connect();
      await a.send("PASS s3cret");
      await a.register("Nick[1]");
      await a.wait(/ 372 Nick\[1\] :- Line one of the MOTD\.$/);
      await a.wait(/ 372 Nick\[1\] :- Line two\.$/);
      const b = await connect();
      await b.send("PASS s3cret", "NICK nick{1}");
      await b.wait(/ 433 \* nick\{1\} :Nickname is already in use$/);
      await a.send("JOIN #h", "PRIVMSG #h :one", "PRIVMSG #h :two", "PRIVMSG #h :three");
      const p = await connect();
      await p.send("/join #h");
      await p.wait(/^\[\d\d:\d\d\] <Nick\[1\]> three$/);
      assert.deepEqual(
        p.lines.filter((l) => /^\[\d\d:\d\d\] </.test(l)).map((l) => l.slice(8)),
        ["<Nick[1]> two", "<Nick[1]> three"],
      );
    } finally {
      for (const c of open) await c.close();
      child.kill("SIGTERM");
      await child.exit(10_000).catch(() => child.kill("SIGKILL"));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
