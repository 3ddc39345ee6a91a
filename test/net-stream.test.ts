/**
 * The Go-style face on TCP: dial/listen over every network name and address form, the read and
 * write contracts, half-close, `for await` accept loops, deadlines, dial failures, and interop
 * with the Berkeley face — each on real loopback sockets.
 */
import { stalledServer } from "./support/stalled-server.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AF_INET, SOCK_STREAM, socket } from "../src/bsd/index.js";
import {
  ConnectionRefusedError,
  InterruptedError,
  OSError,
  TimeoutError,
  UnexpectedEOFError,
} from "../src/errors/index.js";
import { type Conn, dial, listen, type StreamNetwork } from "../src/net/index.js";
import { rejectsOSError } from "./support/errors.js";
import { stillPending, within } from "./support/leaks.js";
import { closedPort, tcpPair, waitFor } from "./support/kit.js";

/** One ping-pong exchange in each direction over a connected pair. */
async function exchange(cli: Conn, srv: Conn): Promise<void> {
  await cli.write("ping");
  assert.equal((await within(srv.readExactly(4), 2000, "server read")).toString(), "ping");
  await srv.write("pong");
  assert.equal((await within(cli.readExactly(4), 2000, "client read")).toString(), "pong");
}

describe("dial and listen across networks and address forms", () => {
  test('tcp on "127.0.0.1:0" reports the real port and both ends see each other', async () => {
    const p = await tcpPair({ network: "tcp", address: "127.0.0.1:0" });
    try {
      assert.ok(p.ln.port > 0);
      assert.equal(p.ln.address, `127.0.0.1:${p.ln.port}`);
      assert.equal(p.cli.remoteAddress, p.ln.address);
      assert.equal(p.srv.localAddress, p.ln.address);
      assert.equal(p.srv.remoteAddress, p.cli.localAddress);
      assert.match(p.cli.localAddress, /^127\.0\.0\.1:\d+$/);
      await exchange(p.cli, p.srv);
    } finally {
      await p.close();
    }
  });

  test("tcp4 listens and dials over IPv4 only", async () => {
    const p = await tcpPair({ network: "tcp4", address: "127.0.0.1:0" });
    try {
      assert.equal(p.ln.address, `127.0.0.1:${p.ln.port}`);
      await exchange(p.cli, p.srv);
    } finally {
      await p.close();
    }
    await assert.rejects(listen("tcp4", "[::1]:0"), OSError, "tcp4 refuses an IPv6 literal");
  });

  test('tcp6 on "[::1]:0" formats addresses with brackets', async () => {
    const p = await tcpPair({ network: "tcp6", address: "[::1]:0" });
    try {
      assert.equal(p.ln.address, `[::1]:${p.ln.port}`);
      assert.equal(p.cli.remoteAddress, p.ln.address);
      assert.match(p.srv.remoteAddress, /^\[::1\]:\d+$/);
      await exchange(p.cli, p.srv);
    } finally {
      await p.close();
    }
    await assert.rejects(listen("tcp6", "127.0.0.1:0"), OSError, "tcp6 refuses an IPv4 literal");
  });

  test('tcp on ":0" listens on every address: reachable via 127.0.0.1 and ::1', async () => {
    const ln = await listen("tcp", ":0");
    const conns: Conn[] = [];
    try {
      assert.ok(ln.port > 0);
      for (const host of ["127.0.0.1", "[::1]"]) {
        const [cli, srv] = await within(
          Promise.all([dial("tcp", `${host}:${ln.port}`), ln.accept()]),
          5000,
          `dial ${host}`,
        );
        conns.push(cli, srv);
        await exchange(cli, srv);
      }
      // a dial to ":port" goes to loopback, as in Go
      const [cli, srv] = await within(
        Promise.all([dial("tcp", `:${ln.port}`), ln.accept()]),
        5000,
        "dial :port",
      );
      conns.push(cli, srv);
      assert.equal(cli.remoteAddress, `127.0.0.1:${ln.port}`);
    } finally {
      for (const c of conns) await c.close();
      await ln.close();
    }
  });

  test('tcp4 on ":0" listens on 0.0.0.0', async () => {
    const p = await tcpPair({
      network: "tcp4",
      address: ":0",
      dialAddress: (ln) => `127.0.0.1:${ln.port}`,
    });
    try {
      assert.equal(p.ln.address, `0.0.0.0:${p.ln.port}`);
      await exchange(p.cli, p.srv);
    } finally {
      await p.close();
    }
  });

  test('host names resolve: listen "localhost:0", dial "localhost:<port>"', async () => {
    const p = await tcpPair({
      network: "tcp",
      address: "localhost:0",
      dialAddress: (ln) => `localhost:${ln.port}`,
    });
    try {
      assert.match(p.ln.address, /^(127\.0\.0\.1|\[::1\]):\d+$/);
      assert.equal(p.cli.remoteAddress, p.ln.address);
      await exchange(p.cli, p.srv);
    } finally {
      await p.close();
    }
  });
});

