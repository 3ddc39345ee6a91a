/**
 * Convenience reads on stream sockets: recv_exactly/readExactly and readline/readLine.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SHUT_WR } from "../src/bsd/index.js";
import { FrameTooLargeError, UnexpectedEOFError } from "../src/errors/index.js";
import { dial, listen } from "../src/net/index.js";
import { stillPending, within } from "./support/leaks.js";
import { bsdTcpPair } from "./support/kit.js";

test("readline() returns whole lines with their newline, however the bytes were split", async () => {
  const p = await bsdTcpPair({ keepListener: false });
  try {
    const line = p.cli.readline();
    await p.conn.sendall("hel");
    assert.ok(await stillPending(line, 50), "waits for the newline");
    await p.conn.sendall("lo\r\nsecond\nthi");
    assert.equal((await within(line, 2000, "readline")).toString(), "hello\r\n");
    assert.equal((await p.cli.readline()).toString(), "second\n");
    await p.conn.sendall("rd");
    p.conn.shutdown(SHUT_WR);
    assert.equal((await p.cli.readline()).toString(), "third", "at EOF: what is left, without newline");
    assert.equal((await p.cli.readline()).length, 0, "then empty");
  } finally {
    await p.close();
  }
});

test("readline() rejects FrameTooLargeError past max and leaves the bytes to be read", async () => {
  const p = await bsdTcpPair({ keepListener: false });
  try {
    await p.conn.sendall("x".repeat(100));
    await assert.rejects(
      within(p.cli.readline({ max: 64 }), 2000, "readline"),
      (e: unknown) => e instanceof FrameTooLargeError && e.limit === 64 && /raise max/.test(e.message),
    );
    let got = 0;
    while (got < 100) got += (await p.cli.recv(100)).length;
  } finally {
    await p.close();
  }
});

test("readline() reads a line longer than the receive buffer when max allows it", async () => {
  const p = await bsdTcpPair({ keepListener: false });
  try {
    const long = Buffer.alloc(600 * 1024, 0x61);
    const sending = p.conn.sendall(Buffer.concat([long, Buffer.from("\n")]));
    const line = await within(p.cli.readline({ max: 1024 * 1024 }), 5000, "readline");
    await sending;
    assert.equal(line.length, long.length + 1);
  } finally {
    await p.close();
  }
});

test("recv_exactly() gathers n bytes across sends and raises UnexpectedEOFError with the partial bytes", async () => {
  const p = await bsdTcpPair({ keepListener: false });
  try {
    const got = p.cli.recv_exactly(6);
    await p.conn.sendall("abc");
    assert.ok(await stillPending(got, 50));
    await p.conn.sendall("defg");
    assert.equal((await within(got, 2000, "recv_exactly")).toString(), "abcdef");
    p.conn.shutdown(SHUT_WR);
    await assert.rejects(
      p.cli.recv_exactly(4),
      (e: unknown) => e instanceof UnexpectedEOFError && e.partial.toString() === "g" && e.expected === 4,
    );
  } finally {
    await p.close();
  }
});

test("Conn.readLine() yields lines and null at EOF", async () => {
  const ln = await listen("tcp", "127.0.0.1:0");
  const c = await dial("tcp", ln.address);
  const s = await ln.accept();
  try {
    await c.write("one\ntwo\n");
    await c.closeWrite();
    assert.equal((await s.readLine())?.toString(), "one\n");
    assert.equal((await s.readLine())?.toString(), "two\n");
    assert.equal(await s.readLine(), null);
  } finally {
    await c.close();
    await s.close();
    await ln.close();
  }
});
