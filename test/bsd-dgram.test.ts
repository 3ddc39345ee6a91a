/**
 * The Berkeley face on UDP (SOCK_DGRAM): message boundaries, truncation, the bounded receive
 * queue, connect() filtering, timeouts, options, broadcast and multicast — each on real loopback
 * sockets. Broadcast and multicast never leave the host: 127.255.255.255 is lo's broadcast address
 * and multicast goes out with TTL 0 on the 127.0.0.1 interface.
 */
import assert from "node:assert/strict";
import diagnostics_channel from "node:diagnostics_channel";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  BlockingIOError,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TTL,
  IPPROTO_IP,
  inet_aton,
  MSG_DONTWAIT,
  MSG_PEEK,
  OSError,
  PermissionError,
  SO_BROADCAST,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_TYPE,
  SOCK_DGRAM,
  SOL_SOCKET,
  type Socket,
  select,
  socket,
  TimeoutError,
} from "../src/bsd/index.js";
import { type CallEvent, renderCall, TRACE_CHANNEL } from "../src/trace.js";
import { assertOSError, rejectsOSError } from "./support/errors.js";
import { stillPending, within } from "./support/leaks.js";
import { settled, udpPair, waitFor } from "./support/kit.js";
import { kernelUdpRcvbufErrors, tick } from "./support/udp-peers.js";

type Addr = [string, number] | [string, number, number, number];

/** Reads everything queued now (non-blocking) until BlockingIOError. */
async function drain(s: Socket, bufsize = 65535): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (;;) {
    try {
      const [d] = await s.recvfrom(bufsize, MSG_DONTWAIT);
      out.push(d);
    } catch (err) {
      if (err instanceof BlockingIOError) return out;
      throw err;
    }
  }
}

