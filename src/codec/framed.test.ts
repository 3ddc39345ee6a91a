/**
 * framed() over a real loopback connection (sockit's Go face), over the test kit's in-memory
 * `pipe()` (a ConnLike with a socket's backpressure, FIN and close, for the protocol logic) and
 * over a scripted in-memory stream (to count reads).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { within } from "../../test/support/leaks.js";
import { tcpPair } from "../../test/support/kit.js";
import { pipe } from "../../test/support/pipe.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import { type ByteStream, framed } from "./framed.js";
import { jsonStream } from "./json-stream.js";
import { lengthPrefixed } from "./length-prefixed.js";
import { lines } from "./lines.js";
import { ndjson } from "./ndjson.js";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** An in-memory ByteStream that hands out `chunks` one per read and counts the reads. */
function memory(chunks: Buffer[]): ByteStream & { reads: number; written: Buffer[] } {
  const s = {
    reads: 0,
    written: [] as Buffer[],
    read: async () => {
      s.reads++;
      return chunks.shift() ?? null;
    },
    write: async (d: Uint8Array) => {
      s.written.push(Buffer.from(d));
      return d.length;
    },
  };
  return s;
}

describe("framed()", () => {
  test("lines sent with send() arrive one by one on the other side; EOF ends the loop", async () => {
    const p = await tcpPair();
    try {
      const codec = lines({ maxLine: 1024 });
      const tx = framed(p.cli, codec);
      const rx = framed(p.srv, codec);
      const got = collect(rx);
      for (const l of ["HELO", "", "é ünïcode", "x".repeat(1024)]) await tx.send(l);
      await tx.closeWrite();
      assert.deepEqual(await within(got, 5000, "iteration"), ["HELO", "", "é ünïcode", "x".repeat(1024)]);
      assert.equal(await rx.read(), undefined, "EOF stays EOF");
    } finally {
      await p.close();
    }
  });

  test("JSON values both ways: request/response with read()", async () => {
    const [cli, srv] = pipe();
    try {
      const client = framed(cli, ndjson<{ id: number; result?: number }>({ maxFrame: 4096 }));
      const server = framed(srv, jsonStream<{ id: number }>({ maxFrame: 4096 }));
      const serve = (async () => {
        for await (const req of server)
          await server.send({ id: req.id, result: req.id * 2 } as { id: number });
      })();
      for (let id = 1; id <= 50; id++) {
        await client.send({ id });
        assert.deepEqual(await within(client.read(), 2000, "reply"), { id, result: id * 2 });
      }
      await client.closeWrite();
      await within(serve, 2000, "server loop");
    } finally {
      await cli.close();
      await srv.close();
    }
  });

  test("many frames in one chunk are yielded one at a time, reading only when empty", async () => {
    const wire = Buffer.concat(
      [1, 2, 3].map((n) =>
        lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 9 }).encode(Buffer.from([n])),
      ),
    );
    const s = memory([wire]);
    const f = framed(s, lengthPrefixed({ headerBytes: 1, endian: "big", maxFrame: 9 }));
    assert.deepEqual(await f.read(), Buffer.from([1]));
    assert.equal(s.reads, 1);
    assert.deepEqual(await f.read(), Buffer.from([2]));
    assert.deepEqual(await f.read(), Buffer.from([3]));
    assert.equal(s.reads, 1, "queued frames need no read");
    assert.equal(await f.read(), undefined);
    assert.equal(s.reads, 2);
  });

  test("concurrent read() calls are served in order", async () => {
    const s = memory([Buffer.from("a\nb"), Buffer.from("\nc\n")]);
    const f = framed(s, lines({ maxLine: 9 }));
    assert.deepEqual(await Promise.all([f.read(), f.read(), f.read(), f.read()]), ["a", "b", "c", undefined]);
  });

  test("a partial frame at EOF rejects the iteration with TruncatedFrameError", async () => {
    const f = framed(memory([Buffer.from("ok\npart")]), lines({ maxLine: 9 }));
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const l of f) got.push(l);
    }, TruncatedFrameError);
    assert.deepEqual(got, ["ok"]);
    await assert.rejects(f.read(), TruncatedFrameError, "the error sticks");
  });

  test("a hostile peer's endless line rejects the iteration with FrameTooLargeError; nothing crashes", async () => {
    // 16 KiB in flight at most: the flood waits on the reader as it would on a full socket
    const [cli, srv] = pipe({ highWaterMark: 16 * 1024 });
    try {
      const rx = framed(srv, lines({ maxLine: 4096 }));
      let written = 0;
      const flood = (async () => {
        try {
          for (let i = 0; i < 64; i++) written += await cli.write(Buffer.alloc(16 * 1024, 0x41));
        } catch {
          // the server closes first: EPIPE
        }
      })();
      await within(
        assert.rejects(collect(rx), (e: unknown) => e instanceof FrameTooLargeError && e.limit === 4096),
        5000,
        "rejection",
      );
      assert.ok(rx.buffered <= 4097);
      await srv.close();
      await within(flood, 5000, "flood ends");
      assert.ok(written < 64 * 16 * 1024, `the flood was stopped, not swallowed: ${written} bytes`);
    } finally {
      await cli.close();
      await srv.close();
    }
  });

  test("garbage from the peer rejects with MalformedFrameError after the good frames", async () => {
    const [cli, srv] = pipe();
    try {
      const rx = framed(srv, jsonStream({ maxFrame: 1024 }));
      await cli.write(Buffer.from('{"ok":true} ] {"never":1}'));
      assert.deepEqual(await within(rx.read(), 2000, "first value"), { ok: true });
      await within(assert.rejects(rx.read(), MalformedFrameError), 2000, "rejection");
    } finally {
      await cli.close();
      await srv.close();
    }
  });

  test("reading pauses while the consumer does not pull", async () => {
    const s = memory(Array.from({ length: 100 }, () => Buffer.from("x\n")));
    const f = framed(s, lines({ maxLine: 9 }));
    for await (const _ of f) break;
    await sleep(20); // the scenario: 20 ms later still no read ahead
    assert.equal(s.reads, 1, "one read for one frame; nothing read ahead");
  });

  test("send() refuses frames the codec cannot encode, before writing", async () => {
    const s = memory([]);
    const f = framed(s, lines({ maxLine: 4 }));
    await assert.rejects(f.send("a\nb"), MalformedFrameError);
    await assert.rejects(f.send("abcde"), FrameTooLargeError);
    await f.send("ab");
    assert.deepEqual(s.written, [Buffer.from("ab\n")]);
    await assert.rejects(f.closeWrite(), TypeError, "memory stream has no closeWrite");
    assert.throws(() => framed({} as ByteStream, lines({ maxLine: 4 })), TypeError);
  });
});