describe("Conn.read and Conn.readExactly", () => {
  test("read(n) returns at most n bytes as soon as any arrive, never waiting for n", async () => {
    const p = await tcpPair();
    try {
      const pending = p.cli.read(1024);
      assert.ok(await stillPending(pending, 50), "read waits while nothing has arrived");
      await p.srv.write("hello");
      assert.equal((await within(pending, 2000, "read"))?.toString(), "hello");
      await p.srv.write("abcdef");
      await waitFor(() => p.cli.bufferedBytes >= 6, 2000, "the six bytes to arrive");
      assert.equal((await within(p.cli.read(2), 2000, "read 2"))?.toString(), "ab");
      assert.equal((await within(p.cli.read(100), 2000, "read rest"))?.toString(), "cdef");
    } finally {
      await p.close();
    }
  });

  test("read() resolves null at EOF, and on every later call", async () => {
    const p = await tcpPair();
    try {
      await p.srv.write("bye");
      await p.srv.close();
      assert.equal((await within(p.cli.read(10), 2000, "read"))?.toString(), "bye");
      assert.equal(await within(p.cli.read(10), 2000, "eof 1"), null);
      assert.equal(await within(p.cli.read(10), 2000, "eof 2"), null);
      assert.equal(await within(p.cli.read(), 2000, "eof 3"), null);
    } finally {
      await p.close();
    }
  });

  test("readExactly(n) gathers n bytes across several writes", async () => {
    const p = await tcpPair();
    try {
      const whole = p.cli.readExactly(9);
      for (const part of ["abc", "def", "ghi"]) {
        assert.ok(await stillPending(whole, 30), "still waiting for all 9 bytes");
        await p.srv.write(part);
      }
      assert.equal((await within(whole, 2000, "readExactly")).toString(), "abcdefghi");
      assert.equal((await p.cli.readExactly(0)).length, 0);
    } finally {
      await p.close();
    }
  });

  test("readExactly(n) rejects UnexpectedEOFError holding the partial bytes when the stream ends first", async () => {
    const p = await tcpPair();
    try {
      await p.srv.write("abc");
      await p.srv.closeWrite();
      const err = await within(p.cli.readExactly(10), 2000, "readExactly").catch((e: unknown) => e);
      assert.ok(err instanceof UnexpectedEOFError, `got ${String(err)}`);
      assert.equal(err.partial.toString(), "abc");
      assert.equal(err.expected, 10);
      assert.equal(err.code, "UNEXPECTED_EOF");
      assert.equal(await p.cli.read(), null, "EOF stays EOF");
    } finally {
      await p.close();
    }
  });

  test("iterating a Conn yields every chunk until EOF", async () => {
    const p = await tcpPair();
    try {
      await p.srv.write("one,");
      await p.srv.write("two");
      await p.srv.closeWrite();
      const parts: Buffer[] = [];
      await within(
        (async () => {
          for await (const chunk of p.cli) parts.push(chunk);
        })(),
        2000,
        "iterate",
      );
      assert.equal(Buffer.concat(parts).toString(), "one,two");
    } finally {
      await p.close();
    }
  });
});

