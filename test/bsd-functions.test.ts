/**
 * The Berkeley face's module functions and socket options: create_connection, create_server,
 * socketpair, has_dualstack_ipv6, the default timeout, getsockopt/setsockopt, fileno and
 * toString — each on real loopback sockets.
 */
import { stalledServer } from "./support/stalled-server.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  ConnectionRefusedError,
  create_connection,
  create_server,
  getdefaulttimeout,
  has_dualstack_ipv6,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  MSG_WAITALL,
  OSError,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  setdefaulttimeout,
  select,
  socket,
  socketpair,
  TCP_NODELAY,
  TimeoutError,
} from "../src/bsd/index.js";
import { rejectsOSError } from "./support/errors.js";
import { stillPending, within } from "./support/leaks.js";
import { closedPort } from "./support/kit.js";

/** A listening socket on `host`:0 (family from the host form); returns it and its port. */
async function server(host = "127.0.0.1", family = AF_INET): Promise<{ srv: Socket; port: number }> {
  const srv = socket(family, SOCK_STREAM);
  try {
    await srv.bind([host, 0]);
    await srv.listen(5);
  } catch (err) {
    await srv.close();
    throw err;
  }
  return { srv, port: (srv.getsockname() as [string, number])[1] };
}

/** Closes every socket given, in order. */
async function closeAll(...socks: Array<Socket | undefined>): Promise<void> {
  for (const s of socks) await s?.close();
}

describe("create_connection", () => {
  test("connects to a host name (localhost) and returns a connected socket", async () => {
    // a dual-stack server, so whichever address localhost resolves to first is served
    const srv = await create_server(["", 0], { family: AF_INET6, dualstack_ipv6: true });
    let cli: Socket | undefined;
    let conn: Socket | undefined;
    try {
      const port = srv.getsockname()[1];
      const [c, [a]] = await within(
        Promise.all([create_connection(["localhost", port]), srv.accept()]),
        5000,
        "create_connection",
      );
      cli = c;
      conn = a;
      assert.equal(cli.state, "connected");
      assert.equal(cli.type, SOCK_STREAM);
      assert.equal((cli.getpeername() as [string, number])[1], port);
      assert.equal(cli.gettimeout(), null, "no timeout given: the default (blocking)");
      await cli.sendall("via localhost");
      assert.equal((await within(conn.recv(13, MSG_WAITALL), 2000, "recv")).toString(), "via localhost");
    } finally {
      await closeAll(cli, conn, srv);
    }
  });

  test("the timeout stays set on the returned socket and bounds later calls", async () => {
    const { srv, port } = await server();
    let cli: Socket | undefined;
    let conn: Socket | undefined;
    try {
      const [c, [a]] = await Promise.all([create_connection(["127.0.0.1", port], 0.15), srv.accept()]);
      cli = c;
      conn = a;
      assert.equal(cli.gettimeout(), 0.15);
      assert.equal(cli.getblocking(), true);
      const t0 = Date.now();
      await rejectsOSError(within(cli.recv(10), 2000, "recv"), TimeoutError, "ETIMEDOUT", "recv");
      assert.ok(Date.now() - t0 >= 100, "waited about the timeout");
      await conn.sendall("after");
      assert.equal((await within(cli.recv(5, MSG_WAITALL), 2000, "recv")).toString(), "after");
    } finally {
      await closeAll(cli, conn, srv);
    }
  });

  test("the timeout bounds the connect itself", async () => {
    const s = await stalledServer();
    try {
      await rejectsOSError(
        within(create_connection(["127.0.0.1", s.port], 0.2), 5000, "create_connection"),
        TimeoutError,
        "ETIMEDOUT",
        "connect",
      );
    } finally {
      await s.stop();
    }
  });

  test("source_address is honoured: the server sees that address and port", async () => {
    const { srv, port } = await server();
    await using held = await closedPort({ reusable: true });
    const src = held.port;
    let cli: Socket | undefined;
    let conn: Socket | undefined;
    try {
      const [c, [a, addr]] = await within(
        Promise.all([create_connection(["127.0.0.1", port], 2, ["127.0.0.1", src]), srv.accept()]),
        5000,
        "create_connection",
      );
      cli = c;
      conn = a;
      assert.deepEqual(addr, ["127.0.0.1", src]);
      assert.deepEqual(cli.getsockname(), ["127.0.0.1", src]);
      assert.deepEqual(conn.getpeername(), ["127.0.0.1", src]);
    } finally {
      await closeAll(cli, conn, srv);
    }
  });

  test("a closed port rejects ConnectionRefusedError", async () => {
    await using closed = await closedPort();
    const port = closed.port;
    const err = await rejectsOSError(
      create_connection(["127.0.0.1", port]),
      ConnectionRefusedError,
      "ECONNREFUSED",
      "connect",
    );
    assert.equal(err.errno, 111);
  });
});