describe("sendto() and recvfrom()", () => {
  for (const [family, host] of [
    [AF_INET, "127.0.0.1"],
    [AF_INET6, "::1"],
  ] as const) {
    test(`carry datagrams both ways with the sender's address (${family === AF_INET ? "IPv4" : "IPv6"})`, async () => {
      const p = await udpPair(family === AF_INET6 ? "tcp6" : "tcp4");
      try {
        const aAddr = p.a.getsockname() as Addr;
        const bAddr = p.b.getsockname() as Addr;
        if (family === AF_INET) {
          assert.equal(aAddr.length, 2);
          assert.equal(aAddr[0], host);
        } else {
          assert.deepEqual(aAddr.slice(2), [0, 0]);
          assert.equal(aAddr[0], host);
        }
        assert.ok(aAddr[1] > 0);
        const to: Addr = family === AF_INET ? [host, bAddr[1]] : [host, bAddr[1], 0, 0];
        assert.equal(await p.a.sendto(Buffer.from("ping"), to), 4);
        const [d, from] = await within(p.b.recvfrom(1024), 2000, "recvfrom at b");
        assert.equal(d.toString(), "ping");
        assert.deepEqual(from, aAddr);
        // reply to the address recvfrom gave, using the (data, flags, address) form
        assert.equal(await p.b.sendto("pong", 0, from as Addr), 4);
        const [r, rfrom] = await within(p.a.recvfrom(1024), 2000, "recvfrom at a");
        assert.equal(r.toString(), "pong");
        assert.deepEqual(rfrom, bAddr);
      } finally {
        await p.close();
      }
    });
  }

  test("an unbound socket is bound to a free port by its first sendto", async () => {
    const rx = socket(AF_INET, SOCK_DGRAM);
    const tx = socket(AF_INET, SOCK_DGRAM);
    try {
      await rx.bind(["127.0.0.1", 0]);
      await tx.sendto("hi", rx.getsockname());
      const [d, from] = await within(rx.recvfrom(10), 2000, "recvfrom");
      assert.equal(d.toString(), "hi");
      const me = tx.getsockname() as [string, number];
      assert.equal(me[1], (from as [string, number])[1]);
      assert.ok(me[1] > 0);
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  test("recvfrom(n) returns at most n bytes of ONE datagram and discards the rest", async () => {
    const p = await udpPair();
    try {
      const to = p.b.getsockname();
      await p.a.sendto("abcdefghij", to);
      await p.a.sendto("second", to);
      const [d] = await within(p.b.recvfrom(4), 2000, "recvfrom");
      assert.equal(d.toString(), "abcd");
      const [d2] = await within(p.b.recvfrom(100), 2000, "recvfrom");
      assert.equal(d2.toString(), "second", "the rest of the first datagram is gone");
      // two short datagrams are never merged into one read
      await p.a.sendto("x", to);
      await p.a.sendto("y", to);
      assert.equal((await within(p.b.recvfrom(100), 2000, "recvfrom"))[0].toString(), "x");
      assert.equal((await within(p.b.recvfrom(100), 2000, "recvfrom"))[0].toString(), "y");
    } finally {
      await p.close();
    }
  });

  test("a zero-length datagram is a message (an empty Buffer with an address), not EOF", async () => {
    const p = await udpPair();
    try {
      await p.a.sendto(Buffer.alloc(0), p.b.getsockname());
      await p.a.sendto("after", p.b.getsockname());
      const [d, from] = await within(p.b.recvfrom(100), 2000, "recvfrom");
      assert.equal(d.length, 0);
      assert.ok(Buffer.isBuffer(d));
      assert.deepEqual(from, p.a.getsockname());
      const [d2] = await within(p.b.recvfrom(100), 2000, "recvfrom");
      assert.equal(d2.toString(), "after", "the socket goes on after an empty datagram");
    } finally {
      await p.close();
    }
  });

  test("recvfrom_into() fills the caller's buffer and truncates at nbytes", async () => {
    const p = await udpPair();
    try {
      const buf = Buffer.alloc(16, 0x2e);
      await p.a.sendto("hello", p.b.getsockname());
      const [n, from] = await within(p.b.recvfrom_into(buf), 2000, "recvfrom_into");
      assert.equal(n, 5);
      assert.equal(buf.subarray(0, 5).toString(), "hello");
      assert.equal(buf[5], 0x2e, "bytes after the datagram are untouched");
      assert.deepEqual(from, p.a.getsockname());
      await p.a.sendto("truncated", p.b.getsockname());
      const [n2] = await within(p.b.recvfrom_into(buf, 3), 2000, "recvfrom_into");
      assert.equal(n2, 3);
      assert.equal(buf.subarray(0, 3).toString(), "tru");
      await assert.rejects(p.b.recvfrom_into(Buffer.alloc(4), 5), RangeError);
      await assert.rejects(p.b.recvfrom_into("nope" as unknown as Buffer), TypeError);
    } finally {
      await p.close();
    }
  });

  test("MSG_PEEK returns the next datagram and leaves it queued", async () => {
    const p = await udpPair();
    try {
      await p.a.sendto("peekaboo", p.b.getsockname());
      const [d, from] = await within(p.b.recvfrom(4, MSG_PEEK), 2000, "peek");
      assert.equal(d.toString(), "peek");
      assert.deepEqual(from, p.a.getsockname());
      const [again] = await p.b.recvfrom(100, MSG_PEEK);
      assert.equal(again.toString(), "peekaboo", "a truncated peek does not consume");
      const [real] = await p.b.recvfrom(100);
      assert.equal(real.toString(), "peekaboo");
      await rejectsOSError(p.b.recvfrom(100, MSG_DONTWAIT), BlockingIOError, "EAGAIN");
    } finally {
      await p.close();
    }
  });
});

describe("the receive queue", () => {
  test("is bounded at 4096 datagrams: the rest are dropped and counted, the first 4096 read back in order", async () => {
    const p = await udpPair();
    try {
      // a big kernel buffer so the kernel itself drops nothing while sockit's queue fills
      p.b.setsockopt(SOL_SOCKET, SO_RCVBUF, 4 * 1024 * 1024);
      const to = p.b.getsockname();
      const total = 6000;
      const kernelBefore = kernelUdpRcvbufErrors();
      const mem0 = process.memoryUsage().rss;
      for (let i = 0; i < total; i += 100) {
        const batch: Promise<number>[] = [];
        for (let j = i; j < Math.min(total, i + 100); j++)
          batch.push(p.a.sendto(String(j).padStart(6, "0"), to));
        await Promise.all(batch);
        await tick();
        await tick();
      }
      const drops = await settled(() => p.b.drops);
      const kernelDrops = kernelUdpRcvbufErrors() - kernelBefore;
      const got = (await drain(p.b)).map((d) => Number(d.toString()));
      assert.ok(got.length <= 4096, `at most 4096 queued, got ${got.length}`);
      assert.ok(drops > 0, "drops are counted");
      assert.ok(got.length + drops <= total);
      for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, "in order");
      if (kernelDrops === 0) {
        // nothing lost below sockit: the queue holds exactly the first 4096
        assert.equal(got.length, 4096);
        assert.deepEqual(got.slice(0, 3), [0, 1, 2]);
        assert.equal(got.at(-1), 4095);
        assert.equal(drops, total - 4096);
      }
      assert.ok(process.memoryUsage().rss - mem0 < 256 * 1024 * 1024, "memory stays bounded");
      // the socket goes on after the drops
      await p.a.sendto("later", to);
      assert.equal((await within(p.b.recvfrom(100), 2000, "recvfrom"))[0].toString(), "later");
    } finally {
      await p.close();
    }
  });

  test("is bounded at 4 MiB of datagrams too", async () => {
    const p = await udpPair();
    try {
      p.b.setsockopt(SOL_SOCKET, SO_RCVBUF, 4 * 1024 * 1024);
      const to = p.b.getsockname();
      const size = 1400;
      const total = 3600; // 5 MB offered
      const payload = Buffer.alloc(size, 0x61);
      for (let i = 0; i < total; i += 50) {
        const batch: Promise<number>[] = [];
        for (let j = i; j < Math.min(total, i + 50); j++) batch.push(p.a.sendto(payload, to));
        await Promise.all(batch);
        await tick();
        await tick();
      }
      const drops = await settled(() => p.b.drops);
      const got = await drain(p.b);
      const bytes = got.reduce((n, d) => n + d.length, 0);
      assert.ok(bytes <= 4 * 1024 * 1024, `at most 4 MiB queued, got ${bytes}`);
      assert.ok(got.length < 4096);
      assert.ok(drops > 0, "drops are counted");
      assert.ok(got.every((d) => d.length === size));
    } finally {
      await p.close();
    }
  });
});

describe("close()", () => {
  // BUG (reported): Socket.sendto() awaits address resolution (and ensureBound) before the send
  // reaches the core, so a close() issued right after un-awaited sendto calls marks the socket
  // closed first: every one of those sends rejects EBADF and nothing is delivered.
  test("right after many un-awaited sendto calls still delivers every datagram", async () => {
    const rx = socket(AF_INET, SOCK_DGRAM);
    const tx = socket(AF_INET, SOCK_DGRAM);
    try {
      rx.setsockopt(SOL_SOCKET, SO_RCVBUF, 4 * 1024 * 1024);
      await rx.bind(["127.0.0.1", 0]);
      await tx.bind(["127.0.0.1", 0]);
      const to = rx.getsockname();
      const n = 300;
      const sends: Promise<number>[] = [];
      for (let i = 0; i < n; i++) sends.push(tx.sendto(`m${i}`, to));
      await within(tx.close(), 5000, "close");
      const results = await Promise.allSettled(sends);
      const failed = results.filter((r) => r.status === "rejected");
      assert.equal(
        failed.length,
        0,
        `sends rejected after close(): ${failed.length}, first: ${String((failed[0] as PromiseRejectedResult | undefined)?.reason)}`,
      );
      assert.equal(tx.discardedSends, 0);
      const got: string[] = [];
      await waitFor(
        async () => {
          got.push(...(await drain(rx)).map((d) => d.toString()));
          return got.length >= n;
        },
        5000,
        `all ${n} datagrams to arrive`,
      );
      assert.equal(got.length, n, "every datagram arrived");
      assert.equal(got[0], "m0");
      assert.equal(got.at(-1), `m${n - 1}`);
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  test("rejects pending and later calls with EBADF; getters throw EBADF", async () => {
    const s = socket(AF_INET, SOCK_DGRAM);
    await s.bind(["127.0.0.1", 0]);
    const pending = s.recvfrom(10);
    pending.catch(() => {});
    assert.ok(await stillPending(pending, 30));
    await s.close();
    await rejectsOSError(pending, OSError, "EBADF");
    await rejectsOSError(s.recvfrom(10), OSError, "EBADF", "recvfrom");
    await rejectsOSError(s.sendto("x", ["127.0.0.1", 9]), OSError, "EBADF", "sendto");
    await rejectsOSError(s.send("x"), OSError, "EBADF");
    await rejectsOSError(s.recv(10), OSError, "EBADF");
    assert.throws(
      () => s.getsockname(),
      (e) => e instanceof OSError && e.code === "EBADF",
    );
    assert.throws(
      () => s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1),
      (e) => e instanceof OSError && e.code === "EBADF",
    );
    assert.equal(s.fileno(), -1);
    await s.close(); // idempotent
  });
});

describe("EMSGSIZE", () => {
  test("65508 bytes over IPv4 is an OSError raised before sending; 65507 bytes works on loopback", async () => {
    const p = await udpPair();
    try {
      p.b.setsockopt(SOL_SOCKET, SO_RCVBUF, 1024 * 1024);
      const to = p.b.getsockname();
      const err = await rejectsOSError(p.a.sendto(Buffer.alloc(65508, 1), to), OSError, "EMSGSIZE", "sendto");
      assert.equal(err.errno, 90);
      await rejectsOSError(p.b.recvfrom(70000, MSG_DONTWAIT), BlockingIOError, "EAGAIN");
      assert.equal(await p.a.sendto(Buffer.alloc(65507, 2), to), 65507);
      const [d] = await within(p.b.recvfrom(70000), 2000, "recvfrom");
      assert.equal(d.length, 65507, "the first datagram received is the 65507-byte one");
      assert.equal(d[65506], 2);
      await rejectsOSError(p.b.recvfrom(70000, MSG_DONTWAIT), BlockingIOError, "EAGAIN");
    } finally {
      await p.close();
    }
  });
});

describe("connect() on a datagram socket", () => {
  test("sets the default peer and filters other senders; connect(AF_UNSPEC) dissolves it", async () => {
    const p = await udpPair();
    const third = socket(AF_INET, SOCK_DGRAM);
    const holder = socket(AF_INET, SOCK_DGRAM);
    const fixed = socket(AF_INET, SOCK_DGRAM);
    try {
      await third.bind(["127.0.0.1", 0]);
      // Linux: connect(AF_UNSPEC) unbinds a port the kernel chose (bind to port 0), exactly as
      // in C; a port named in bind() survives. Reserve a free port (SO_REUSEADDR on both, so
      // there is no race) and bind the socket under test to it by number.
      holder.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      await holder.bind(["127.0.0.1", 0]);
      fixed.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      await fixed.bind(holder.getsockname());
      await holder.close();
      await p.a.close();
      p.a = fixed;
      const a = fixed.getsockname();
      await rejectsOSError(p.a.send("no peer"), OSError, "EDESTADDRREQ");
      assert.throws(
        () => p.a.getpeername(),
        (e) => e instanceof OSError && e.code === "ENOTCONN",
      );
      await p.a.connect(p.b.getsockname());
      assert.deepEqual(p.a.getpeername(), p.b.getsockname());
      // send()/recv() talk to the peer
      assert.equal(await p.a.send("to b"), 4);
      const [d, from] = await within(p.b.recvfrom(100), 2000, "recvfrom at b");
      assert.equal(d.toString(), "to b");
      assert.deepEqual(from, a);
      await third.sendto("from third", a);
      await p.b.sendto("from b", a);
      assert.equal((await within(p.a.recv(100), 2000, "recv")).toString(), "from b");
      const buf = Buffer.alloc(8);
      await p.b.sendto("into", a);
      assert.equal(await within(p.a.recv_into(buf), 2000, "recv_into"), 4);
      assert.equal(buf.subarray(0, 4).toString(), "into");
      await sleep(20); // the scenario: nothing more arrives in that time (a stray datagram would)
      await rejectsOSError(p.a.recv(100, MSG_DONTWAIT), BlockingIOError, "EAGAIN");
      // dissolve the association: the third socket gets through again
      await p.a.connect(AF_UNSPEC);
      assert.throws(
        () => p.a.getpeername(),
        (e) => e instanceof OSError && e.code === "ENOTCONN",
      );
      await third.sendto("third again", a);
      const [d3, from3] = await within(p.a.recvfrom(100), 2000, "recvfrom after AF_UNSPEC");
      assert.equal(d3.toString(), "third again");
      assert.deepEqual(from3, third.getsockname());
      // and sendto() works again
      await p.a.sendto("free", third.getsockname());
      assert.equal((await within(third.recvfrom(100), 2000, "recvfrom"))[0].toString(), "free");
    } finally {
      await holder.close();
      await fixed.close();
      await third.close();
      await p.close();
    }
  });

  test("connect(AF_UNSPEC) releases a port the kernel chose, as Linux does in C", async () => {
    const p = await udpPair();
    try {
      await p.a.connect(p.b.getsockname());
      await p.a.connect(AF_UNSPEC);
      assert.equal((p.a.getsockname() as [string, number])[1], 0);
      // a later sendto binds a fresh port and works
      await p.a.sendto("rebound", p.b.getsockname());
      const [d, from] = await within(p.b.recvfrom(100), 2000, "recvfrom");
      assert.equal(d.toString(), "rebound");
      assert.ok((from as [string, number])[1] > 0);
    } finally {
      await p.close();
    }
  });
});

describe("timeouts", () => {
  test("settimeout() makes recvfrom reject TimeoutError; the socket stays usable", async () => {
    const p = await udpPair();
    try {
      p.b.settimeout(0.1);
      const t0 = Date.now();
      const err = await rejectsOSError(p.b.recvfrom(100), TimeoutError, "ETIMEDOUT");
      assert.ok(Date.now() - t0 >= 80, "waited about the timeout");
      assert.equal(err.op, "recvfrom");
      await p.a.sendto("intact datagram", p.b.getsockname());
      const [d] = await within(p.b.recvfrom(100), 2000, "recvfrom after timeout");
      assert.equal(d.toString(), "intact datagram");
    } finally {
      await p.close();
    }
  });

  test("setblocking(false) and MSG_DONTWAIT raise BlockingIOError instead of waiting", async () => {
    const p = await udpPair();
    try {
      await rejectsOSError(p.b.recvfrom(100, MSG_DONTWAIT), BlockingIOError, "EAGAIN", "recvfrom");
      p.b.setblocking(false);
      assert.equal(p.b.getblocking(), false);
      await rejectsOSError(p.b.recvfrom(100), BlockingIOError, "EAGAIN");
      await rejectsOSError(p.b.recv(100), BlockingIOError, "EAGAIN");
      await p.a.sendto("now", p.b.getsockname());
      assert.deepEqual(
        (await within(select([p.b], [], [], 2), 3000, "select"))[0],
        [p.b],
        "the datagram arrived",
      );
      assert.equal((await p.b.recvfrom(100))[0].toString(), "now");
      p.b.setblocking(true);
      assert.equal(p.b.gettimeout(), null);
    } finally {
      await p.close();
    }
  });
});

describe("SO_BROADCAST (loopback broadcast 127.255.255.255 only)", () => {
  test("without it a broadcast sendto is refused with PermissionError (EACCES); with it the datagram arrives", async () => {
    const rx = socket(AF_INET, SOCK_DGRAM);
    const tx = socket(AF_INET, SOCK_DGRAM);
    try {
      await rx.bind(["0.0.0.0", 0]);
      const port = (rx.getsockname() as [string, number])[1];
      await tx.bind(["127.0.0.1", 0]);
      assert.equal(tx.getsockopt(SOL_SOCKET, SO_BROADCAST), 0);
      const err = await rejectsOSError(
        tx.sendto("b", ["127.255.255.255", port]),
        PermissionError,
        "EACCES",
        "sendto",
      );
      assert.equal(err.errno, 13);
      // the kernel refused the loopback broadcast above, so SO_BROADCAST is really off and
      // "<broadcast>" (255.255.255.255) is refused too without anything being sent
      await rejectsOSError(tx.sendto("b", ["<broadcast>", port]), PermissionError, "EACCES", "sendto");
      await rejectsOSError(rx.recvfrom(10, MSG_DONTWAIT), BlockingIOError, "EAGAIN");
      tx.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
      assert.equal(tx.getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
      assert.equal(await tx.sendto("broadcast!", ["127.255.255.255", port]), 10);
      const [d, from] = await within(rx.recvfrom(100), 2000, "recvfrom broadcast");
      assert.equal(d.toString(), "broadcast!");
      assert.deepEqual(from, ["127.0.0.1", (tx.getsockname() as [string, number])[1]]);
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});

describe("multicast on loopback (TTL 0, interface 127.0.0.1)", () => {
  test("joining 239.255.42.99 with a packed struct ip_mreq delivers the group's datagrams; dropping stops it", async () => {
    // Investigated on this kernel: lo has no MULTICAST flag, yet Linux accepts the join on
    // 127.0.0.1 and loops the datagrams back (Python's socket module does the same).
    const group = "239.255.42.99";
    const rx = socket(AF_INET, SOCK_DGRAM);
    const tx = socket(AF_INET, SOCK_DGRAM);
    try {
      // the sender is pinned to the host before it ever sends
      tx.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 0);
      tx.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, inet_aton("127.0.0.1"));
      tx.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 1);
      await tx.bind(["127.0.0.1", 0]);
      assert.equal(tx.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 0);
      await rx.bind(["0.0.0.0", 0]);
      const port = (rx.getsockname() as [string, number])[1];
      const mreq = Buffer.concat([inet_aton(group), inet_aton("127.0.0.1")]);
      assert.equal(mreq.length, 8);
      let joined = true;
      try {
        rx.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
      } catch (err) {
        // a kernel that refuses must say so clearly
        joined = false;
        assertOSError(err, OSError, (err as OSError).code, "setsockopt");
        assert.match((err as OSError).message, /IP_ADD_MEMBERSHIP/);
      }
      if (!joined) return;
      assert.equal(await tx.sendto("to the group", [group, port]), 12);
      const [d, from] = await within(rx.recvfrom(100), 2000, "multicast recvfrom");
      assert.equal(d.toString(), "to the group");
      assert.equal((from as [string, number])[1], (tx.getsockname() as [string, number])[1]);
      rx.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, { group, interface: "127.0.0.1" });
      await tx.sendto("after leaving", [group, port]);
      await sleep(50); // the scenario: after leaving, the datagram never arrives in that time
      await rejectsOSError(rx.recvfrom(100, MSG_DONTWAIT), BlockingIOError, "EAGAIN");
      // a malformed struct ip_mreq is a TypeError
      assert.throws(() => rx.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Buffer.alloc(5)), TypeError);
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});

describe("socket options", () => {
  test("getsockopt round-trips SO_TYPE, SO_BROADCAST, SO_RCVBUF (after bind) and IP_TTL", async () => {
    const s = socket(AF_INET, SOCK_DGRAM);
    try {
      assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_BROADCAST), 0);
      s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
      s.setsockopt(SOL_SOCKET, SO_BROADCAST, 0);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_BROADCAST), 0);
      s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
      s.setsockopt(IPPROTO_IP, IP_TTL, 7);
      await s.bind(["127.0.0.1", 0]);
      const rcv = s.getsockopt(SOL_SOCKET, SO_RCVBUF) as number;
      assert.ok(rcv >= 65536, `SO_RCVBUF applied at bind (Linux doubles it): ${rcv}`);
      s.setsockopt(SOL_SOCKET, SO_RCVBUF, 131072);
      assert.ok((s.getsockopt(SOL_SOCKET, SO_RCVBUF) as number) >= 131072);
      assert.equal(s.getsockopt(IPPROTO_IP, IP_TTL), 7);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    } finally {
      await s.close();
    }
  });

  test("SO_REUSEADDR lets two sockets bind the same port when both set it", async () => {
    const a = socket(AF_INET, SOCK_DGRAM);
    const b = socket(AF_INET, SOCK_DGRAM);
    const c = socket(AF_INET, SOCK_DGRAM);
    try {
      a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      await a.bind(["127.0.0.1", 0]);
      const port = (a.getsockname() as [string, number])[1];
      assert.equal(a.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
      await rejectsOSError(c.bind(["127.0.0.1", port]), OSError, "EADDRINUSE", "bind");
      b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      await b.bind(["127.0.0.1", port]);
      assert.equal((b.getsockname() as [string, number])[1], port);
      // SO_REUSEADDR must be set before bind, as in C
      assert.throws(() => a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 0), OSError);
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });
});

describe("misuse", () => {
  test("bad arguments throw TypeError/RangeError; unsupported kinds are OSErrors", async () => {
    const s = socket(AF_INET, SOCK_DGRAM);
    const s6 = socket(AF_INET6, SOCK_DGRAM);
    try {
      await s.bind(["127.0.0.1", 0]);
      await assert.rejects(s.sendto("x", "127.0.0.1:9" as never), TypeError);
      await assert.rejects(s.sendto("x", ["127.0.0.1", 9, 0, 0] as never), TypeError);
      await assert.rejects(s.sendto("x", ["127.0.0.1", 70000]), RangeError);
      await assert.rejects(s.sendto(42 as unknown as string, ["127.0.0.1", 9]), TypeError);
      await assert.rejects(s.recvfrom(-1), RangeError);
      await assert.rejects(s.recvfrom("10" as unknown as number), TypeError);
      assert.throws(() => s.settimeout(-1), RangeError);
      assert.throws(() => s.setsockopt(SOL_SOCKET, SO_BROADCAST, "yes" as unknown as number), TypeError);
      await assert.rejects(s6.sendto("x", ["<broadcast>", 9, 0, 0]), OSError);
      assert.throws(
        () => socket(AF_UNIX, SOCK_DGRAM),
        (e) => e instanceof OSError && e.code === "ESOCKTNOSUPPORT",
      );
      await rejectsOSError(s.listen(1), OSError, "EOPNOTSUPP");
    } finally {
      await s.close();
      await s6.close();
    }
  });
});

describe("trace", () => {
  test("sendto and recvfrom are published on sockit:call and render like strace", async () => {
    const events: CallEvent[] = [];
    const fn = (ev: unknown) => events.push(ev as CallEvent);
    diagnostics_channel.subscribe(TRACE_CHANNEL, fn);
    try {
      const p = await udpPair();
      try {
        const a = p.a.fileno();
        const b = p.b.fileno();
        const bPort = (p.b.getsockname() as [string, number])[1];
        const aPort = (p.a.getsockname() as [string, number])[1];
        await p.a.sendto(Buffer.from("ping"), ["127.0.0.1", bPort]);
        await within(p.b.recvfrom(1024), 2000, "recvfrom");
        const lines = events.map(renderCall);
        assert.ok(lines.includes(`socket(AF_INET, SOCK_DGRAM) = ${a}`), lines.join("\n"));
        assert.ok(lines.includes(`bind(${b}, ('127.0.0.1', 0)) = 0`), lines.join("\n"));
        assert.ok(lines.includes(`sendto(${a}, b'ping', ('127.0.0.1', ${bPort})) = 4`), lines.join("\n"));
        assert.ok(
          lines.includes(`recvfrom(${b}, 1024) = 4 ('127.0.0.1', ${aPort}) b'ping'`),
          lines.join("\n"),
        );
        p.b.settimeout(0);
        await assert.rejects(p.b.recvfrom(10));
        const failed = events.filter((e) => e.call === "recvfrom" && e.error).map(renderCall);
        assert.deepEqual(failed, [`recvfrom(${b}, 10) = -1 EAGAIN (BlockingIOError)`]);
      } finally {
        await p.close();
      }
    } finally {
      diagnostics_channel.unsubscribe(TRACE_CHANNEL, fn);
    }
  });
});
