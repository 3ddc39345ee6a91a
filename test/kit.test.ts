/**
 * The test kit itself (test/support/kit.ts, pipe.ts): real endpoints, a port that stays closed,
 * and an in-memory pipe that behaves as a loopback Conn does — each pipe scenario runs on a real
 * tcpPair() too, so the pipe is checked against the socket, not against itself.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { create_connection } from "../src/bsd/index.js";
import {
  BrokenPipeError,
  ConnectionRefusedError,
  ConnectionResetError,
  FrameTooLargeError,
  InterruptedError,
  OSError,
  TimeoutError,
  UnexpectedEOFError,
} from "../src/errors/index.js";
import { type ConnLike, dial, listen } from "../src/net/index.js";
import { rejectsOSError } from "./support/errors.js";
import { bsdTcpPair, closedPort, localListener, tcpPair, udpPair, waitFor } from "./support/kit.js";
import { stillPending, within } from "./support/leaks.js";
import { pipe } from "./support/pipe.js";

describe("localListener", () => {
  for (const family of ["tcp4", "tcp6", "unix"] as const) {
    test(`${family}: listens on a fresh local address that a dial reaches`, async () => {
      const ln = await localListener(family);
      try {
        if (family === "tcp4") assert.match(ln.address, /^127\.0\.0\.1:\d+$/);
        if (family === "tcp6") assert.match(ln.address, /^\[::1\]:\d+$/);
        if (family === "unix") assert.ok(existsSync(ln.address), "the socket file exists");
        const [c, s] = await within(Promise.all([dial(family, ln.address), ln.accept()]), 5000, "dial");
        await c.write("x");
        assert.equal((await within(s.readExactly(1), 2000, "read")).toString(), "x");
        await c.close();
        await s.close();
      } finally {
        await ln.close();
      }
      if (family === "unix") assert.ok(!existsSync(ln.address), "close removed the socket file");
    });
  }
});

describe("tcpPair / bsdTcpPair / udpPair", () => {
  for (const family of ["tcp4", "tcp6", "unix"] as const) {
    test(`${family}: both faces give two connected ends that carry bytes both ways`, async () => {
      {
        await using p = await tcpPair({ family });
        await p.cli.write("ping");
        assert.equal((await within(p.srv.readExactly(4), 2000, "srv")).toString(), "ping");
        await p.srv.write("pong");
        assert.equal((await within(p.cli.readExactly(4), 2000, "cli")).toString(), "pong");
      }
      {
        await using b = await bsdTcpPair({ family });
        await b.cli.sendall(Buffer.from("ping"));
        assert.equal((await within(b.conn.recv(4), 2000, "conn")).toString(), "ping");
      }
    });
  }

  test("keepListener: false closes the listener but the pair goes on", async () => {
    await using p = await tcpPair({ keepListener: false });
    await rejectsOSError(dial("tcp", p.ln.address), ConnectionRefusedError, "ECONNREFUSED", "connect");
    await p.cli.write("y");
    assert.equal((await within(p.srv.read(), 2000, "read"))?.toString(), "y");
  });

  test("udpPair: two bound datagram sockets, each reachable at its getsockname()", async () => {
    for (const family of ["tcp4", "tcp6"] as const) {
      await using u = await udpPair(family);
      await u.a.sendto(Buffer.from("d"), u.b.getsockname());
      const [data, from] = await within(u.b.recvfrom(10), 2000, "recvfrom");
      assert.equal(data.toString(), "d");
      assert.deepEqual(from, u.a.getsockname());
    }
  });
});

describe("closedPort", () => {
  test(
    "a connect to it is refused 100 times in a row, and nobody can listen on it meanwhile",
    { timeout: 60_000 },
    async () => {
      await using closed = await closedPort();
      for (let i = 0; i < 100; i++)
        await rejectsOSError(dial("tcp", closed.address), ConnectionRefusedError, "ECONNREFUSED", "connect");
      await rejectsOSError(listen("tcp", closed.address), OSError, "EADDRINUSE", "bind");
    },
  );

  test("tcp6: refused on [::1] as well", async () => {
    await using closed = await closedPort({ family: "tcp6" });
    assert.match(closed.address, /^\[::1\]:\d+$/);
    await rejectsOSError(dial("tcp6", closed.address), ConnectionRefusedError, "ECONNREFUSED", "connect");
  });

  test("reusable: the test may bind it as a source port while connects to it stay refused", async () => {
    await using closed = await closedPort({ reusable: true });
    await using ln = await localListener();
    const [cli, conn] = await within(
      Promise.all([create_connection(["127.0.0.1", ln.port], 2, ["127.0.0.1", closed.port]), ln.accept()]),
      5000,
      "connect from the held port",
    );
    try {
      assert.equal(conn.remoteAddress, `127.0.0.1:${closed.port}`);
    } finally {
      await cli.close();
      await conn.close();
    }
    await rejectsOSError(dial("tcp", closed.address), ConnectionRefusedError, "ECONNREFUSED", "connect");
  });
});

type Ends = { a: ConnLike; b: ConnLike; close: () => Promise<void> };

/** The two kinds every pipe scenario runs on: a real loopback pair and the in-memory pipe. */
const KINDS: Array<[string, () => Promise<Ends>]> = [
  [
    "tcpPair",
    async () => {
      const p = await tcpPair();
      return { a: p.cli, b: p.srv, close: () => p.close() };
    },
  ],
  [
    "pipe",
    async () => {
      const [a, b] = pipe();
      return {
        a,
        b,
        close: async () => {
          await a.close();
          await b.close();
        },
      };
    },
  ],
];

