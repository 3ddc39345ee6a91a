/**
 * The Berkeley face on TCP: the semantics the foundation issue requires, each on real loopback
 * sockets.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import net from "node:net";
import { describe, test } from "node:test";
import {
  AF_INET,
  BlockingIOError,
  BrokenPipeError,
  ConnectionRefusedError,
  ConnectionResetError,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_WAITALL,
  OSError,
  SHUT_RD,
  SHUT_WR,
  SO_RCVBUF,
  SOCK_STREAM,
  SOL_SOCKET,
  socket,
  TimeoutError,
} from "../src/bsd/index.js";
import { rejectsOSError } from "./support/errors.js";
import { bsdTcpPair, settled, waitFor } from "./support/kit.js";
import { stillPending, within } from "./support/leaks.js";

describe("recv()", () => {
  test("returns at most n bytes as soon as any arrive, never waiting for n", async () => {
    const p = await bsdTcpPair();
    try {
      await p.conn.sendall(Buffer.from("hello"));
      const got = await within(p.cli.recv(1024), 2000, "recv");
      assert.equal(got.toString(), "hello");
      await p.conn.sendall(Buffer.from("abcdef"));
      await within(p.cli.recv(1, MSG_PEEK), 2000, "peek");
      assert.equal((await p.cli.recv(2)).toString(), "ab");
      assert.equal((await p.cli.recv(100)).toString(), "cdef");
    } finally {
      await p.close();
    }
  });

  test("resolves an empty Buffer at orderly EOF, and on every later call", async () => {
    const p = await bsdTcpPair();
    try {
      await p.conn.sendall(Buffer.from("bye"));
      await p.conn.close();
      assert.equal((await p.cli.recv(10)).toString(), "bye");
      assert.equal((await p.cli.recv(10)).length, 0);
      assert.equal((await p.cli.recv(10)).length, 0);
    } finally {
      await p.close();
    }
  });

  test("rejects ConnectionResetError when the peer resets", async () => {
    // the peer resets as soon as it has a byte to read
    const srv = net.createServer((s) => s.once("data", () => s.resetAndDestroy()));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const cli = socket(AF_INET, SOCK_STREAM);
    try {
      await cli.connect(["127.0.0.1", (srv.address() as net.AddressInfo).port]);
      await cli.sendall(Buffer.from("x"));
      const err = await rejectsOSError(cli.recv(10), ConnectionResetError, "ECONNRESET", "recv");
      assert.equal(err.errno, 104);
    } finally {
      await cli.close();
      await new Promise((r) => srv.close(r));
    }
  });

  test("MSG_PEEK does not consume; MSG_WAITALL waits for all n bytes", async () => {
    const p = await bsdTcpPair();
    try {
      await p.conn.sendall(Buffer.from("12345"));
      assert.equal((await p.cli.recv(3, MSG_PEEK)).toString(), "123");
      const all = p.cli.recv(8, MSG_WAITALL);
      assert.ok(await stillPending(all, 100), "waitall waits for 8 bytes");
      await p.conn.sendall(Buffer.from("678"));
      assert.equal((await within(all, 2000, "waitall")).toString(), "12345678");
      await p.conn.sendall(Buffer.from("9"));
      await p.conn.shutdown(SHUT_WR);
      assert.equal((await p.cli.recv(5, MSG_WAITALL)).toString(), "9", "EOF ends a WAITALL early");
    } finally {
      await p.close();
    }
  });

  test("recv_into fills the caller's buffer and returns the count", async () => {
    const p = await bsdTcpPair();
    try {
      await p.conn.sendall(Buffer.from("xyz"));
      const buf = Buffer.alloc(8);
      assert.equal(await p.cli.recv_into(buf), 3);
      assert.equal(buf.subarray(0, 3).toString(), "xyz");
    } finally {
      await p.close();
    }
  });
});

describe("bounded memory", () => {
  test("the receive side stops reading from the kernel above its high-water mark", async () => {
    const p = await bsdTcpPair();
    const rcvbuf = 64 * 1024;
    p.cli.setsockopt(SOL_SOCKET, SO_RCVBUF, rcvbuf);
    const total = 16 * 1024 * 1024;
    const data = Buffer.alloc(total, 7);
    try {
      const sending = p.conn.sendall(data);
      // let the flood fill every buffer it can; nobody reads on the client
      await settled(() => p.cli.stream!.counters.received);
      const buffered = p.cli.stream!.bufferedBytes;
      const received = p.cli.stream!.counters.received;
      assert.ok(buffered <= rcvbuf + 64 * 1024, `buffered ${buffered} stays near ${rcvbuf}`);
      assert.ok(received < total, `only ${received} of ${total} bytes left the kernel`);
      let got = 0;
      while (got < total) {
        const b = await within(p.cli.recv(65536), 5000, "recv");
        assert.ok(b.length > 0);
        got += b.length;
      }
      await within(sending, 5000, "sendall");
      assert.equal(got, total);
    } finally {
      await p.close();
    }
  });

  test("sendall waits while the peer is not reading, with bounded buffering", async () => {
    const p = await bsdTcpPair();
    const chunk = Buffer.alloc(256 * 1024, 1);
    let handed = 0;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; i < 512 && !stop; i++) {
        await p.cli.sendall(chunk);
        handed += chunk.length;
      }
    })();
    try {
      await settled(() => handed); // the writer stalls once the kernel buffers are full
      const queued = p.cli.stream!.writableLength;
      assert.ok(queued <= 16 * 1024 + chunk.length, `Node-side queue ${queued} is bounded`);
      assert.ok(handed < 64 * 1024 * 1024, `writer stalled after ${handed} bytes (kernel buffers only)`);
      stop = true;
      // now read everything that was sent; the writer finishes
      const h = createHash("sha256");
      let got = 0;
      const reader = (async () => {
        for (;;) {
          const b = await p.conn.recv(65536);
          if (b.length === 0) break;
          h.update(b);
          got += b.length;
        }
      })();
      await within(writer, 10000, "writer");
      p.cli.shutdown(SHUT_WR);
      await within(reader, 10000, "reader");
      assert.equal(got, handed);
    } finally {
      stop = true;
      await p.close();
    }
  });
});

describe("bind() and listen()", () => {
  test("bind() raises EADDRINUSE at bind time", async () => {
    const a = socket(AF_INET, SOCK_STREAM);
    const b = socket(AF_INET, SOCK_STREAM);
    try {
      await a.bind(["127.0.0.1", 0]);
      await rejectsOSError(b.bind(a.getsockname()), OSError, "EADDRINUSE", "bind");
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("getsockname() gives the real port right after bind(), before listen()", async () => {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      await s.bind(["127.0.0.1", 0]);
      const [host, port] = s.getsockname() as [string, number];
      assert.equal(host, "127.0.0.1");
      assert.ok(port > 0);
    } finally {
      await s.close();
    }
  });

  test("bind-then-connect uses the bound local address and port", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    const cli = socket(AF_INET, SOCK_STREAM);
    try {
      await srv.bind(["127.0.0.1", 0]);
      await srv.listen();
      await cli.bind(["127.0.0.1", 0]);
      const [, port] = cli.getsockname() as [string, number];
      const [, [conn, addr]] = await Promise.all([cli.connect(srv.getsockname()), srv.accept()]);
      assert.deepEqual(addr, ["127.0.0.1", port]);
      assert.deepEqual(cli.getsockname(), ["127.0.0.1", port]);
      await conn.close();
    } finally {
      await cli.close();
      await srv.close();
    }
  });

  test("listen(backlog) bounds the accept queue and nothing is read before accept()", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    await srv.bind(["127.0.0.1", 0]);
    await srv.listen(2);
    const clients = [socket(), socket(), socket(), socket()];
    try {
      // beyond the bound a connection is reset: at connect (ECONNRESET) or at the first recv
      const codes = [];
      for (const c of clients) codes.push(await c.connect_ex(srv.getsockname()));
      assert.deepEqual(codes.slice(0, 2), [0, 0]);
      // 32 MiB is more than the kernel buffers can hold: the send can only finish if
      // someone reads, and nothing may read before accept()
      const big = Buffer.alloc(32 * 1024 * 1024, 3);
      const sending = clients[0]!.sendall(big);
      await waitFor(() => srv.listener!.refused === 2, 3000, "the connections past the backlog to be reset");
      assert.equal(srv.listener!.pending, 2, "two connections wait");
      assert.equal(srv.listener!.refused, 2, "the others were reset");
      assert.ok(await stillPending(sending, 50), "queued connection is not read from");
      const [conn] = await srv.accept();
      let got = 0;
      while (got < big.length) got += (await within(conn.recv(1 << 20), 5000, "recv")).length;
      await within(sending, 5000, "sendall");
      await conn.close();
      if (codes[3] === 0) await rejectsOSError(clients[3]!.recv(1), ConnectionResetError, "ECONNRESET");
      else assert.equal(codes[3], 104);
    } finally {
      for (const c of clients) await c.close();
      await srv.close();
    }
  });
});

describe("timeouts and non-blocking mode", () => {
  test("settimeout: recv rejects TimeoutError, the socket stays usable and loses nothing", async () => {
    const p = await bsdTcpPair();
    try {
      p.cli.settimeout(0.1);
      const err = await rejectsOSError(p.cli.recv(10), TimeoutError, "ETIMEDOUT", "recv");
      assert.match(err.message, /still usable/);
      await p.conn.sendall(Buffer.from("late"));
      assert.equal((await p.cli.recv(10)).toString(), "late");
    } finally {
      await p.close();
    }
  });

  test("settimeout: accept rejects TimeoutError and a later accept still works", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    const cli = socket(AF_INET, SOCK_STREAM);
    try {
      await srv.bind(["127.0.0.1", 0]);
      await srv.listen();
      srv.settimeout(0.05);
      await rejectsOSError(srv.accept(), TimeoutError, "ETIMEDOUT", "accept");
      await cli.connect(srv.getsockname());
      const [conn] = await srv.accept();
      await conn.close();
    } finally {
      await cli.close();
      await srv.close();
    }
  });

  test("settimeout: sendall to a peer that does not read rejects TimeoutError", async () => {
    const p = await bsdTcpPair();
    try {
      p.cli.settimeout(0.2);
      const chunk = Buffer.alloc(1 << 20);
      let err: unknown;
      for (let i = 0; i < 256 && err === undefined; i++) {
        await p.cli.sendall(chunk).catch((e: unknown) => {
          err = e;
        });
      }
      assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${String(err)}`);
    } finally {
      await p.close();
    }
  });

  test("setblocking(false): recv and accept raise BlockingIOError instead of waiting", async () => {
    const p = await bsdTcpPair();
    try {
      p.cli.setblocking(false);
      assert.equal(p.cli.getblocking(), false);
      assert.equal(p.cli.gettimeout(), 0);
      await rejectsOSError(p.cli.recv(10), BlockingIOError, "EAGAIN", "recv");
      p.srv.setblocking(false);
      await rejectsOSError(p.srv.accept(), BlockingIOError, "EAGAIN", "accept");
      p.conn.setblocking(true);
      await rejectsOSError(p.conn.recv(10, MSG_DONTWAIT), BlockingIOError, "EAGAIN", "recv");
      await p.conn.sendall(Buffer.from("now"));
      await waitFor(() => p.cli.stream!.bufferedBytes >= 3, 2000, "the bytes to arrive");
      assert.equal((await p.cli.recv(10)).toString(), "now");
    } finally {
      await p.close();
    }
  });

  test("a non-blocking connect raises EINPROGRESS and completes in the background", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    const cli = socket(AF_INET, SOCK_STREAM);
    try {
      await srv.bind(["127.0.0.1", 0]);
      await srv.listen();
      cli.setblocking(false);
      await rejectsOSError(cli.connect(srv.getsockname()), BlockingIOError, "EINPROGRESS", "connect");
      srv.settimeout(2);
      const [conn] = await srv.accept();
      cli.setblocking(true);
      await cli.sendall(Buffer.from("ok"));
      assert.equal((await conn.recv(2)).toString(), "ok");
      // Linux: the first connect() after a non-blocking one completed reports it (0), then EISCONN
      assert.equal(await cli.connect_ex(srv.getsockname()), 0, "the completed connect, reported once");
      assert.equal(await cli.connect_ex(srv.getsockname()), 106, "EISCONN once connected");
      await conn.close();
    } finally {
      await cli.close();
      await srv.close();
    }
  });
});

describe("shutdown() and close()", () => {
  test("shutdown(SHUT_WR) half-closes: the peer reads EOF and can still answer", async () => {
    const p = await bsdTcpPair();
    try {
      await p.cli.sendall(Buffer.from("request"));
      p.cli.shutdown(SHUT_WR);
      let req = "";
      for (;;) {
        const b = await p.conn.recv(100);
        if (b.length === 0) break;
        req += b.toString();
      }
      assert.equal(req, "request");
      await p.conn.sendall(Buffer.from(`reply to ${req}`));
      await p.conn.close();
      assert.equal((await p.cli.recv(100)).toString(), "reply to request");
      await rejectsOSError(p.cli.send(Buffer.from("x")), BrokenPipeError, "EPIPE", "send");
    } finally {
      await p.close();
    }
  });

  test("shutdown(SHUT_RD) makes later recv calls return EOF", async () => {
    const p = await bsdTcpPair();
    try {
      p.cli.shutdown(SHUT_RD);
      assert.equal((await p.cli.recv(10)).length, 0);
    } finally {
      await p.close();
    }
  });

  test("close() rejects a waiting recv and every later call with EBADF", async () => {
    const p = await bsdTcpPair();
    try {
      const waiting = rejectsOSError(p.cli.recv(10), OSError, "EBADF", "recv");
      await p.cli.close();
      await waiting;
      await rejectsOSError(p.cli.recv(10), OSError, "EBADF", "recv");
      await rejectsOSError(p.cli.sendall(Buffer.from("x")), OSError, "EBADF", "sendall");
      assert.throws(
        () => p.cli.getsockname(),
        (e: unknown) => e instanceof OSError && e.code === "EBADF",
      );
      assert.equal(p.cli.fileno(), -1);
      await p.cli.close(); // idempotent
    } finally {
      await p.close();
    }
  });

  test("close() rejects a waiting accept with EBADF", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    await srv.bind(["127.0.0.1", 0]);
    await srv.listen();
    const waiting = rejectsOSError(srv.accept(), OSError, "EBADF", "accept");
    await srv.close();
    await waiting;
  });
});

describe("errors", () => {
  test("connect to a closed port raises ConnectionRefusedError that says what to check", async () => {
    const probe = socket(AF_INET, SOCK_STREAM);
    await probe.bind(["127.0.0.1", 0]);
    const addr = probe.getsockname() as [string, number];
    await probe.close();
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      const err = await rejectsOSError(s.connect(addr), ConnectionRefusedError, "ECONNREFUSED", "connect");
      assert.equal(err.errno, 111);
      assert.equal(err.strerror, "Connection refused");
      assert.equal(
        err.message,
        `connect 127.0.0.1:${addr[1]}: connection refused (ECONNREFUSED) — is a server listening there?`,
      );
      assert.equal(await s.connect_ex(addr), 111);
    } finally {
      await s.close();
    }
  });

  test("bad arguments throw TypeError/RangeError naming the argument", async () => {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      await assert.rejects(
        s.bind(["127.0.0.1", 70000]),
        (e: unknown) => e instanceof RangeError && /port/.test(e.message) && /70000/.test(e.message),
      );
      await assert.rejects(
        s.bind("127.0.0.1:80" as never),
        (e: unknown) => e instanceof TypeError && /address/.test(e.message),
      );
      await assert.rejects(s.recv(-1), (e: unknown) => e instanceof RangeError && /bufsize/.test(e.message));
      await assert.rejects(
        s.recv("10" as never),
        (e: unknown) => e instanceof TypeError && /bufsize/.test(e.message),
      );
      assert.throws(() => s.settimeout(-1), RangeError);
      assert.throws(
        () => socket(99, SOCK_STREAM),
        (e: unknown) => e instanceof OSError && e.code === "EAFNOSUPPORT",
      );
      assert.throws(
        () => socket(AF_INET, 3),
        (e: unknown) => e instanceof OSError && /raw sockets/.test(e.message),
      );
      assert.throws(
        () => socket(1, 2),
        (e: unknown) => e instanceof OSError && /AF_UNIX datagram/.test(e.message),
      );
    } finally {
      await s.close();
    }
  });

  test("recv on an unconnected socket raises ENOTCONN, send raises EPIPE", async () => {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      await rejectsOSError(s.recv(1), OSError, "ENOTCONN", "recv");
      await rejectsOSError(s.send(Buffer.from("x")), BrokenPipeError, "EPIPE", "send");
      assert.throws(
        () => s.getpeername(),
        (e: unknown) => e instanceof OSError && e.code === "ENOTCONN",
      );
    } finally {
      await s.close();
    }
  });
});

describe("IPv6", () => {
  test("a stream over [::1] reports 4-tuple addresses", async () => {
    const p = await bsdTcpPair({ family: "tcp6" });
    try {
      const [host, port, flow, scope] = p.cli.getpeername() as [string, number, number, number];
      assert.equal(host, "::1");
      assert.ok(port > 0);
      assert.equal(flow, 0);
      assert.equal(scope, 0);
      await p.cli.sendall(Buffer.from("six"));
      assert.equal((await p.conn.recv(3)).toString(), "six");
    } finally {
      await p.close();
    }
  });
});
