/**
 * End to end: the select()-based chat example (examples/05-many-clients/select-chat-server.ts, built) with
 * independent node:net clients on loopback.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { waitFor } from "./support/kit.js";
import { type Child, start } from "./support/spawn.js";

const SERVER = fileURLToPath(new URL("../examples/05-many-clients/select-chat-server.js", import.meta.url));

/** A chat participant: a node:net connection that collects what it receives. */
interface Peer {
  sock: net.Socket;
  /** "127.0.0.1:PORT" as the server names it. */
  name: string;
  /** Complete lines received so far. */
  lines: () => string[];
  /** True once the server closed the connection. */
  ended: () => boolean;
  /** Waits (at most `ms`) until a line equal to `line` has arrived. */
  waitLine: (line: string | RegExp, ms?: number) => Promise<string>;
  /** Waits (at most `ms`) until the server closes the connection. */
  waitEnd: (ms?: number) => Promise<void>;
}

/** The kit's {@link waitFor}, with a failure message made when it fails. */
async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  try {
    await waitFor(cond, ms, "the condition");
  } catch {
    throw new Error(`not within ${ms} ms: ${what()}`);
  }
}

async function connect(port: number): Promise<Peer> {
  const sock = net.connect(port, "127.0.0.1");
  sock.setEncoding("utf8");
  let text = "";
  let ended = false;
  sock.on("data", (d: string) => {
    text += d;
  });
  sock.on("end", () => {
    ended = true;
  });
  sock.on("close", () => {
    ended = true;
  });
  sock.on("error", () => {});
  await once(sock, "connect");
  const name = `127.0.0.1:${sock.localPort}`;
  const lines = () => text.split("\n").slice(0, -1);
  const find = (l: string | RegExp) => lines().find((x) => (typeof l === "string" ? x === l : l.test(x)));
  return {
    sock,
    name,
    lines,
    ended: () => ended,
    waitLine: async (l, ms = 5000) => {
      await until(
        () => find(l) !== undefined,
        ms,
        () => `${name} waiting for ${String(l)}; got ${JSON.stringify(lines().slice(-5))}`,
      );
      return find(l)!;
    },
    waitEnd: (ms = 5000) =>
      until(
        () => ended,
        ms,
        () => `${name} still connected`,
      ),
  };
}

test("the select() chat server relays lines between clients", { timeout: 60_000 }, async () => {
  let srv: Child | undefined;
  const peers: Peer[] = [];
  try {
    srv = start(process.execPath, [SERVER, "0"]);
    const [, , portText] = await srv.line(/chat server listening on ([\d.]+):(\d+)/);
    const port = Number(portText);
    const join = async (others: number) => {
      const p = await connect(port);
      peers.push(p);
      await p.waitLine(`* welcome ${p.name}; ${others} other(s) here`);
      return p;
    };

    // joins are announced to everyone already there
    const a = await join(0);
    const b = await join(1);
    await a.waitLine(`* ${b.name} joined`);
    const c = await join(2);
    await a.waitLine(`* ${c.name} joined`);
    await b.waitLine(`* ${c.name} joined`);
    assert.ok(!c.lines().some((l) => l.endsWith("joined")), "a newcomer is not told about its own join");

    // a line from A reaches B and C with A's address, and is not echoed to A
    a.sock.write("hello from A\n");
    await b.waitLine(`[${a.name}] hello from A`);
    await c.waitLine(`[${a.name}] hello from A`);
    b.sock.write("marker\n"); // handled after A's line: an echo would reach A before this
    await a.waitLine(`[${b.name}] marker`);
    assert.ok(!a.lines().some((l) => l.includes("hello from A")), `echoed to A: ${a.lines().join(" | ")}`);

    // a partial line is held until its newline; CRLF line ends are accepted
    b.sock.write("part");
    // the scenario: for 300 ms nothing of the partial line is relayed (an absence can only be
    // watched for a while; the newline below then releases it)
    await sleep(300);
    for (const p of [a, c]) assert.ok(!p.lines().some((l) => l.includes("part")), "partial line relayed");
    b.sock.write("ial line\r\n");
    await a.waitLine(`[${b.name}] partial line`);
    await c.waitLine(`[${b.name}] partial line`);

    // several lines in one segment are all relayed, in order
    c.sock.write("one\ntwo\nthree\n");
    await a.waitLine(`[${c.name}] three`);
    const got = a.lines().filter((l) => l.startsWith(`[${c.name}]`));
    assert.deepEqual(got, [`[${c.name}] one`, `[${c.name}] two`, `[${c.name}] three`]);

    // a line longer than the limit gets its sender dropped, with a notice to the room
    const d = await join(3);
    d.sock.write("x".repeat(5000));
    await d.waitLine(/^\* lines are limited to \d+ bytes/);
    await d.waitEnd();
    await a.waitLine(`* ${d.name} dropped (line too long)`);

    // a client that stops reading is dropped; the others keep chatting
    const slow = await join(3);
    slow.sock.pause();
    const big = `${"y".repeat(4000)}\n`;
    let sent = 0;
    while (!a.lines().includes(`* ${slow.name} dropped (too slow)`)) {
      assert.ok(sent < 64 * 1024 * 1024, "the slow client was never dropped");
      if (a.sock.writableLength < 1024 * 1024) {
        a.sock.write(big);
        sent += big.length;
      } else
        await until(
          () =>
            a.sock.writableLength < 1024 * 1024 || a.lines().includes(`* ${slow.name} dropped (too slow)`),
          15_000,
          () => `A's ${a.sock.writableLength} unsent bytes to drain`,
        );
    }
    await b.waitLine(`* ${slow.name} dropped (too slow)`, 15_000);
    a.sock.write("still here\n");
    await b.waitLine(`[${a.name}] still here`, 15_000);
    await c.waitLine(`[${a.name}] still here`, 15_000);

    // leaving is announced
    c.sock.end();
    await a.waitLine(`* ${c.name} left`);
    await b.waitLine(`* ${c.name} left`);
    await srv.line(new RegExp(`\\* ${c.name.replaceAll(".", "\\.")} left`));

    // SIGTERM: everyone is told and disconnected, and the server exits 0
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(10_000), 0, `stderr: ${srv.stderr()}`);
    await a.waitLine("* server shutting down");
    await a.waitEnd();
    await b.waitEnd();
    assert.equal(srv.stderr(), "");
  } finally {
    for (const p of peers) p.sock.destroy();
    srv?.kill("SIGKILL");
  }
});

test("the select() chat server exits 0 on SIGINT with nobody connected", { timeout: 30_000 }, async () => {
  const srv = start(process.execPath, [SERVER, "0", "127.0.0.1"]);
  try {
    await srv.line(/chat server listening on 127\.0\.0\.1:\d+/);
    srv.kill("SIGINT");
    assert.equal(await srv.exit(10_000), 0, `stderr: ${srv.stderr()}`);
  } finally {
    srv.kill("SIGKILL");
  }
});