describe("create_server", () => {
  test("IPv4: listens on the address with SO_REUSEADDR set and accepts", async () => {
    const srv = await create_server(["127.0.0.1", 0]);
    const cli = socket(AF_INET, SOCK_STREAM);
    let conn: Socket | undefined;
    try {
      assert.equal(srv.family, AF_INET);
      assert.equal(srv.state, "listening");
      assert.equal(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
      const [host, port] = srv.getsockname() as [string, number];
      assert.equal(host, "127.0.0.1");
      assert.ok(port > 0);
      [, [conn]] = await within(Promise.all([cli.connect([host, port]), srv.accept()]), 5000, "connect");
      await cli.sendall("v4");
      assert.equal((await conn.recv(2, MSG_WAITALL)).toString(), "v4");
    } finally {
      await closeAll(cli, conn, srv);
    }
  });

  test('IPv4 on "" listens on 0.0.0.0', async () => {
    const srv = await create_server(["", 0]);
    try {
      assert.equal((srv.getsockname() as [string, number])[0], "0.0.0.0");
    } finally {
      await srv.close();
    }
  });

  test("AF_INET6 with dualstack_ipv6 accepts an IPv4 client (via 127.0.0.1) and an IPv6 client", async () => {
    const srv = await create_server(["", 0], { family: AF_INET6, dualstack_ipv6: true });
    const v4 = socket(AF_INET, SOCK_STREAM);
    const v6 = socket(AF_INET6, SOCK_STREAM);
    const accepted: Socket[] = [];
    try {
      assert.equal(srv.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
      const [host, port] = srv.getsockname() as [string, number, number, number];
      assert.equal(host, "::");
      const [, [c4, a4]] = await within(
        Promise.all([v4.connect(["127.0.0.1", port]), srv.accept()]),
        5000,
        "v4",
      );
      accepted.push(c4);
      assert.equal((a4 as readonly unknown[])[0], "::ffff:127.0.0.1", "an IPv4 client appears IPv4-mapped");
      const [, [c6, a6]] = await within(Promise.all([v6.connect(["::1", port]), srv.accept()]), 5000, "v6");
      accepted.push(c6);
      assert.equal((a6 as readonly unknown[])[0], "::1");
      await v4.sendall("four");
      await v6.sendall("six!");
      assert.equal((await within(c4.recv(4, MSG_WAITALL), 2000, "recv4")).toString(), "four");
      assert.equal((await within(c6.recv(4, MSG_WAITALL), 2000, "recv6")).toString(), "six!");
    } finally {
      await closeAll(v4, v6, ...accepted, srv);
    }
  });

  test("AF_INET6 without dualstack_ipv6 is v6-only: an IPv4 client is refused", async () => {
    const srv = await create_server(["", 0], { family: AF_INET6 });
    const v4 = socket(AF_INET, SOCK_STREAM);
    try {
      assert.equal(srv.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
      const port = srv.getsockname()[1];
      await rejectsOSError(
        v4.connect(["127.0.0.1", port]),
        ConnectionRefusedError,
        "ECONNREFUSED",
        "connect",
      );
    } finally {
      await closeAll(v4, srv);
    }
  });

  test("reuse_port is refused with OSError ENOPROTOOPT; dualstack_ipv6 needs AF_INET6", async () => {
    const err = await rejectsOSError(
      create_server(["127.0.0.1", 0], { reuse_port: true }),
      OSError,
      "ENOPROTOOPT",
    );
    assert.match(err.message, /SO_REUSEPORT/);
    await assert.rejects(create_server(["127.0.0.1", 0], { dualstack_ipv6: true }), TypeError);
  });

  test("a taken address rejects EADDRINUSE", async () => {
    const a = await create_server(["127.0.0.1", 0]);
    try {
      const port = (a.getsockname() as [string, number])[1];
      await rejectsOSError(create_server(["127.0.0.1", port]), OSError, "EADDRINUSE", "bind");
    } finally {
      await a.close();
    }
  });
});

describe("socketpair and has_dualstack_ipv6", () => {
  test("socketpair() gives two connected AF_UNIX sockets that talk both ways", async () => {
    const [a, b] = await within(socketpair(), 5000, "socketpair");
    try {
      assert.equal(a.family, AF_UNIX);
      assert.equal(b.family, AF_UNIX);
      assert.equal(a.state, "connected");
      await a.sendall("a to b");
      assert.equal((await within(b.recv(6, MSG_WAITALL), 2000, "recv b")).toString(), "a to b");
      await b.sendall("b to a");
      assert.equal((await within(a.recv(6, MSG_WAITALL), 2000, "recv a")).toString(), "b to a");
      a.shutdown(1);
      assert.equal((await within(b.recv(10), 2000, "eof")).length, 0);
    } finally {
      await closeAll(a, b);
    }
  });

  test("socketpair(AF_INET) pairs over loopback", async () => {
    const [a, b] = await within(socketpair(AF_INET), 5000, "socketpair");
    try {
      assert.equal((a.getpeername() as [string, number])[0], "127.0.0.1");
      await b.sendall("x");
      assert.equal((await a.recv(1)).toString(), "x");
    } finally {
      await closeAll(a, b);
    }
  });

  test("has_dualstack_ipv6() is true on this host", () => {
    assert.equal(has_dualstack_ipv6(), true);
  });
});

describe("setdefaulttimeout", () => {
  test("applies to sockets created afterwards, not to existing ones", async () => {
    assert.equal(getdefaulttimeout(), null);
    const before = socket(AF_INET, SOCK_STREAM);
    let after: Socket | undefined;
    let made: Socket | undefined;
    const { srv, port } = await server();
    let conn: Socket | undefined;
    try {
      setdefaulttimeout(2.5);
      assert.equal(getdefaulttimeout(), 2.5);
      after = socket(AF_INET, SOCK_STREAM);
      assert.equal(after.gettimeout(), 2.5);
      assert.equal(before.gettimeout(), null);
      [made, [conn]] = await Promise.all([create_connection(["127.0.0.1", port]), srv.accept()]);
      assert.equal(made.gettimeout(), 2.5, "create_connection without a timeout uses the default");
      setdefaulttimeout(0.1);
      const quick = socket(AF_INET, SOCK_STREAM);
      try {
        await quick.connect(["127.0.0.1", port]);
        const [q] = await srv.accept();
        try {
          await rejectsOSError(within(quick.recv(1), 2000, "recv"), TimeoutError, "ETIMEDOUT", "recv");
        } finally {
          await q.close();
        }
      } finally {
        await quick.close();
      }
      assert.throws(() => setdefaulttimeout(-1), RangeError);
      assert.throws(() => setdefaulttimeout("1" as unknown as number), TypeError);
    } finally {
      setdefaulttimeout(null);
      await closeAll(before, after, made, conn, srv);
    }
    assert.equal(getdefaulttimeout(), null);
  });
});

describe("getsockopt and setsockopt", () => {
  test("SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF round-trip at SOL_SOCKET", async () => {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      for (const opt of [SO_REUSEADDR, SO_KEEPALIVE]) {
        assert.equal(s.getsockopt(SOL_SOCKET, opt), 0);
        s.setsockopt(SOL_SOCKET, opt, 1);
        assert.equal(s.getsockopt(SOL_SOCKET, opt), 1);
        s.setsockopt(SOL_SOCKET, opt, false);
        assert.equal(s.getsockopt(SOL_SOCKET, opt), 0);
        s.setsockopt(SOL_SOCKET, opt, true);
        assert.equal(s.getsockopt(SOL_SOCKET, opt), 1);
      }
      for (const opt of [SO_RCVBUF, SO_SNDBUF]) {
        assert.ok((s.getsockopt(SOL_SOCKET, opt) as number) > 0);
        s.setsockopt(SOL_SOCKET, opt, 65536);
        assert.equal(s.getsockopt(SOL_SOCKET, opt), 65536);
      }
      // a 4-byte buffer form, as Python's getsockopt(level, opt, buflen)
      const b = s.getsockopt(SOL_SOCKET, SO_RCVBUF, 4) as Buffer;
      assert.equal(b.readInt32LE(0), 65536);
      const v = Buffer.alloc(4);
      v.writeInt32LE(1);
      s.setsockopt(SOL_SOCKET, SO_REUSEADDR, v);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
    } finally {
      await s.close();
    }
  });

  test("TCP_NODELAY round-trips at IPPROTO_TCP and is inherited by accepted sockets", async () => {
    const srv = socket(AF_INET, SOCK_STREAM);
    const cli = socket(AF_INET, SOCK_STREAM);
    let conn: Socket | undefined;
    try {
      assert.equal(srv.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
      srv.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      assert.equal(srv.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
      srv.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
      await srv.bind(["127.0.0.1", 0]);
      await srv.listen(1);
      cli.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      [, [conn]] = await Promise.all([cli.connect(srv.getsockname()), srv.accept()]);
      assert.equal(conn.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
      assert.equal(conn.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 1);
      // setting it on a connected socket works too
      cli.setsockopt(IPPROTO_TCP, TCP_NODELAY, 0);
      assert.equal(cli.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
    } finally {
      await closeAll(cli, conn, srv);
    }
  });

  test("IPV6_V6ONLY round-trips on AF_INET6 before bind and is refused elsewhere", async () => {
    const s6 = socket(AF_INET6, SOCK_STREAM);
    const s4 = socket(AF_INET, SOCK_STREAM);
    try {
      assert.equal(s6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
      s6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
      assert.equal(s6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
      s6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
      assert.equal(s6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
      assert.throws(() => s4.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1), OSError);
      await s6.bind(["::1", 0]);
      assert.throws(
        () => s6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1),
        (e: unknown) => e instanceof OSError && e.code === "EINVAL",
      );
    } finally {
      await closeAll(s6, s4);
    }
  });

  test('IPV6_V6ONLY is honoured: a v6-only listener on "::" does not accept an IPv4 client; otherwise it does', async () => {
    for (const v6only of [1, 0]) {
      const srv = socket(AF_INET6, SOCK_STREAM);
      const v4 = socket(AF_INET, SOCK_STREAM);
      let conn: Socket | undefined;
      try {
        srv.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, v6only);
        await srv.bind(["::", 0]);
        await srv.listen(1);
        const port = srv.getsockname()[1];
        if (v6only) {
          await rejectsOSError(
            v4.connect(["127.0.0.1", port]),
            ConnectionRefusedError,
            "ECONNREFUSED",
            "connect",
          );
          const accepting = srv.accept();
          accepting.catch(() => {});
          assert.ok(await stillPending(accepting, 50), "nothing to accept");
        } else {
          const [, [c, addr]] = await within(
            Promise.all([v4.connect(["127.0.0.1", port]), srv.accept()]),
            5000,
            "accept IPv4",
          );
          conn = c;
          assert.equal((addr as readonly unknown[])[0], "::ffff:127.0.0.1");
        }
      } finally {
        await closeAll(v4, conn, srv);
      }
    }
  });

  test("SO_ERROR reads 0 on a healthy socket; SO_TYPE reads SOCK_STREAM; both are read-only", async () => {
    const [a, b] = await socketpair(AF_INET);
    const fresh = socket(AF_INET6, SOCK_STREAM);
    try {
      for (const s of [a, b, fresh]) {
        assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 0);
        assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
      }
      assert.throws(() => a.setsockopt(SOL_SOCKET, SO_TYPE, 2), OSError);
      assert.throws(() => a.setsockopt(SOL_SOCKET, SO_ERROR, 0), OSError);
    } finally {
      await closeAll(a, b, fresh);
    }
  });

  // BUG (reported): the textbook non-blocking connect (connect → EINPROGRESS, wait, then
  // getsockopt(SO_ERROR)) reads 0 after a refused connect: the failure is only kept for a second
  // connect() call, so SO_ERROR cannot report ECONNREFUSED (111) as C and Python do.
  test("after a refused non-blocking connect, SO_ERROR reports ECONNREFUSED once, then 0", async () => {
    await using closed = await closedPort();
    const port = closed.port;
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      s.setblocking(false);
      await rejectsOSError(s.connect(["127.0.0.1", port]), BlockingIOError, "EINPROGRESS", "connect");
      // the refused connect makes the socket writable (select reads SO_ERROR without clearing it)
      assert.deepEqual((await within(select([], [s], [], 5), 6000, "select"))[1], [s]);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 111);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 0);
    } finally {
      await s.close();
    }
  });

  test("SO_REUSEPORT is refused with OSError ENOPROTOOPT naming the option", async () => {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      for (const call of [
        () => s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1),
        () => s.getsockopt(SOL_SOCKET, SO_REUSEPORT),
      ]) {
        assert.throws(call, (e: unknown) => {
          assert.ok(e instanceof OSError);
          assert.equal(e.code, "ENOPROTOOPT");
          assert.equal(e.errno, 92);
          assert.match(e.message, /SO_REUSEPORT/);
          return true;
        });
      }
    } finally {
      await s.close();
    }
  });

  test("options on a closed socket reject EBADF", async () => {
    const s = socket(AF_INET, SOCK_STREAM);
    await s.close();
    assert.throws(
      () => s.getsockopt(SOL_SOCKET, SO_TYPE),
      (e: unknown) => e instanceof OSError && e.code === "EBADF",
    );
    assert.throws(
      () => s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1),
      (e: unknown) => e instanceof OSError && e.code === "EBADF",
    );
  });
});

