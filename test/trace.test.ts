/**
 * Every socket call is published on the diagnostics channel; the lab's sequence reads like the
 * textbook diagram.
 */
import assert from "node:assert/strict";
import diagnostics_channel from "node:diagnostics_channel";
import { test } from "node:test";
import { AF_INET, SOCK_STREAM, socket } from "../src/bsd/index.js";
import { dial, listen } from "../src/net/index.js";
import {
  type CallEvent,
  renderCall,
  setTraceSink,
  TRACE_CHANNEL,
  type TraceSink,
  tracing,
} from "../src/trace.js";

function record(): { events: CallEvent[]; stop: () => void } {
  const events: CallEvent[] = [];
  const fn = (ev: unknown) => events.push(ev as CallEvent);
  diagnostics_channel.subscribe(TRACE_CHANNEL, fn);
  return { events, stop: () => diagnostics_channel.unsubscribe(TRACE_CHANNEL, fn) };
}

test("the daytime exchange publishes the textbook call sequence", async () => {
  assert.equal(tracing(), false, "nobody subscribes by default");
  const rec = record();
  assert.equal(tracing(), true);
  try {
    const srv = socket(AF_INET, SOCK_STREAM);
    await srv.bind(["127.0.0.1", 0]);
    await srv.listen(5);
    const cli = socket(AF_INET, SOCK_STREAM);
    const [, [conn]] = await Promise.all([cli.connect(srv.getsockname()), srv.accept()]);
    await conn.sendall(Buffer.from("Sat Nov 21 22:30:00 2026"));
    await cli.recv(1024);
    await cli.sendall(Buffer.from("acknowledgement received from the server"));
    await conn.recv(1024);
    await conn.close();
    await cli.close();
    await srv.close();
    const lines = (fd: number) => rec.events.filter((e) => e.fd === fd).map(renderCall);
    const s = srv.fileno() === -1 ? rec.events[0]!.fd : srv.fileno();
    const srvLines = lines(s);
    assert.equal(srvLines[0], `socket(AF_INET, SOCK_STREAM) = ${s}`);
    assert.equal(srvLines[1], `bind(${s}, ('127.0.0.1', 0)) = 0`);
    assert.equal(srvLines[2], `listen(${s}, 5) = 0`);
    const accept = rec.events.find((e) => e.call === "accept")!;
    const [connFd, peer] = accept.result as [number, [string, number]];
    assert.match(
      renderCall(accept),
      new RegExp(`^accept\\(${s}\\) = ${connFd} \\('127\\.0\\.0\\.1', ${peer[1]}\\)$`),
    );
    assert.equal(srvLines.at(-1), `close(${s}) = 0`);
    assert.deepEqual(lines(connFd), [
      `sendall(${connFd}, b'Sat Nov 21 22:30:00 2026', 24) = 24`,
      `recv(${connFd}, 1024) = 40 b'acknowledgement received from the server'`,
      `close(${connFd}) = 0`,
    ]);
    const cliCalls = rec.events.filter((e) => e.call === "connect" || e.call === "recv").map((e) => e.call);
    assert.deepEqual(cliCalls.slice(0, 1), ["connect"]);
  } finally {
    rec.stop();
  }
  assert.equal(tracing(), false);
});

test("failed calls are published with their error, and the Go-style face is traced too", async () => {
  const rec = record();
  try {
    const ln = await listen("tcp", "127.0.0.1:0");
    const port = ln.port;
    await ln.close();
    await assert.rejects(dial("tcp", `127.0.0.1:${port}`));
    const connect = rec.events.find((e) => e.call === "connect")!;
    assert.equal(connect.error?.code, "ECONNREFUSED");
    assert.match(
      renderCall(connect),
      /^connect\(\d+, \('127\.0\.0\.1', \d+\)\) = -1 ECONNREFUSED \(ConnectionRefusedError\)$/,
    );
    assert.ok(rec.events.some((e) => e.call === "socket"));
  } finally {
    rec.stop();
  }
});