describe("Conn.write and Conn.closeWrite", () => {
  test("write resolves the byte count; closeWrite half-closes so the peer reads EOF and still replies", async () => {
    const p = await tcpPair();
    try {
      assert.equal(await p.cli.write("request body"), 12);
      assert.equal(await p.cli.write(Buffer.from([1, 2, 3])), 3);
      await p.cli.closeWrite();
      const got: Buffer[] = [];
      for (;;) {
        const b = await within(p.srv.read(), 2000, "server read");
        if (b === null) break;
        got.push(b);
      }
      assert.deepEqual(
        Buffer.concat(got),
        Buffer.concat([Buffer.from("request body"), Buffer.from([1, 2, 3])]),
      );
      await p.srv.write("reply");
      await p.srv.closeWrite();
      assert.equal((await within(p.cli.readExactly(5), 2000, "client read")).toString(), "reply");
      assert.equal(await within(p.cli.read(), 2000, "client eof"), null);
      // writing after closeWrite is an error, not a silent loss
      await rejectsOSError(p.cli.write("more"), OSError, "EPIPE");
    } finally {
      await p.close();
    }
  });
});

describe("Listener", () => {
  test("for await with a task per connection serves 3 concurrent clients; close() ends the loop cleanly", async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    const tasks: Promise<void>[] = [];
    // the server answers only once all 3 clients have spoken: a serialised loop would deadlock
    let arrived = 0;
    let allArrived!: () => void;
    const barrier = new Promise<void>((r) => {
      allArrived = r;
    });
    const serve = async (conn: Conn) => {
      try {
        const name = (await conn.readExactly(2)).toString();
        if (++arrived === 3) allArrived();
        await barrier;
        await conn.write(`hi ${name}`);
        await conn.closeWrite();
        assert.equal(await conn.read(), null);
      } finally {
        await conn.close();
      }
    };
    const loop = (async () => {
      for await (const conn of ln) tasks.push(serve(conn));
    })();
    const clients: Conn[] = [];
    try {
      const replies = await within(
        Promise.all(
          ["c1", "c2", "c3"].map(async (name) => {
            const c = await dial("tcp", ln.address);
            clients.push(c);
            await c.write(name);
            const reply = (await c.readExactly(5)).toString();
            assert.equal(await c.read(), null);
            await c.closeWrite();
            return reply;
          }),
        ),
        5000,
        "3 concurrent clients",
      );
      assert.deepEqual(replies, ["hi c1", "hi c2", "hi c3"]);
      await within(Promise.all(tasks), 5000, "handlers");
    } finally {
      await ln.close();
      await within(loop, 2000, "accept loop ends after close()"); // resolves: no throw
      for (const c of clients) await c.close();
    }
  });

  test("a pending accept() rejects EBADF when the listener is closed", async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    const pending = ln.accept();
    pending.catch(() => {});
    assert.ok(await stillPending(pending, 30));
    await ln.close();
    await rejectsOSError(within(pending, 2000, "accept"), OSError, "EBADF", "accept");
    await ln.close(); // idempotent
  });

  test("listen(…, { signal }): aborting closes the listener and ends its for-await loop", async () => {
    const ac = new AbortController();
    const ln = await listen("tcp", "127.0.0.1:0", { signal: ac.signal });
    const port = ln.port;
    let served = 0;
    const loop = (async () => {
      for await (const conn of ln) {
        served++;
        await conn.close();
      }
    })();
    try {
      const c = await dial("tcp", ln.address);
      assert.equal(await within(c.read(), 2000, "served and closed"), null);
      await c.close();
      ac.abort();
      await within(loop, 2000, "loop ends on abort");
      assert.equal(served, 1);
      await rejectsOSError(
        dial("tcp", `127.0.0.1:${port}`),
        ConnectionRefusedError,
        "ECONNREFUSED",
        "connect",
      );
    } finally {
      await ln.close();
    }
  });

  test("listen with an already-aborted signal gives a closed listener", async () => {
    const ln = await listen("tcp", "127.0.0.1:0", { signal: AbortSignal.abort() });
    try {
      await rejectsOSError(ln.accept(), OSError, "EBADF", "accept");
    } finally {
      await ln.close();
    }
  });
});

