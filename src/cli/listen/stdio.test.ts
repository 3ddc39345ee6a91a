import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { leakFree, within } from "../../../test/support/leaks.js";
import { servedPair } from "../../../test/support/kit.js";
import { TimeoutError } from "../../errors/index.js";
import type { Conn } from "../../net/conn.js";
import { dial } from "../../net/dial.js";
import { listen } from "../../net/listen.js";
import { Context } from "../context.js";
import { chunks } from "../session/splice.js";
import { StdinReader } from "../session/stdin.js";
import { Ending, runSession } from "../session/stdio.js";
import { stdioMode } from "./stdio.js";

function fakeIo() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));
  const ctx = new Context(
    { verbose: true, hexdump: false, trace: false, json: false, color: "never" },
    { stdin, stdout, stderr, env: {} },
  );
  return { ctx, stdin, out: () => Buffer.concat(out).toString(), err: () => Buffer.concat(err).toString() };
}

async function readAll(c: Conn): Promise<string> {
  let s = "";
  for await (const b of c) s += b.toString();
  return s;
}

test(
  "runSession half-closes at stdin EOF and still prints the reply sent after the peer read EOF",
  leakFree(async () => {
    const { ctx, stdin, out, err } = fakeIo();
    const { ln, conn, served } = await servedPair(async (s) => {
      const req = await readAll(s);
      await s.write(`got ${req.length} bytes`);
    });
    try {
      stdin.end("request\n");
      await within(runSession(conn, new StdinReader(stdin), ctx, { endOnPeerEof: false }), 5000, "session");
      assert.equal(out(), "got 8 bytes");
      assert.match(err(), /sent FIN .*shutdown SHUT_WR/);
      await served;
    } finally {
      await conn.close();
      await ln.close();
    }
  }),
);

test(
  "runSession with shutdown off keeps writing possible and ends when the peer closes",
  leakFree(async () => {
    const { ctx, stdin, out } = fakeIo();
    const { ln, conn, served } = await servedPair(async (s) => {
      const b = await s.read();
      await s.write(`echo ${b?.toString()}`);
    });
    try {
      stdin.end("x");
      await within(
        runSession(conn, new StdinReader(stdin), ctx, { shutdown: false, endOnPeerEof: false }),
        5000,
        "session",
      );
      assert.equal(out(), "echo x");
      await served;
    } finally {
      await conn.close();
      await ln.close();
    }
  }),
);

test(
  "runSession -q gives up waiting for a peer that never closes, cleanly",
  leakFree(async () => {
    const { ctx, stdin } = fakeIo();
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const { ln, conn, served } = await servedPair(() => hold);
    try {
      stdin.end("x");
      const t0 = Date.now();
      await within(
        runSession(conn, new StdinReader(stdin), ctx, { lingerMs: 200, endOnPeerEof: false }),
        5000,
        "session",
      );
      assert.ok(Date.now() - t0 >= 150);
    } finally {
      release();
      await served;
      await conn.close();
      await ln.close();
    }
  }),
);

test(
  "runSession -i fails with TimeoutError when no data moves either way",
  leakFree(async () => {
    const { ctx, stdin } = fakeIo();
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const { ln, conn, served } = await servedPair(() => hold);
    try {
      await assert.rejects(
        within(
          runSession(conn, new StdinReader(stdin), ctx, { idleMs: 150, endOnPeerEof: false }),
          5000,
          "session",
        ),
        (e: unknown) =>
          e instanceof TimeoutError && /no data either way for 0\.15 s/.test((e as Error).message),
      );
    } finally {
      stdin.end();
      release();
      await served;
      await conn.close();
      await ln.close();
    }
  }),
);

test(
  "runSession ends at the peer's EOF when stdin is a terminal (endOnPeerEof), stdin still open",
  leakFree(async () => {
    const { ctx, stdin, out } = fakeIo();
    const { ln, conn, served } = await servedPair(async (s) => {
      await s.write("daytime\n");
    });
    try {
      await within(runSession(conn, new StdinReader(stdin), ctx, { endOnPeerEof: true }), 5000, "session");
      assert.equal(out(), "daytime\n");
      await served;
    } finally {
      stdin.end();
      await conn.close();
      await ln.close();
    }
  }),
);

test(
  "runSession --crlf sends CRLF line ends and an abort ends the session quietly",
  leakFree(async () => {
    const { ctx, stdin } = fakeIo();
    let got = "";
    const { ln, conn, served } = await servedPair(async (s) => {
      for await (const b of s) got += b.toString();
    });
    const ac = new AbortController();
    try {
      stdin.write("a\nb\n");
      const session = runSession(conn, new StdinReader(stdin), ctx, { crlf: true, signal: ac.signal });
      const until = Date.now() + 3000;
      while (got.length < 6 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      ac.abort();
      await within(session, 5000, "session");
      await served;
      assert.equal(got, "a\r\nb\r\n");
    } finally {
      stdin.end();
      await conn.close();
      await ln.close();
    }
  }),
);

test(
  "stdioMode with keep sends stdin to every client and every client's bytes to stdout",
  leakFree(async () => {
    const { ctx, stdin, out } = fakeIo();
    const ac = new AbortController();
    const mode = stdioMode({ keep: true, signal: ac.signal }, ctx);
    const ln = await listen("tcp", "127.0.0.1:0");
    const clients: Conn[] = [];
    const tasks: Promise<void>[] = [];
    try {
      for (let id = 1; id <= 2; id++) {
        const accepted = ln.accept();
        clients.push(await dial("tcp", ln.address));
        const conn = await accepted;
        tasks.push(mode.serve({ conn, id, peer: conn.remoteAddress, peerAddress: "127.0.0.1", peerPort: 0 }));
      }
      stdin.end("to all\n");
      const got = await within(Promise.all(clients.map(readAll)), 5000, "broadcast");
      assert.deepEqual(got, ["to all\n", "to all\n"]);
      await clients[0]!.write("from one\n");
      await clients[0]!.closeWrite();
      await clients[1]!.closeWrite();
      await within(Promise.all(tasks), 5000, "clients done");
      assert.equal(out(), "from one\n");
    } finally {
      ac.abort();
      await mode.close();
      for (const c of clients) await c.close();
      await ln.close();
    }
  }),
);

test("StdinReader hands out chunks then null; chunks() splits at the datagram limit", async () => {
  const r = new PassThrough();
  const reader = new StdinReader(r);
  r.end("abc");
  assert.equal((await reader.read())?.toString(), "abc");
  assert.equal(await reader.read(), null);
  assert.equal(reader.ended, true);
  assert.deepEqual(
    chunks(Buffer.alloc(10), 4).map((b) => b.length),
    [4, 4, 2],
  );
  assert.equal(chunks(Buffer.alloc(3), 4).length, 1);
});

test("Ending settles once: the first finish wins", async () => {
  const e = new Ending();
  e.finish();
  e.finish(new Error("later"));
  await e.done;
  assert.equal(e.settled, true);
  const f = new Ending();
  f.finish(new Error("first"));
  f.finish();
  await assert.rejects(f.done, /first/);
});