test("recv is published on each of its paths: bytes waiting, waiting for bytes, and a reset", async () => {
  const rec = record();
  const ln = await listen("tcp", "127.0.0.1:0");
  const accepted = ln.accept();
  const cli = await dial("tcp", ln.address);
  const srv = await accepted;
  try {
    // bytes already buffered when recv is called
    await srv.write(Buffer.from("early"));
    await new Promise((r) => setTimeout(r, 50)); // the bytes reach cli's buffer
    assert.equal((await cli.read(100))?.toString(), "early");
    // recv waiting, served by the next chunk
    const waiting = cli.read(100);
    await new Promise((r) => setTimeout(r, 20));
    await srv.write(Buffer.from("later"));
    assert.equal((await waiting)?.toString(), "later");
    // recv waiting, the peer resets: the call fails, and is published with its error
    const failing = cli.read(100);
    await new Promise((r) => setTimeout(r, 20));
    srv.abort();
    await assert.rejects(failing, { code: "ECONNRESET" });
    // a send after the reset fails too, and is published so
    await assert.rejects(cli.write(Buffer.from("lost")));
    const mine = rec.events.filter((e) => e.fd === cli.fd);
    const shown = mine.filter((e) => e.call === "recv" || e.call === "send").map(renderCall);
    assert.deepEqual(shown.slice(0, 2), [
      `recv(${cli.fd}, 100) = 5 b'early'`,
      `recv(${cli.fd}, 100) = 5 b'later'`,
    ]);
    assert.match(shown[2]!, /^recv\(\d+, 100\) = -1 ECONNRESET \(ConnectionResetError\)$/);
    assert.match(shown[3]!, /^send\(\d+, b'lost', 4\) = -1 E\w+ \(\w+Error\)$/);
  } finally {
    rec.stop();
    await cli.close();
    await srv.close();
    await ln.close();
  }
});

test("while the exporter's sink only counts, recv and send are counted on each path; a call that moves nothing or fails is published in full", async () => {
  const counted: string[] = [];
  const calls: CallEvent[] = [];
  let budgetBack = false;
  const sink: TraceSink = {
    call: (ev) => calls.push(ev),
    skipping: true,
    // the budget may come back while a call runs: then it is published after all
    count: (fd, call, bytes) => (budgetBack ? false : (counted.push(`${call} ${fd} ${bytes}`), true)),
  };
  const ln = await listen("tcp", "127.0.0.1:0");
  const accepted = ln.accept();
  const cli = await dial("tcp", ln.address);
  const srv = await accepted;
  setTraceSink(sink);
  try {
    await srv.write(Buffer.from("early")); // send, counted
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await cli.read(100))?.toString(), "early"); // bytes waiting: counted
    const waiting = cli.read(100); // waiting for bytes: counted when they come
    await new Promise((r) => setTimeout(r, 20));
    await srv.write(Buffer.from("later"));
    assert.equal((await waiting)?.toString(), "later");
    assert.deepEqual(counted, [
      `send ${srv.fd} 5`,
      `recv ${cli.fd} 5`,
      `send ${srv.fd} 5`,
      `recv ${cli.fd} 5`,
    ]);
    assert.equal(calls.length, 0, "nothing published while only counting");
    // the budget comes back while a recv waits: it is published in full, arguments and bytes
    const late = cli.read(64);
    budgetBack = true;
    await srv.write(Buffer.from("again"));
    assert.equal((await late)?.toString(), "again");
    assert.deepEqual(calls.map(renderCall), [
      `send(${srv.fd}, b'again', 5) = 5`,
      `recv(${cli.fd}, 64) = 5 b'again'`,
    ]);
    budgetBack = false;
    calls.length = 0;
    // waiting, then the peer resets: the failure is published with its arguments and error
    const failing = cli.read(100);
    await new Promise((r) => setTimeout(r, 20));
    srv.abort();
    await assert.rejects(failing, { code: "ECONNRESET" });
    await assert.rejects(cli.write(Buffer.from("lost")));
    const shown = calls.filter((e) => e.fd === cli.fd).map(renderCall);
    assert.match(shown[0]!, /^recv\(\d+, 100\) = -1 ECONNRESET \(ConnectionResetError\)$/);
    assert.match(shown[1]!, /^send\(\d+, b'lost', 4\) = -1 E\w+ \(\w+Error\)$/);
    assert.equal(counted.length, 4, "a failed call is never only counted");
  } finally {
    setTraceSink(undefined);
    await cli.close();
    await srv.close();
    await ln.close();
  }
});