describe("deadlines", () => {
  test("a read deadline in the past rejects a pending read with TimeoutError; clearing it makes the conn usable again", async () => {
    const p = await tcpPair();
    try {
      const pending = p.cli.read(100);
      pending.catch(() => {});
      assert.ok(await stillPending(pending, 30));
      p.cli.setReadDeadline(Date.now() - 1000);
      const err = await rejectsOSError(within(pending, 2000, "read"), TimeoutError, "ETIMEDOUT");
      assert.equal(err.errno, 110);
      // later reads fail at once while the deadline stays in the past
      await rejectsOSError(p.cli.read(100), TimeoutError, "ETIMEDOUT");
      p.cli.setReadDeadline(null);
      await p.srv.write("intact");
      assert.equal((await within(p.cli.readExactly(6), 2000, "read after clearing"))?.toString(), "intact");
    } finally {
      await p.close();
    }
  });

  test("data that arrived before the deadline fired is not lost", async () => {
    const p = await tcpPair();
    try {
      await p.srv.write("kept");
      await waitFor(() => p.cli.bufferedBytes >= 4, 2000, "the bytes to arrive");
      p.cli.setReadDeadline(new Date(Date.now() - 1));
      await rejectsOSError(p.cli.read(), TimeoutError, "ETIMEDOUT");
      p.cli.setReadDeadline(undefined);
      assert.equal((await within(p.cli.readExactly(4), 2000, "read"))?.toString(), "kept");
    } finally {
      await p.close();
    }
  });

  test("a deadline that fires while a read waits rejects it; extending it before it fires lets the read complete", async () => {
    const p = await tcpPair();
    try {
      p.cli.setReadDeadline(Date.now() + 80);
      const t0 = Date.now();
      await rejectsOSError(within(p.cli.read(), 2000, "read"), TimeoutError, "ETIMEDOUT");
      assert.ok(Date.now() - t0 >= 60, "fired near the deadline, not at once");

      p.cli.setReadDeadline(Date.now() + 150);
      const pending = p.cli.read();
      await sleep(50); // the scenario: the read waits a while under the first deadline
      p.cli.setReadDeadline(Date.now() + 10_000); // extended before it fired
      await sleep(200); // past the first deadline
      assert.ok(await stillPending(pending, 0), "the read still waits");
      await p.srv.write("late");
      assert.equal((await within(pending, 2000, "read"))?.toString(), "late");
      p.cli.setDeadline(null);
    } finally {
      await p.close();
    }
  });

  test("a write deadline rejects a write blocked by a peer that never reads", async () => {
    const p = await tcpPair();
    try {
      const big = Buffer.alloc(64 * 1024 * 1024, 0x61);
      const pending = p.cli.write(big);
      pending.catch(() => {});
      assert.ok(await stillPending(pending, 200), "the write waits for the peer");
      p.cli.setWriteDeadline(Date.now() + 50);
      await rejectsOSError(within(pending, 2000, "write"), TimeoutError, "ETIMEDOUT");
      await rejectsOSError(p.cli.write("x"), TimeoutError, "ETIMEDOUT");
      // reading is not affected by the write deadline
      await p.srv.write("still reading");
      assert.equal((await within(p.cli.readExactly(13), 2000, "read"))?.toString(), "still reading");
    } finally {
      p.cli.abort(); // discard the queued megabytes instead of lingering
      await p.srv.close();
      await p.ln.close();
    }
  });

  // BUG (reported): the same expired deadline names the operation "recv"/"send" when it
  // interrupts a pending call (core WaitList op) but "read"/"write" when a call starts after it
  // (Conn#waitFor) — one condition, two error shapes.
  test("a deadline error names the same operation whether the call was pending or started after", async () => {
    const p = await tcpPair();
    try {
      const pending = p.cli.read();
      pending.catch(() => {});
      assert.ok(await stillPending(pending, 30));
      p.cli.setReadDeadline(Date.now() - 1);
      const during = await rejectsOSError(within(pending, 2000, "read"), TimeoutError, "ETIMEDOUT");
      const after = await rejectsOSError(p.cli.read(), TimeoutError, "ETIMEDOUT");
      assert.equal(during.op, after.op, `pending: ${during.message} / later: ${after.message}`);
    } finally {
      await p.close();
    }
  });

  test("an invalid deadline is a TypeError", async () => {
    const p = await tcpPair();
    try {
      assert.throws(() => p.cli.setReadDeadline(new Date(Number.NaN)), TypeError);
    } finally {
      await p.close();
    }
  });
});

