/**
 * The built `sockit listen --exec` and `--chat` against real clients: nc echoing through
 * `--exec cat` after an immediate half-close, and a chat room where one client never reads.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { needs, peerPath } from "./support/peers.js";
import { type Child, start } from "./support/spawn.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** Waits for `sockit: listening on HOST:PORT` on the child's stderr; returns the port. */
async function listeningPort(child: Child, ms = 10_000): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const m = /listening on .*:(\d+)/.exec(child.stderr());
    if (m) return Number(m[1]);
    if (Date.now() > until) throw new Error(`no listening line; stderr: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const NC = { skip: needs(["nc"]) };

test("listen --exec cat echoes all to nc -N, which sends 16 MiB and half-closes at once", NC, async () => {
  const exe = peerPath("nc");
  const srv = start(process.execPath, [bin, "listen", "--exec", "cat", "127.0.0.1", "0"]);
  try {
    const port = await listeningPort(srv);
    const data = randomBytes(16 * 1024 * 1024);
    const nc = spawn(exe, ["-N", "127.0.0.1", String(port)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const h = createHash("sha256");
    let got = 0;
    nc.stdout.on("data", (d: Buffer) => {
      h.update(d);
      got += d.length;
    });
    const exited = new Promise<number | null>((resolve) => nc.on("exit", resolve));
    nc.stdin.on("error", () => {});
    nc.stdin.end(data);
    const timer = setTimeout(() => nc.kill("SIGKILL"), 30_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0);
    assert.equal(got, data.length, "every byte came back");
    assert.equal(h.digest("hex"), createHash("sha256").update(data).digest("hex"));
    assert.equal(await srv.exit(10_000), 0, "one client served: listen exits 0");
  } finally {
    srv.kill("SIGKILL");
  }
});

interface ChatClient {
  sock: net.Socket;
  text: () => string;
}

function chatClient(port: number, read: boolean): Promise<ChatClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port }, () => resolve({ sock, text: () => buf }));
    let buf = "";
    sock.on("error", () => {});
    if (read) sock.on("data", (d: Buffer) => (buf += d.toString()));
    else sock.pause();
    sock.once("error", reject);
  });
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("listen --chat keeps delivering to two readers while a third client never reads and is dropped", async () => {
  const srv = start(process.execPath, [bin, "-v", "listen", "--chat", "127.0.0.1", "0"]);
  const clients: ChatClient[] = [];
  try {
    const port = await listeningPort(srv);
    const a = await chatClient(port, true);
    const b = await chatClient(port, true);
    const mute = await chatClient(port, false);
    clients.push(a, b, mute);
    a.sock.write("/nick alice\n");
    b.sock.write("/nick bob\n");
    await until("both nicknames", () => b.text().includes("is now alice") && a.text().includes("is now bob"));
    const line = `${"x".repeat(400)}\n`; // chat lines are at most 510 bytes
    const N = 30_000; // 12 MB: more than the kernel buffers toward the mute client can hold
    // alice talks well past the mute client's queue bound; bob must get every line
    for (let i = 0; i < N; i++) {
      a.sock.write(`${i} ${line}`);
      if (i % 200 === 199) await until(`bob has line ${i}`, () => b.text().includes(`<alice> ${i} `));
    }
    await until("bob has everything", () => b.text().includes(`<alice> ${N - 1} `));
    await until("the mute client is dropped", () =>
      /^\*\*\* guest3 quit \(SendQ exceeded\)$/m.test(b.text()),
    );
    b.sock.write("still here\n");
    await until("alice still receives", () => a.text().includes("<bob> still here"));
    const lines = b
      .text()
      .split("\n")
      .filter((l) => l.startsWith("<alice> "));
    assert.equal(lines.length, N, "bob received every one of alice's lines, in order");
    for (let i = 0; i < lines.length; i++) assert.ok(lines[i]!.startsWith(`<alice> ${i} `));
  } finally {
    for (const c of clients) c.sock.destroy();
    srv.kill("SIGTERM");
    await srv.exit(10_000).catch(() => srv.kill("SIGKILL"));
  }
});

/** A client from `localAddress` that reads until the server closes it; resolves what it got. */
function closedBy(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const sock = net.connect({ host: "127.0.0.1", port, localAddress });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`not closed by the server within 10 s; got ${JSON.stringify(got)}`));
    }, 10_000);
    sock.on("data", (d: Buffer) => (got += d.toString()));
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

test("listen --chat keeps listen's -m, --deny and --trace (the hub serves the clients listen accepts)", async () => {
  const srv = start(process.execPath, [
    bin,
    "-v",
    "--trace",
    "listen",
    "--chat",
    "-m",
    "2",
    "--deny",
    "127.0.0.2",
    "127.0.0.1",
    "0",
  ]);
  const clients: ChatClient[] = [];
  try {
    const port = await listeningPort(srv);
    const a = await chatClient(port, true);
    clients.push(a);
    await until("a's welcome", () => a.text().includes("*** in #lobby: nobody else"));
    // --deny: a client from 127.0.0.2 is closed before the hub sees it
    assert.equal(await closedBy(port, "127.0.0.2"), "");
    const b = await chatClient(port, true);
    clients.push(b);
    await until("b in the room", () => a.text().includes("*** guest2 joined #lobby"));
    // -m 2: a third client is refused while two are connected
    assert.equal(await closedBy(port, "127.0.0.1"), "");
    a.sock.write("traced hello\n");
    await until("b hears a", () => b.text().includes("<guest1> traced hello\n"));
    await until("the trace of a's line", () =>
      /^recv\(\d+, \d+\) = 13 b'traced hello\\n'$/m.test(srv.stderr()),
    );
    assert.match(srv.stderr(), /^accept\(\d+\) = \d+ \('127\.0\.0\.1', \d+\)$/m);
    assert.match(srv.stderr(), /denied 127\.0\.0\.2:\d+ \(/);
    assert.match(srv.stderr(), /refused 127\.0\.0\.1:\d+: 2 clients connected, the limit is -m 2/);
    assert.doesNotMatch(a.text(), /guest3/, "neither reached the hub"); // it would say "*** guest3 joined"
  } finally {
    for (const c of clients) c.sock.destroy();
    srv.kill("SIGTERM");
    await srv.exit(10_000).catch(() => srv.kill("SIGKILL"));
  }
});
