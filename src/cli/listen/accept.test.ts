import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { leakFree, within } from "../../../test/support/leaks.js";
import type { Conn } from "../../net/conn.js";
import { dial } from "../../net/dial.js";
import { listen } from "../../net/listen.js";
import { AccessPolicy, parseCidr } from "../cidr.js";
import { Context } from "../context.js";
import { acceptLoop, clientOf, unmapped } from "./accept.js";
import type { Client, ListenMode } from "./mode.js";

function ctxWithStderr() {
  const err: Buffer[] = [];
  const stderr = new PassThrough();
  stderr.on("data", (d: Buffer) => err.push(d));
  const ctx = new Context(
    { verbose: true, hexdump: false, trace: false, json: false, color: "never" },
    { stdin: new PassThrough(), stdout: new PassThrough(), stderr, env: {} },
  );
  return { ctx, err: () => Buffer.concat(err).toString() };
}

/** A mode that greets each client with its id and closes it once the client half-closes. */
function greeter(): ListenMode & { served: Client[]; closed: boolean } {
  const m = {
    served: [] as Client[],
    closed: false,
    async serve(c: Client) {
      m.served.push(c);
      await c.conn.write(`hello #${c.id}\n`);
      while ((await c.conn.read()) !== null) continue;
      await c.conn.close();
    },
    async close() {
      m.closed = true;
    },
  };
  return m;
}

async function readAll(c: Conn): Promise<string> {
  let s = "";
  try {
    for await (const b of c) s += b.toString();
  } catch {
    // a refused client may see a reset instead of EOF
  }
  return s;
}

const open = new AccessPolicy([], []);

test("unmapped() shows IPv4-mapped peers as IPv4 and leaves the rest alone", () => {
  assert.equal(unmapped("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(unmapped("::FFFF:10.0.0.1"), "10.0.0.1");
  assert.equal(unmapped("::ffff:1"), "::ffff:1");
  assert.equal(unmapped("::1"), "::1");
  assert.equal(unmapped("127.0.0.1"), "127.0.0.1");
});

test(
  "acceptLoop without keep serves one client, closes the listener, and returns when it is done",
  leakFree(async () => {
    const { ctx } = ctxWithStderr();
    const ln = await listen("tcp", "127.0.0.1:0");
    const mode = greeter();
    const ac = new AbortController();
    const loop = acceptLoop(ln, mode, ctx, { keep: false, max: 1, policy: open, signal: ac.signal });
    const c = await dial("tcp", ln.address);
    const local = c.localAddress;
    try {
      await c.closeWrite();
      assert.equal(await within(readAll(c), 5000, "greeting"), "hello #1\n");
      await within(loop, 5000, "loop");
      assert.equal(mode.closed, true);
      assert.equal(mode.served[0]?.peer, local);
      await assert.rejects(dial("tcp", ln.address), /ECONNREFUSED/);
    } finally {
      ac.abort();
      await c.close();
      await ln.close();
    }
  }),
);

test(
  "acceptLoop with keep and max 1 refuses a second client with a notice, then serves the next",
  leakFree(async () => {
    const { ctx, err } = ctxWithStderr();
    const ln = await listen("tcp", "127.0.0.1:0");
    const mode = greeter();
    const ac = new AbortController();
    const loop = acceptLoop(ln, mode, ctx, { keep: true, max: 1, policy: open, signal: ac.signal });
    const conns: Conn[] = [];
    try {
      const a = await dial("tcp", ln.address);
      conns.push(a);
      assert.equal((await within(a.read(), 5000, "first greeting"))?.toString(), "hello #1\n");
      const b = await dial("tcp", ln.address);
      conns.push(b);
      assert.equal(await within(readAll(b), 5000, "refused client sees the close"), "");
      assert.match(err(), /refused 127\.0\.0\.1:\d+: 1 client connected, the limit is -m 1/);
      await a.closeWrite();
      assert.equal(await within(readAll(a), 5000, "first done"), "");
      const until = Date.now() + 5000;
      while (!err().includes("#1 127.0.0.1") && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      const c = await dial("tcp", ln.address);
      conns.push(c);
      assert.equal((await within(c.read(), 5000, "third greeting"))?.toString(), "hello #3\n");
    } finally {
      ac.abort();
      await within(loop, 5000, "loop ends on abort");
      for (const c of conns) await c.close();
    }
    assert.equal(mode.closed, true);
  }),
);

test(
  "acceptLoop closes denied peers at once and reports them with -v; the mode never sees them",
  leakFree(async () => {
    const { ctx, err } = ctxWithStderr();
    const ln = await listen("tcp", "127.0.0.1:0");
    const mode = greeter();
    const ac = new AbortController();
    const policy = new AccessPolicy([parseCidr("::1")], []);
    const loop = acceptLoop(ln, mode, ctx, { keep: true, max: 5, policy, signal: ac.signal });
    const c = await dial("tcp", ln.address);
    try {
      assert.equal(await within(readAll(c), 5000, "denied client sees the close"), "");
      assert.match(err(), /denied 127\.0\.0\.1:\d+ \(not in --allow ::1\/128\)/);
      assert.equal(mode.served.length, 0);
    } finally {
      ac.abort();
      await within(loop, 5000, "loop");
      await c.close();
    }
  }),
);

test(
  "clientOf names TCP peers host:port and Unix peers with an empty string",
  leakFree(async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    const accepted = ln.accept();
    const c = await dial("tcp", ln.address);
    const s = await accepted;
    try {
      const cl = clientOf(s, 7);
      assert.equal(cl.id, 7);
      assert.equal(cl.peer, c.localAddress);
      assert.equal(cl.peerAddress, "127.0.0.1");
      assert.equal(cl.peerPort, Number(c.localAddress.split(":")[1]));
    } finally {
      await s.close();
      await c.close();
      await ln.close();
    }
  }),
);