describe("dial failures and options", () => {
  test("dial to a closed port rejects ConnectionRefusedError", async () => {
    await using closed = await closedPort();
    const port = closed.port;
    const err = await rejectsOSError(
      dial("tcp", `127.0.0.1:${port}`),
      ConnectionRefusedError,
      "ECONNREFUSED",
      "connect",
    );
    assert.equal(err.errno, 111);
    assert.ok(err.message.includes(`127.0.0.1:${port}`), err.message);
    await using closed6 = await closedPort({ family: "tcp6" });
    const port6 = closed6.port;
    await rejectsOSError(dial("tcp6", `[::1]:${port6}`), ConnectionRefusedError, "ECONNREFUSED", "connect");
  });

  test("dial with a timeout rejects TimeoutError when the connect does not complete", async () => {
    const s = await stalledServer();
    try {
      const t0 = Date.now();
      await rejectsOSError(
        within(dial("tcp", `127.0.0.1:${s.port}`, { timeout: 200 }), 5000, "dial"),
        TimeoutError,
        "ETIMEDOUT",
        "connect",
      );
      assert.ok(Date.now() - t0 >= 150, "waited for the timeout");
    } finally {
      await s.stop();
    }
  });

  test("dial with a signal: aborting during the connect rejects InterruptedError (EINTR)", async () => {
    const s = await stalledServer();
    try {
      const ac = new AbortController();
      const pending = dial("tcp", `127.0.0.1:${s.port}`, { signal: ac.signal });
      pending.catch(() => {});
      assert.ok(await stillPending(pending, 100));
      ac.abort();
      const err = await rejectsOSError(within(pending, 2000, "dial"), InterruptedError, "EINTR", "connect");
      assert.equal(err.errno, 4);
    } finally {
      await s.stop();
    }
  });

  test("dial with an already-aborted signal rejects InterruptedError (EINTR) without connecting", async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      await rejectsOSError(
        dial("tcp", ln.address, { signal: AbortSignal.abort() }),
        InterruptedError,
        "EINTR",
        "connect",
      );
      await sleep(50); // the scenario: a stray connect would have reached the listener by now
      // nothing reached the listener
      const accepting = ln.accept();
      accepting.catch(() => {});
      assert.ok(await stillPending(accepting, 50));
    } finally {
      await ln.close();
    }
  });

  test("a bad network name is a TypeError naming the allowed networks", async () => {
    await assert.rejects(dial("sctp" as StreamNetwork, "127.0.0.1:1"), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /network/);
      assert.match(e.message, /tcp4/);
      return true;
    });
    await assert.rejects(listen("tcp5" as StreamNetwork, "127.0.0.1:0"), TypeError);
  });

  test("bad address strings are rejected with a clear EINVAL error", async () => {
    const cases: Array<[string, RegExp]> = [
      ["127.0.0.1", /missing port/],
      ["::1:80", /too many colons/],
      ["[::1]", /missing port/],
    ];
    for (const [address, why] of cases) {
      for (const p of [dial("tcp", address), listen("tcp", address)]) {
        const err = await rejectsOSError(p, OSError, "EINVAL");
        assert.match(err.message, why, `${address}: ${err.message}`);
        assert.ok(err.message.includes(address), `${address}: message shows the address: ${err.message}`);
      }
    }
    await assert.rejects(dial("tcp", "127.0.0.1:70000"), RangeError);
  });

  test("localAddress and localPort are honoured: the listener sees that source", async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    await using held = await closedPort({ reusable: true });
    const localPort = held.port;
    let cli: Conn | undefined;
    let srv: Conn | undefined;
    try {
      [cli, srv] = await within(
        Promise.all([dial("tcp", ln.address, { localAddress: "127.0.0.1", localPort }), ln.accept()]),
        5000,
        "dial",
      );
      assert.equal(cli.localAddress, `127.0.0.1:${localPort}`);
      assert.equal(srv.remoteAddress, `127.0.0.1:${localPort}`);
      await exchange(cli, srv);
    } finally {
      await cli?.close();
      await srv?.close();
      await ln.close();
    }
  });

  test("keepAlive and noDelay options are accepted", async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    let cli: Conn | undefined;
    let srv: Conn | undefined;
    try {
      [cli, srv] = await Promise.all([
        dial("tcp", ln.address, { keepAlive: true, noDelay: false }),
        ln.accept(),
      ]);
      cli.setNoDelay(true);
      cli.setKeepAlive(false);
      await exchange(cli, srv);
    } finally {
      await cli?.close();
      await srv?.close();
      await ln.close();
    }
  });
});

