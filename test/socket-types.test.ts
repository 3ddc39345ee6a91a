/**
 * The Berkeley socket's type carries its family and type: what the compiler says an address is
 * (checked by `tsc` when this file builds: the Equal assertions and the `@ts-expect-error` lines,
 * which fail the build if the wrong use were accepted) is what the socket returns at run time on
 * real loopback sockets. And subscribeTrace hands typed events to its subscriber until stopped.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  type CallEvent,
  create_server,
  type Inet6Address,
  type InetAddress,
  isCallEvent,
  type SenderOf,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SockAddr,
  type SockAddrOf,
  Socket,
  socket,
  subscribeTrace,
} from "../src/index.js";

/** True when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `T` is `true`. */
function assertType<T extends true>(): T | void {}

assertType<Equal<SockAddrOf<typeof AF_INET>, InetAddress>>();
assertType<Equal<SockAddrOf<typeof AF_INET6>, Inet6Address>>();
assertType<Equal<SockAddrOf<typeof AF_UNIX>, string>>();
assertType<Equal<SockAddrOf<number>, SockAddr>>();
assertType<Equal<SenderOf<typeof AF_INET, typeof SOCK_DGRAM>, InetAddress>>();
assertType<Equal<SenderOf<typeof AF_INET, typeof SOCK_STREAM>, null>>();

/** Never called: each line must be a compile error, or the build fails (TS2578). */
export function rejectedByTheCompiler(
  v4: Socket<typeof AF_INET, typeof SOCK_STREAM>,
  v6: Socket<typeof AF_INET6, typeof SOCK_DGRAM>,
  unix: Socket<typeof AF_UNIX, typeof SOCK_STREAM>,
): void {
  // @ts-expect-error: an AF_INET socket takes [host, port], not a Unix path
  void v4.connect("/tmp/echo.sock");
  // @ts-expect-error: nor an AF_INET6 4-tuple
  void v4.bind(["::1", 0, 0, 0]);
  // @ts-expect-error: an AF_UNIX socket takes a path, not [host, port]
  void unix.connect(["127.0.0.1", 80]);
  // @ts-expect-error: getsockname() of an AF_UNIX socket is a string, not a tuple
  const [, port]: InetAddress = unix.getsockname();
  // @ts-expect-error: an AF_INET6 port is a number, never a string
  const p6: string = v6.getsockname()[1];
  // @ts-expect-error: socket(AF_INET, …) is not an AF_INET6 socket
  const wrong: Socket<typeof AF_INET6> = socket(AF_INET, SOCK_STREAM);
  void [port, p6, wrong];
}

test("AF_INET stream: getsockname, accept and getpeername are [host, port], typed and at run time", async () => {
  const srv = socket(AF_INET, SOCK_STREAM);
  const cli = socket(AF_INET, SOCK_STREAM);
  let conn: Socket<typeof AF_INET, typeof SOCK_STREAM> | undefined;
  try {
    await srv.bind(["127.0.0.1", 0]);
    await srv.listen(1);
    const [h, p] = srv.getsockname();
    assertType<Equal<typeof p, number>>();
    assert.equal(h, "127.0.0.1");
    assert.equal(typeof p, "number");
    await cli.connect([h, p]); // no cast: the TS2322
    const [c, addr] = await srv.accept();
    conn = c;
    assertType<Equal<typeof addr, InetAddress>>();
    assert.deepEqual(addr, cli.getsockname());
    assert.equal(addr.length, 2);
    assert.deepEqual(conn.getpeername(), cli.getsockname());
    const [data, from] = await Promise.all([cli.recvfrom(10), conn.sendall("hi")]).then(([r]) => r);
    assertType<Equal<typeof from, null>>();
    assert.equal(data.toString(), "hi");
    assert.equal(from, null, "a stream socket's recvfrom gives no address (Python: None)");
  } finally {
    await conn?.close();
    await cli.close();
    await srv.close();
  }
});

