/**
 * The Go-style face on UDP: listenPacket / PacketConn and dial("udp"), on real loopback sockets.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { OSError, TimeoutError } from "../src/errors/index.js";
import { dial, listenPacket, type PacketConn } from "../src/net/index.js";
import { rejectsOSError } from "./support/errors.js";
import { stillPending, within } from "./support/leaks.js";
import { tick } from "./support/udp-peers.js";

/** Sends `count` datagrams made by `make(i)`, paced so the kernel buffer does not overflow. */
async function paced(pc: PacketConn, to: string, count: number, make: (i: number) => Buffer, batch = 100) {
  for (let i = 0; i < count; i += batch) {
    const sends: Promise<number>[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) sends.push(pc.writeTo(make(j), to));
    await Promise.all(sends);
    await tick();
    await tick();
  }
}

/** Reads whatever arrives until nothing has come for `quietMs`. */
async function readAll(pc: PacketConn, quietMs = 150): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (;;) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), quietMs);
    try {
      out.push((await pc.readFrom(65535, { signal: ac.signal })).data);
    } catch (err) {
      if (ac.signal.aborted) return out;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

describe("listenPacket()", () => {
  for (const [network, host, formatted] of [
    ["udp", "127.0.0.1", "127.0.0.1"],
    ["udp4", "127.0.0.1", "127.0.0.1"],
    ["udp6", "[::1]", "[::1]"],
  ] as const) {
    test(`${network}: readFrom/writeTo carry datagrams both ways, with string and endpoint addresses`, async () => {
      const a = await listenPacket(network, `${host}:0`);
      const b = await listenPacket(network, `${host}:0`);
      try {
        assert.ok(a.port > 0);
        assert.equal(a.localAddress, `${formatted}:${a.port}`);
        assert.equal(a.remoteAddress, undefined);
        assert.equal(await a.writeTo("ping", b.localAddress), 4);
        const p = await within(b.readFrom(), 2000, "readFrom");
        assert.equal(p.data.toString(), "ping");
        assert.equal(p.address, a.localAddress);
        assert.equal(p.endpoint.port, a.port);
        assert.equal(p.truncated, false);
        // reply through the endpoint structure, no parsing
        assert.equal(await b.writeTo(Buffer.from("pong"), p.endpoint), 4);
        const r = await within(a.readFrom(), 2000, "readFrom");
        assert.equal(r.data.toString(), "pong");
        assert.equal(r.address, b.localAddress);
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  test("a zero-length datagram is a packet with an empty payload", async () => {
    const a = await listenPacket("udp", "127.0.0.1:0");
    const b = await listenPacket("udp", "127.0.0.1:0");
    try {
      await a.writeTo(Buffer.alloc(0), b.localAddress);
      const p = await within(b.readFrom(), 2000, "readFrom");
      assert.equal(p.data.length, 0);
      assert.equal(p.address, a.localAddress);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("readFrom(n) truncates a longer datagram, sets truncated, and the rest is gone", async () => {
    const a = await listenPacket("udp", "127.0.0.1:0");
    const b = await listenPacket("udp", "127.0.0.1:0");
    try {
      await a.writeTo("0123456789", b.localAddress);
      await a.writeTo("next", b.localAddress);
      const p = await within(b.readFrom(3), 2000, "readFrom");
      assert.equal(p.data.toString(), "012");
      assert.equal(p.truncated, true);
      const q = await within(b.readFrom(4), 2000, "readFrom");
      assert.equal(q.data.toString(), "next");
      assert.equal(q.truncated, false, "exactly n bytes is not truncated");
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("an echo server written as `for await` answers, and its loop ends cleanly on close", async () => {
    const srv = await listenPacket("udp", "127.0.0.1:0");
    const cli = await listenPacket("udp", "127.0.0.1:0");
    let served = 0;
    const loop = (async () => {
      for await (const p of srv) {
        served++;
        await srv.writeTo(Buffer.from(p.data.toString().toUpperCase()), p.endpoint);
      }
      return "ended";
    })();
    try {
      for (const word of ["one", "two", "three"]) {
        await cli.writeTo(word, srv.localAddress);
        const r = await within(cli.readFrom(), 2000, "echo reply");
        assert.equal(r.data.toString(), word.toUpperCase());
        assert.equal(r.address, srv.localAddress);
      }
      assert.equal(served, 3);
      assert.equal(await srv.close(), 0);
      assert.equal(await within(loop, 2000, "for await loop"), "ended");
    } finally {
      await srv.close();
      await cli.close();
      await loop.catch(() => {});
    }
  });

  test("rejects bad network names and bad addresses", async () => {
    await assert.rejects(listenPacket("tcp" as "udp", "127.0.0.1:0"), TypeError);
    await assert.rejects(listenPacket("udp5" as "udp", "127.0.0.1:0"), TypeError);
    await assert.rejects(listenPacket("" as "udp", "127.0.0.1:0"), TypeError);
    await assert.rejects(listenPacket("udp", 5 as unknown as string), TypeError);
    await assert.rejects(listenPacket("udp", "127.0.0.1:70000"), RangeError);
    await assert.rejects(dial("udp7" as "udp", "127.0.0.1:9"), TypeError);
    const pc = await listenPacket("udp", "127.0.0.1:0");
    try {
      await assert.rejects(pc.readFrom(-1), RangeError);
      await assert.rejects(pc.readFrom(70000), RangeError);
      await assert.rejects(pc.writeTo("x", "127.0.0.1:99999"), RangeError);
      await rejectsOSError(pc.write("x"), OSError, "EDESTADDRREQ");
      await rejectsOSError(pc.writeTo(Buffer.alloc(65508), "127.0.0.1:9"), OSError, "EMSGSIZE");
    } finally {
      await pc.close();
    }
  });

  test("EADDRINUSE without reuseAddr; two sockets share a port when both set reuseAddr", async () => {
    const a = await listenPacket("udp", "127.0.0.1:0", { reuseAddr: true });
    let b: PacketConn | undefined;
    try {
      await rejectsOSError(listenPacket("udp", a.localAddress), OSError, "EADDRINUSE", "bind");
      b = await listenPacket("udp", a.localAddress, { reuseAddr: true });
      assert.equal(b.port, a.port);
    } finally {
      await a.close();
      await b?.close();
    }
  });

  test("close() resolves the discarded count, rejects pending reads EBADF and is idempotent", async () => {
    const pc = await listenPacket("udp", "127.0.0.1:0");
    const pending = pc.readFrom();
    pending.catch(() => {});
    assert.ok(await stillPending(pending, 30));
    assert.equal(await pc.close(), 0);
    await rejectsOSError(pending, OSError, "EBADF");
    await rejectsOSError(pc.readFrom(), OSError, "EBADF");
    await rejectsOSError(pc.writeTo("x", "127.0.0.1:9"), OSError, "EBADF");
    assert.equal(await pc.close(), 0);
  });

  // BUG (reported): writeTo() with a "host:port" string awaits resolution before the send reaches
  // the core, so close() issued right after un-awaited writeTo calls closes first: the writes
  // reject EBADF and nothing is delivered (with an endpoint structure it works, see below).
  test('close() right after un-awaited writeTo("host:port") calls still delivers every datagram', async () => {
    const rx = await listenPacket("udp", "127.0.0.1:0");
    const tx = await listenPacket("udp", "127.0.0.1:0");
    try {
      const writes: Promise<number>[] = [];
      for (let i = 0; i < 100; i++) writes.push(tx.writeTo(`w${i}`, rx.localAddress));
      const discarded = await within(tx.close(), 5000, "close");
      const failed = (await Promise.allSettled(writes)).filter((r) => r.status === "rejected").length;
      assert.equal(failed, 0, `${failed} writes rejected after close()`);
      assert.equal(discarded, 0);
      assert.equal((await readAll(rx)).length, 100);
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  test("close() right after un-awaited writeTo(endpoint) calls still delivers every datagram", async () => {
    const rx = await listenPacket("udp", "127.0.0.1:0");
    const tx = await listenPacket("udp", "127.0.0.1:0");
    try {
      const to = rx.localEndpoint!;
      const writes: Promise<number>[] = [];
      // 200 unpaced datagrams fit the receiver's default kernel buffer (~256 small ones do)
      for (let i = 0; i < 200; i++) writes.push(tx.writeTo(`w${i}`, to));
      const discarded = await within(tx.close(), 5000, "close");
      assert.equal(discarded, 0);
      const results = await Promise.allSettled(writes);
      assert.equal(results.filter((r) => r.status === "rejected").length, 0);
      const got = (await readAll(rx)).map((d) => d.toString());
      assert.equal(got.length, 200);
      assert.equal(got[0], "w0");
      assert.equal(got.at(-1), "w199");
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  test("an AbortSignal closes it and ends a `for await` loop", async () => {
    const ac = new AbortController();
    const pc = await listenPacket("udp", "127.0.0.1:0", { signal: ac.signal });
    const tx = await listenPacket("udp", "127.0.0.1:0");
    const seen: string[] = [];
    const loop = (async () => {
      for await (const p of pc) seen.push(p.data.toString());
    })();
    try {
      await tx.writeTo("before abort", pc.localAddress);
      const until = Date.now() + 2000;
      while (seen.length === 0 && Date.now() < until) await sleep(10);
      assert.deepEqual(seen, ["before abort"]);
      ac.abort();
      await within(loop, 2000, "loop after abort");
      await rejectsOSError(pc.readFrom(), OSError, "EBADF");
      // an already aborted signal closes at once
      const pc2 = await listenPacket("udp", "127.0.0.1:0", { signal: AbortSignal.abort() });
      await sleep(10);
      await rejectsOSError(pc2.readFrom(), OSError, "EBADF");
      await pc2.close();
    } finally {
      ac.abort();
      await pc.close();
      await tx.close();
      await loop.catch(() => {});
    }
  });
});

describe("deadlines", () => {
  test("a past read deadline rejects a pending readFrom with TimeoutError; clearing it lets reads work", async () => {
    const a = await listenPacket("udp", "127.0.0.1:0");
    const b = await listenPacket("udp", "127.0.0.1:0");
    try {
      const pending = b.readFrom();
      pending.catch(() => {});
      assert.ok(await stillPending(pending, 30));
      b.setReadDeadline(Date.now() + 50);
      await rejectsOSError(within(pending, 2000, "pending read"), TimeoutError, "ETIMEDOUT");
      // still expired: later reads fail at once
      await rejectsOSError(b.readFrom(), TimeoutError, "ETIMEDOUT");
      b.setReadDeadline(null);
      await a.writeTo("after the deadline", b.localAddress);
      const p = await within(b.readFrom(), 2000, "read after clearing");
      assert.equal(p.data.toString(), "after the deadline");
      // a deadline already in the past fails immediately
      b.setReadDeadline(new Date(Date.now() - 1000));
      await rejectsOSError(b.readFrom(), TimeoutError, "ETIMEDOUT");
      // a future deadline that does not pass lets the read go on
      b.setReadDeadline(Date.now() + 5000);
      const r = b.readFrom();
      await a.writeTo("in time", b.localAddress);
      assert.equal((await within(r, 2000, "read in time")).data.toString(), "in time");
      assert.throws(() => b.setReadDeadline(Number.NaN), TypeError);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("a past write deadline rejects writes; setDeadline(null) clears both", async () => {
    const a = await listenPacket("udp", "127.0.0.1:0");
    const b = await listenPacket("udp", "127.0.0.1:0");
    try {
      a.setWriteDeadline(Date.now() - 1);
      await rejectsOSError(a.writeTo("x", b.localAddress), TimeoutError, "ETIMEDOUT");
      a.setDeadline(Date.now() - 1);
      await rejectsOSError(a.readFrom(), TimeoutError, "ETIMEDOUT");
      a.setDeadline(null);
      assert.equal(await a.writeTo("ok", b.localAddress), 2);
      assert.equal((await within(b.readFrom(), 2000, "readFrom")).data.toString(), "ok");
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('dial("udp")', () => {
  test("read/write talk to the dialled peer; datagrams from others are filtered", async () => {
    const srv = await listenPacket("udp", "127.0.0.1:0");
    const other = await listenPacket("udp", "127.0.0.1:0");
    const conn = await dial("udp", srv.localAddress);
    try {
      assert.equal(conn.remoteAddress, srv.localAddress);
      assert.equal(await conn.write("hello"), 5);
      const p = await within(srv.readFrom(), 2000, "server readFrom");
      assert.equal(p.data.toString(), "hello");
      assert.equal(p.endpoint.port, conn.port);
      await other.writeTo("intruder", `127.0.0.1:${conn.port}`);
      await srv.writeTo("reply", p.endpoint);
      assert.equal((await within(conn.read(), 2000, "read")).toString(), "reply");
      const extra = conn.read();
      extra.catch(() => {});
      assert.ok(await stillPending(extra, 50), "the intruder's datagram was filtered");
      await srv.writeTo("second", p.endpoint);
      assert.equal((await within(extra, 2000, "read")).toString(), "second");
      // a dialled socket cannot writeTo elsewhere
      await rejectsOSError(conn.writeTo("x", other.localAddress), OSError, "EISCONN");
    } finally {
      await conn.close();
      await srv.close();
      await other.close();
    }
  });

  test("udp6 dial works over ::1", async () => {
    const srv = await listenPacket("udp6", "[::1]:0");
    const conn = await dial("udp6", srv.localAddress);
    try {
      await conn.write("v6");
      const p = await within(srv.readFrom(), 2000, "readFrom");
      assert.equal(p.data.toString(), "v6");
      assert.match(p.address, /^\[::1\]:\d+$/);
      await srv.writeTo("back", p.endpoint);
      assert.equal((await within(conn.read(), 2000, "read")).toString(), "back");
    } finally {
      await conn.close();
      await srv.close();
    }
  });
});

describe("the receive queue", () => {
  test("queueCount bounds it: extra datagrams are dropped and counted, the first ones kept in order", async () => {
    const rx = await listenPacket("udp", "127.0.0.1:0", { queueCount: 50 });
    const tx = await listenPacket("udp", "127.0.0.1:0");
    try {
      await paced(tx, rx.localAddress, 300, (i) => Buffer.from(String(i)));
      const until = Date.now() + 3000;
      while (rx.drops < 250 && Date.now() < until) await sleep(10);
      const got = (await readAll(rx)).map((d) => Number(d.toString()));
      assert.ok(got.length <= 50, `at most 50 queued, got ${got.length}`);
      assert.ok(rx.drops > 0);
      assert.ok(rx.drops + got.length <= 300);
      for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!);
      if (rx.drops === 250)
        assert.deepEqual(
          got,
          Array.from({ length: 50 }, (_, i) => i),
        );
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  test("queueBytes bounds it in bytes", async () => {
    const rx = await listenPacket("udp", "127.0.0.1:0", { queueBytes: 10_000 });
    const tx = await listenPacket("udp", "127.0.0.1:0");
    try {
      await paced(tx, rx.localAddress, 40, () => Buffer.alloc(1000, 0x62), 10);
      const until = Date.now() + 3000;
      while (rx.drops < 30 && Date.now() < until) await sleep(10);
      const got = await readAll(rx);
      const bytes = got.reduce((n, d) => n + d.length, 0);
      assert.ok(bytes <= 10_000, `at most 10000 bytes queued, got ${bytes}`);
      assert.ok(rx.drops > 0);
      assert.ok(got.length <= 10);
      // a datagram bigger than the whole bound is dropped, not queued
      const drops = rx.drops;
      await tx.writeTo(Buffer.alloc(20_000), rx.localAddress);
      const until2 = Date.now() + 2000;
      while (rx.drops === drops && Date.now() < until2) await sleep(10);
      assert.equal(rx.drops, drops + 1);
      // and the socket goes on
      await tx.writeTo("small", rx.localAddress);
      assert.equal((await within(rx.readFrom(), 2000, "readFrom")).data.toString(), "small");
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});