describe("fileno and toString", () => {
  test("fileno() gives small distinct integers from 3, and -1 after close", async () => {
    const socks = [socket(AF_INET, SOCK_STREAM), socket(AF_INET6, SOCK_STREAM), socket(AF_UNIX, SOCK_STREAM)];
    try {
      const fds = socks.map((s) => s.fileno());
      for (const fd of fds) {
        assert.ok(Number.isInteger(fd) && fd >= 3 && fd < 1000, `small descriptor: ${fd}`);
      }
      assert.equal(new Set(fds).size, fds.length, "distinct");
      const first = socks[0]!;
      await first.close();
      assert.equal(first.fileno(), -1);
      await first.close();
      assert.equal(first.fileno(), -1, "close is idempotent");
    } finally {
      await closeAll(...socks);
    }
  });

  test("toString() shows fd, family, type, proto, then laddr/raddr once connected, and [closed]", async () => {
    const { srv, port } = await server();
    const cli = socket(AF_INET, SOCK_STREAM);
    let conn: Socket | undefined;
    try {
      const fd = cli.fileno();
      assert.equal(cli.toString(), `<socket fd=${fd}, family=AF_INET, type=SOCK_STREAM, proto=0>`);
      assert.equal(
        srv.toString(),
        `<socket fd=${srv.fileno()}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=127.0.0.1:${port}>`,
      );
      [, [conn]] = await Promise.all([cli.connect(["127.0.0.1", port]), srv.accept()]);
      const [, lport] = cli.getsockname() as [string, number];
      assert.equal(
        cli.toString(),
        `<socket fd=${fd}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=127.0.0.1:${lport}, raddr=127.0.0.1:${port}>`,
      );
      assert.equal(String(cli), cli.toString());
      await cli.close();
      assert.equal(cli.toString(), "<socket fd=-1, family=AF_INET, type=SOCK_STREAM, proto=0 [closed]>");
      const s6 = socket(AF_INET6, SOCK_STREAM);
      try {
        assert.match(s6.toString(), /^<socket fd=\d+, family=AF_INET6, type=SOCK_STREAM, proto=0>$/);
      } finally {
        await s6.close();
      }
    } finally {
      await closeAll(cli, conn, srv);
    }
  });
});
