import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SendQueue } from "./send-queue.js";

/** A connection whose writes complete only when the test says so. */
function fakeConn() {
  const written: string[] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  return {
    written,
    pending,
    conn: {
      write(b: Uint8Array | string): Promise<number> {
        written.push(Buffer.from(b).toString());
        return new Promise<number>((resolve, reject) => {
          pending.push({ resolve: () => resolve(b.length), reject });
        });
      },
    },
    /** Completes the oldest pending write. */
    async complete(): Promise<void> {
      pending.shift()!.resolve();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe("SendQueue", () => {
  test("writes items in order, one write at a time, joining what queued up meanwhile", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 100);
    assert.ok(q.push(Buffer.from("a")));
    assert.ok(q.push(Buffer.from("b")));
    assert.ok(q.push(Buffer.from("c")));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(f.written, ["a"]);
    assert.equal(q.queued, 3);
    await f.complete();
    assert.deepEqual(f.written, ["a", "bc"]);
    assert.equal(q.queued, 2);
    await f.complete();
    assert.deepEqual(f.written, ["a", "bc"]);
    assert.equal(q.queued, 0);
    await q.end();
  });

  test("joined writes stay at most 64 KiB (a bigger item goes alone)", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 1 << 20);
    q.push(Buffer.from("x"));
    for (let i = 0; i < 3; i++) q.push(Buffer.alloc(30 * 1024, "y"));
    q.push(Buffer.alloc(100 * 1024, "z"));
    q.push(Buffer.from("w"));
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await f.complete();
    await q.end();
    assert.deepEqual(
      f.written.map((w) => w.length),
      [1, 60 * 1024, 30 * 1024, 100 * 1024, 1],
    );
  });

  test("counts bytes until their write resolves and refuses what would pass the bound", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 10);
    assert.ok(q.push(Buffer.alloc(6)));
    assert.ok(q.push(Buffer.alloc(4)));
    assert.equal(q.queued, 10);
    assert.equal(q.push(Buffer.alloc(1)), false, "over the bound");
    assert.equal(q.queued, 10, "a refused push queues nothing");
    await f.complete(); // the 6 bytes reached the kernel
    assert.equal(q.queued, 4);
    assert.ok(q.push(Buffer.alloc(6)));
    assert.equal(q.peak, 10);
    await f.complete();
    await f.complete();
    await q.end();
  });

  test("an item larger than the bound is taken when the queue is empty (never stuck)", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 4);
    assert.ok(q.push(Buffer.alloc(100)));
    assert.equal(q.push(Buffer.alloc(1)), false);
    await f.complete();
    await q.end();
    assert.equal(q.queued, 0);
  });

  test("a failed write stops the queue, keeps the error, and end() resolves", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 100);
    q.push(Buffer.from("a"));
    q.push(Buffer.from("b"));
    await new Promise((r) => setImmediate(r));
    f.pending.shift()!.reject(new Error("EPIPE"));
    await q.end();
    assert.equal((q.error as Error).message, "EPIPE");
    assert.equal(q.push(Buffer.from("c")), false);
    assert.deepEqual(f.written, ["a"]);
  });

  test("stop() releases queued bytes and refuses more", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 100);
    q.push(Buffer.from("a"));
    q.push(Buffer.from("b"));
    q.stop();
    assert.equal(q.queued, 0);
    assert.equal(q.push(Buffer.from("c")), false);
    await f.complete();
    await q.end();
    assert.deepEqual(f.written, ["a"]);
  });

  test("rejects a bound below one byte", () => {
    assert.throws(() => new SendQueue(fakeConn().conn, 0), RangeError);
  });

  test("empty pushes are accepted and write nothing", async () => {
    const f = fakeConn();
    const q = new SendQueue(f.conn, 1);
    assert.ok(q.push(Buffer.alloc(0)));
    await q.end();
    assert.deepEqual(f.written, []);
  });

  test("strings go out as latin1 bytes, joined with buffers in one write", async () => {
    const f = fakeConn();
    const seen: Buffer[] = [];
    const q = new SendQueue(
      {
        write: (b: Uint8Array | string) => {
          seen.push(Buffer.from(b));
          return f.conn.write(b);
        },
      },
      100,
    );
    q.push("a");
    q.push("\u00e9t\u00e9\r\n");
    q.push(Buffer.from([0xff]));
    assert.equal(q.queued, 7, "a string counts one byte per char");
    await new Promise((r) => setImmediate(r));
    await f.complete();
    await f.complete();
    await q.end();
    assert.deepEqual(
      seen.map((b) => [...b]),
      [[0x61], [0xe9, 0x74, 0xe9, 0x0d, 0x0a, 0xff]],
    );
  });

  test("onError is told once when a write fails, and stopped turns true", async () => {
    const f = fakeConn();
    const errors: unknown[] = [];
    const q = new SendQueue(f.conn, 100, { onError: (e) => errors.push(e) });
    q.push("a");
    q.push("b");
    assert.equal(q.stopped, false);
    await new Promise((r) => setImmediate(r));
    f.pending.shift()!.reject(new Error("ECONNRESET"));
    await q.end();
    assert.equal(q.stopped, true);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ["ECONNRESET"],
    );
    assert.equal(q.push("c"), false, "a stopped queue takes nothing");
  });

  test("rejects a coalescing size below one byte", () => {
    assert.throws(() => new SendQueue(fakeConn().conn, 10, { coalesceBytes: 0 }), RangeError);
  });
});