test("AF_INET datagram: recvfrom's sender is [host, port], never null, and goes straight to sendto", async () => {
  const srv = socket(AF_INET, SOCK_DGRAM);
  const cli = socket(AF_INET, SOCK_DGRAM);
  try {
    await srv.bind(["127.0.0.1", 0]);
    cli.settimeout(2);
    srv.settimeout(2);
    await cli.sendto("ping", srv.getsockname());
    const [data, addr] = await srv.recvfrom(100);
    assertType<Equal<typeof addr, InetAddress>>();
    await srv.sendto(data, addr); // no cast: the TS2345
    const [reply, from] = await cli.recvfrom(100);
    assert.equal(reply.toString(), "ping");
    assert.deepEqual(from, srv.getsockname());
    assert.deepEqual(addr, ["127.0.0.1", cli.getsockname()[1]]); // cli was bound to 0.0.0.0 by sendto
  } finally {
    await cli.close();
    await srv.close();
  }
});

test("AF_INET6 gives 4-tuples and AF_UNIX paths, as their types say", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-types-"));
  const v6 = socket(AF_INET6, SOCK_STREAM);
  const unix = socket(AF_UNIX, SOCK_STREAM);
  const server6 = await create_server(["::1", 0], { family: AF_INET6 });
  try {
    await v6.bind(["::1", 0]);
    const a6 = v6.getsockname();
    assertType<Equal<typeof a6, Inet6Address>>();
    assert.equal(a6.length, 4);
    assert.equal(a6[0], "::1");
    const [, , flowinfo, scope] = server6.getsockname();
    assertType<Equal<typeof scope, number>>();
    assert.deepEqual([flowinfo, scope], [0, 0]);
    const path = join(dir, "s");
    await unix.bind(path);
    const au = unix.getsockname();
    assertType<Equal<typeof au, string>>();
    assert.equal(au, path);
  } finally {
    await server6.close();
    await unix.close();
    await v6.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a family or type known only at run time gives a plain Socket with the union address", async () => {
  const family: number = Number("2");
  const s = socket(family, SOCK_STREAM);
  const nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  try {
    assertType<Equal<typeof s, Socket>>();
    await s.bind(["127.0.0.1", 0]);
    const a = s.getsockname();
    assertType<Equal<typeof a, SockAddr>>();
    assert.ok(Array.isArray(a) && a.length === 2);
    assert.equal(nb.gettimeout(), 0, "the flag still makes it non-blocking");
    assertType<Equal<ReturnType<typeof nb.getsockname>, InetAddress>>();
  } finally {
    await nb.close();
    await s.close();
  }
});

test("subscribeTrace hands each call to fn as a CallEvent until the returned function stops it", async () => {
  const seen: CallEvent[] = [];
  const stop = subscribeTrace((ev) => {
    assertType<Equal<typeof ev, CallEvent>>();
    seen.push(ev);
  });
  const s = socket(AF_INET, SOCK_STREAM);
  try {
    await s.bind(["127.0.0.1", 0]);
  } finally {
    await s.close();
    stop();
  }
  const fd = seen.find((e) => e.call === "socket")?.result;
  assert.equal(typeof fd, "number", `a socket() event: ${JSON.stringify(seen.map((e) => e.call))}`);
  assert.ok(
    seen.some((e) => e.call === "bind" && e.fd === fd),
    "bind() was published on the same descriptor",
  );
  assert.ok(seen.every(isCallEvent), "every event passes isCallEvent");
  const count = seen.length;
  const after = socket(AF_INET, SOCK_STREAM);
  await after.close();
  assert.equal(seen.length, count, "nothing arrives after stop()");
  stop(); // idempotent
  assert.equal(isCallEvent({ call: "x" }), false);
  assert.equal(isCallEvent(null), false);
  assert.throws(() => subscribeTrace("nope" as never), TypeError);
});