describe("interop with the Berkeley face", () => {
  test("a Berkeley server talks to a Go-style client", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    let cli: Conn | undefined;
    try {
      await srv.bind(["127.0.0.1", 0]);
      await srv.listen(5);
      const [host, port] = srv.getsockname() as [string, number];
      const [c, [conn, addr]] = await within(
        Promise.all([dial("tcp", `${host}:${port}`), srv.accept()]),
        5000,
        "dial/accept",
      );
      cli = c;
      try {
        assert.equal(`${addr[0]}:${addr[1]}`, cli.localAddress);
        await cli.write("from go");
        await cli.closeWrite();
        assert.equal((await conn.recv(100, 0x100 /* MSG_WAITALL */)).toString(), "from go");
        await conn.sendall("from bsd");
        await conn.shutdown(1 /* SHUT_WR */);
        assert.equal((await within(cli.readExactly(8), 2000, "read")).toString(), "from bsd");
        assert.equal(await cli.read(), null);
      } finally {
        await conn.close();
      }
    } finally {
      await cli?.close();
      await srv.close();
    }
  });

  test("a Go-style server talks to a Berkeley client", async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    const cli = socket(AF_INET, SOCK_STREAM);
    let srv: Conn | undefined;
    try {
      [, srv] = await within(
        Promise.all([cli.connect(["127.0.0.1", ln.port]), ln.accept()]),
        5000,
        "connect",
      );
      const [lhost, lport] = cli.getsockname() as [string, number];
      assert.equal(srv.remoteAddress, `${lhost}:${lport}`);
      await cli.sendall("hello go");
      assert.equal((await within(srv.readExactly(8), 2000, "read")).toString(), "hello go");
      await srv.write("hello bsd");
      await srv.closeWrite();
      assert.equal((await cli.recv(100, 0x100 /* MSG_WAITALL */)).toString(), "hello bsd");
      assert.equal((await cli.recv(100)).length, 0);
    } finally {
      await cli.close();
      await srv?.close();
      await ln.close();
    }
  });
});

describe("await using", () => {
  test("disposes listener and connections at scope exit, flushing queued writes first", async () => {
    let port = 0;
    let received = "";
    {
      await using ln = await listen("tcp", "127.0.0.1:0");
      port = ln.port;
      await using cli = await dial("tcp", ln.address);
      await using srv = await ln.accept();
      await cli.write("disposed politely");
      await cli.closeWrite();
      received = (await within(srv.readExactly(17), 2000, "read")).toString();
    }
    assert.equal(received, "disposed politely");
    await rejectsOSError(dial("tcp", `127.0.0.1:${port}`), ConnectionRefusedError, "ECONNREFUSED");
  });

  test("disposes even when the scope throws", async () => {
    let port = 0;
    await assert.rejects(
      (async () => {
        await using ln = await listen("tcp", "127.0.0.1:0");
        port = ln.port;
        await using _cli = await dial("tcp", ln.address);
        throw new Error("boom");
      })(),
      /boom/,
    );
    await rejectsOSError(dial("tcp", `127.0.0.1:${port}`), ConnectionRefusedError, "ECONNREFUSED");
  });
});
