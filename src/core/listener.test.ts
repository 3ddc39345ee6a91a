// The stream listener's accept queue on real loopback sockets: the backlog bound and the refused
// count, connections before listen(), a peer that resets while queued, close(), and what a
// listener does when the process runs out of descriptors (a child process under prlimit).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { rejectsOSError } from "../../test/support/errors.js";
import { waitFor } from "../../test/support/kit.js";
import { within } from "../../test/support/leaks.js";
import { ConnectionResetError, OSError } from "../errors/index.js";
import { connectStream } from "./connect-stream.js";
import type { IpEndpoint } from "./endpoint.js";
import { bindStream, type StreamListener } from "./listener.js";
import type { StreamSocket } from "./stream.js";

const LOOP4 = { address: "127.0.0.1", port: 0, family: 4 } as const;

function portOf(s: StreamSocket): number {
  return (s.localEndpoint() as IpEndpoint).port;
}

/**
 * Connects `n` clients one after the other, each seen by the listener before the next. A client
 * the listener resets at once may see the reset before its connect() resolves: it is then an
 * OSError in the list instead of a socket.
 */
async function connectEach(l: StreamListener, n: number): Promise<Array<StreamSocket | OSError>> {
  const out: Array<StreamSocket | OSError> = [];
  for (let i = 0; i < n; i++) {
    const seen = l.pending + l.refused;
    out.push(await connectStream(l.endpoint, { timeout: 5000 }).catch((e: unknown) => e as OSError));
    await waitFor(() => l.pending + l.refused > seen, 5000, `the listener to see client ${i + 1}`);
  }
  return out;
}

/** The connected socket among `clients[i]`, failing the test if its connect failed. */
function sock(c: StreamSocket | OSError | undefined): StreamSocket {
  if (c === undefined || c instanceof OSError) throw new Error(`the client did not connect: ${String(c)}`);
  return c;
}

/** Asserts the client was reset: at connect, or on its first recv. */
async function assertReset(c: StreamSocket | OSError | undefined): Promise<void> {
  if (c instanceof OSError) {
    assert.ok(c instanceof ConnectionResetError, `connect failed with ${c.message}`);
    assert.equal(c.code, "ECONNRESET");
    return;
  }
  await rejectsOSError(
    sock(c).recv(10, undefined, { timeout: 5000 }),
    ConnectionResetError,
    "ECONNRESET",
    "recv",
  );
}

function closeAll(cs: Array<StreamSocket | OSError>): void {
  for (const c of cs) if (!(c instanceof OSError)) c.close();
}

describe("StreamListener accept queue", () => {
  test("at most `backlog` connections wait; the rest are reset and counted, and accept hands out the first ones in order", async () => {
    const l = await bindStream(LOOP4, { backlog: 2 });
    const clients: Array<StreamSocket | OSError> = [];
    try {
      clients.push(...(await connectEach(l, 4)));
      assert.equal(l.pending, 2);
      assert.equal(l.refused, 2);
      for (const c of clients.slice(2)) await assertReset(c);
      const a = await l.accept({ timeout: 5000 });
      const b = await l.accept({ timeout: 5000 });
      try {
        assert.deepEqual(
          [(a.remoteEndpoint() as IpEndpoint).port, (b.remoteEndpoint() as IpEndpoint).port],
          [portOf(sock(clients[0])), portOf(sock(clients[1]))],
        );
        assert.equal(l.accepted, 2);
        assert.equal(l.pending, 0);
        // room again: the next connection waits instead of being reset
        clients.push(...(await connectEach(l, 1)));
        assert.equal(l.pending, 1);
        assert.equal(l.refused, 2);
      } finally {
        a.close();
        b.close();
      }
    } finally {
      closeAll(clients);
      await l.close();
    }
  });

  test("connections that arrive before listen() are reset and counted; accept() before listen() is EINVAL", async () => {
    const l = await bindStream(LOOP4);
    const clients: Array<StreamSocket | OSError> = [];
    try {
      assert.equal(l.listening, false);
      await rejectsOSError(l.accept(), OSError, "EINVAL", "accept");
      clients.push(...(await connectEach(l, 1)));
      assert.equal(l.refused, 1);
      assert.equal(l.pending, 0);
      await assertReset(clients[0]);
      l.listen(1);
      clients.push(...(await connectEach(l, 1)));
      assert.equal(l.pending, 1);
      const c = await l.accept({ timeout: 5000 });
      assert.equal((c.remoteEndpoint() as IpEndpoint).port, portOf(sock(clients[1])));
      c.close();
    } finally {
      closeAll(clients);
      await l.close();
    }
  });

  test("a peer that resets while queued is still handed out, with its address; its data then the reset are read", async () => {
    const l = await bindStream(LOOP4, { backlog: 4 });
    const cli = sock((await connectEach(l, 1))[0]);
    try {
      const peerPort = portOf(cli);
      await cli.send(Buffer.from("x"));
      await cli.flush();
      cli.abort(); // RST while the connection waits in the queue
      const conn = await l.accept({ timeout: 5000 });
      try {
        assert.equal((conn.remoteEndpoint() as IpEndpoint).port, peerPort, "the peer learned on arrival");
        // as the Berkeley face against a Python peer (test/reset.test.ts): the data, then the reset
        assert.equal((await conn.recv(10, undefined, { timeout: 5000 })).toString(), "x");
        await rejectsOSError(
          conn.recv(10, undefined, { timeout: 5000 }),
          ConnectionResetError,
          "ECONNRESET",
          "recv",
        );
      } finally {
        conn.close();
      }
      assert.equal(l.refused, 0, "a reset in the queue is not a refusal");
    } finally {
      cli.close();
      await l.close();
    }
  });

  test("close() rejects a waiting accept with EBADF and resets the queued connections", async () => {
    const l = await bindStream(LOOP4, { backlog: 4 });
    const clients = await connectEach(l, 2);
    const other = await bindStream(LOOP4, { backlog: 1 });
    try {
      const waiting = rejectsOSError(other.accept(), OSError, "EBADF", "accept");
      await other.close();
      await waiting;
      await l.close();
      for (const c of clients) await assertReset(c);
      await rejectsOSError(l.accept(), OSError, "EBADF", "accept");
      assert.throws(
        () => l.listen(1),
        (e) => e instanceof OSError && e.code === "EBADF",
      );
    } finally {
      closeAll(clients);
      await l.close();
      await other.close();
    }
  });
});