describe("pipe() behaves like a loopback Conn", () => {
  for (const [kind, make] of KINDS) {
    test(`${kind}: read(n) returns at most n bytes as soon as any arrive; readExactly waits for all`, async () => {
      const p = await make();
      try {
        const r = p.b.read(3);
        assert.ok(await stillPending(r, 50), "read waits while nothing is there");
        await p.a.write("hello");
        assert.equal((await within(r, 2000, "read"))?.toString(), "hel");
        const x = p.b.readExactly(4);
        assert.ok(await stillPending(x, 50), "readExactly waits for all 4 bytes");
        await p.a.write("ab");
        assert.equal((await within(x, 2000, "readExactly")).toString(), "loab");
      } finally {
        await p.close();
      }
    });

    test(`${kind}: readLine returns whole lines however they were split; FrameTooLargeError past max`, async () => {
      const p = await make();
      try {
        await p.a.write("one\ntw");
        assert.equal((await within(p.b.readLine(), 2000, "line 1"))?.toString(), "one\n");
        const l2 = p.b.readLine();
        await p.a.write("o\nthree-is-long\n");
        assert.equal((await within(l2, 2000, "line 2"))?.toString(), "two\n");
        await assert.rejects(within(p.b.readLine({ max: 4 }), 2000, "line 3"), FrameTooLargeError);
      } finally {
        await p.close();
      }
    });

    test(`${kind}: closeWrite is a FIN — the peer reads the rest, then EOF, and can still answer; writing after it is EPIPE`, async () => {
      const p = await make();
      try {
        await p.a.write("last");
        await p.a.closeWrite();
        assert.equal((await within(p.b.readExactly(4), 2000, "rest")).toString(), "last");
        assert.equal(await within(p.b.read(), 2000, "eof"), null);
        assert.equal(await within(p.b.read(), 2000, "eof again"), null);
        await p.b.write("reply");
        assert.equal((await within(p.a.readExactly(5), 2000, "reply")).toString(), "reply");
        await rejectsOSError(p.a.write("more"), BrokenPipeError, "EPIPE", "send");
      } finally {
        await p.close();
      }
    });

    test(`${kind}: readExactly at EOF rejects UnexpectedEOFError with the partial bytes`, async () => {
      const p = await make();
      try {
        await p.a.write("ab");
        await p.a.closeWrite();
        const err = await within(
          p.b.readExactly(5).then(
            () => assert.fail("resolved"),
            (e: unknown) => e,
          ),
          2000,
          "readExactly",
        );
        assert.ok(err instanceof UnexpectedEOFError);
        assert.equal(err.partial.toString(), "ab");
        assert.equal(err.expected, 5);
      } finally {
        await p.close();
      }
    });

    test(`${kind}: close() rejects a pending read EBADF; later calls reject EBADF too`, async () => {
      const p = await make();
      try {
        const r = p.b.read();
        assert.ok(await stillPending(r, 30));
        await p.b.close();
        await rejectsOSError(within(r, 2000, "read"), OSError, "EBADF", "recv");
        await rejectsOSError(p.b.read(), OSError, "EBADF", "recv");
        assert.equal(await within(p.a.read(), 2000, "peer sees EOF"), null);
      } finally {
        await p.close();
      }
    });

    test(`${kind}: a read deadline rejects the pending read with TimeoutError; moving it lets reads go on`, async () => {
      const p = await make();
      try {
        p.b.setReadDeadline(Date.now() + 50);
        await rejectsOSError(within(p.b.read(), 2000, "read"), TimeoutError, "ETIMEDOUT", "recv");
        await rejectsOSError(p.b.read(), TimeoutError, "ETIMEDOUT", "recv");
        p.b.setReadDeadline(null);
        await p.a.write("z");
        assert.equal((await within(p.b.read(), 2000, "read"))?.toString(), "z");
      } finally {
        await p.close();
      }
    });

    test(`${kind}: an aborted signal rejects the call with InterruptedError and loses no bytes`, async () => {
      const p = await make();
      try {
        const ac = new AbortController();
        const r = p.b.readExactly(4, { signal: ac.signal });
        await p.a.write("ab");
        await waitFor(() => p.b.bufferedBytes === 0, 2000, "the two bytes to be taken by the pending read");
        ac.abort();
        await rejectsOSError(within(r, 2000, "read"), InterruptedError, "EINTR");
        await p.a.write("cd");
        assert.equal((await within(p.b.readExactly(4), 2000, "read")).toString(), "abcd");
      } finally {
        await p.close();
      }
    });

    test(`${kind}: abort() is a reset — the peer's read rejects ECONNRESET, then EOF`, async () => {
      const p = await make();
      try {
        const r = p.b.read();
        p.a.abort();
        await rejectsOSError(within(r, 2000, "read"), ConnectionResetError, "ECONNRESET", "recv");
        assert.equal(await within(p.b.read(), 2000, "then EOF"), null);
      } finally {
        await p.close();
      }
    });
  }

  test("pipe: write waits while the peer does not read (bounded buffering), and resolves once it does", async () => {
    const [a, b] = pipe({ highWaterMark: 16 });
    try {
      assert.equal(await a.write(Buffer.alloc(16, 1)), 16);
      const w = a.write(Buffer.alloc(40, 2));
      assert.ok(await stillPending(w, 50), "write waits on a full buffer");
      assert.equal(b.bufferedBytes, 16);
      let got = 0;
      while (got < 56) got += (await within(b.read(), 2000, "read"))!.length;
      assert.equal(await within(w, 2000, "write"), 40);
      assert.equal(got, 56);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("pipe: a write waiting on a full buffer rejects EPIPE when the reader closes", async () => {
    const [a, b] = pipe({ highWaterMark: 4 });
    try {
      const w = a.write("0123456789");
      assert.ok(await stillPending(w, 30));
      await b.close();
      await rejectsOSError(within(w, 2000, "write"), BrokenPipeError, "EPIPE", "send");
    } finally {
      await a.close();
    }
  });
});