/**
 * A child process with at most 64 descriptors: it listens, fills every free descriptor, prints
 * its port, and reports whether accept() was still waiting (not failed) when told "check"; then
 * frees the descriptors and accepts once more.
 */
const EMFILE_CHILD = `
import { openSync, closeSync } from "node:fs";
import { createInterface } from "node:readline";
const { bindStream } = await import(process.argv[1]);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const l = await bindStream({ address: "127.0.0.1", port: 0, family: 4 }, { backlog: 4 });
const fds = [];
let full = false;
try {
  for (let i = 0; i < 4096; i++) fds.push(openSync("/dev/null", "r"));
} catch (e) {
  if (e.code !== "EMFILE") throw e;
  full = true;
}
const say = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
say({ port: l.endpoint.port, full });
let first = "pending";
const accepting = l.accept({ timeout: 10000 }).then(
  (c) => { first = "accepted " + c.remoteEndpoint().port; c.close(); },
  (e) => { first = e.constructor.name + " " + e.code; },
);
await lines.next(); // "check": the parent's first client has been dealt with
say({ first, refused: l.refused, pending: l.pending });
for (const fd of fds.splice(0)) closeSync(fd);
await lines.next(); // "again": the parent's second client is connected
await accepting;
say({ first, refused: l.refused });
await l.close();
`;

test("out of descriptors (prlimit --nofile=64): accept() keeps waiting instead of failing, the listener survives and accepts again once descriptors are back", async () => {
  const listenerUrl = new URL("./listener.js", import.meta.url).href;
  const child = spawn(
    "prlimit",
    ["--nofile=64:64", process.execPath, "--input-type=module", "-e", EMFILE_CHILD, listenerUrl],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = once(child, "exit");
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (what: string): Promise<Record<string, unknown>> =>
    JSON.parse(String((await within(lines.next(), 15_000, what)).value)) as Record<string, unknown>;
  const clients: StreamSocket[] = [];
  try {
    const hello = await next("the child's port");
    assert.equal(hello.full, true, "the child filled its descriptor table");
    const to = { address: "127.0.0.1", port: Number(hello.port), family: 4 } as const;
    // The kernel completes the handshake; the runtime cannot take the connection without a
    // descriptor. Node's libuv then accepts it with a descriptor it keeps in reserve and closes
    // it at once: the client sees the connection end (EOF), and accept() in the child is not
    // failed by it.
    const c1 = await connectStream(to, { timeout: 5000 });
    clients.push(c1);
    assert.equal((await c1.recv(10, undefined, { timeout: 5000 })).length, 0, "dropped: EOF");
    child.stdin!.write("check\n");
    const mid = await next("the child's state while out of descriptors");
    assert.deepEqual(mid, { first: "pending", refused: 0, pending: 0 });
    const c2 = await connectStream(to, { timeout: 5000 });
    clients.push(c2);
    child.stdin!.write("again\n");
    const end = await next("the child's accept once descriptors are back");
    assert.deepEqual(end, { first: `accepted ${portOf(c2)}`, refused: 0 });
    child.stdin!.end();
    const [code] = (await within(exited, 10_000, "the child to exit")) as [number | null];
    assert.equal(code, 0);
  } finally {
    for (const c of clients) c.close();
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
});
