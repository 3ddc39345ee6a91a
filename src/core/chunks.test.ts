import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ChunkQueue } from "./chunks.js";

/** The queue with its protected calls opened for the test. */
class Q extends ChunkQueue {
  push(b: Buffer): void {
    this.pushChunk(b);
  }
  take(n: number, peek = false): Buffer {
    return this.takeBytes(n, peek);
  }
  find(byte: number, from: number, limit: number): number {
    return this.findByte(byte, from, limit);
  }
  clear(): void {
    this.clearChunks();
  }
}

test("takes across chunk boundaries, peeks without consuming, and counts what is queued", () => {
  const q = new Q();
  q.push(Buffer.from("hel"));
  q.push(Buffer.from("lo wor"));
  q.push(Buffer.from("ld"));
  assert.equal(q.bufferedBytes, 11);
  assert.equal(q.take(5, true).toString(), "hello");
  assert.equal(q.bufferedBytes, 11);
  assert.equal(q.take(5).toString(), "hello");
  assert.equal(q.find(0x64 /* d */, 0, 100), 5);
  assert.equal(q.find(0x64, 0, 5), -1, "below the limit only");
  assert.equal(q.take(100).toString(), " world", "everything queued, copied once across chunks");
  assert.equal(q.bufferedBytes, 0);
  q.push(Buffer.from("x"));
  q.clear();
  assert.equal(q.bufferedBytes, 0);
  assert.equal(q.find(0x78, 0, 10), -1);
});

test("property: any chunking and any read sizes give back the bytes in order, none lost or doubled", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 30 }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 64 }), fc.boolean()), { minLength: 1, maxLength: 60 }),
      (chunks, reads) => {
        const q = new Q();
        const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        for (const c of chunks) q.push(Buffer.from(c));
        const out: Buffer[] = [];
        let r = 0;
        while (q.bufferedBytes > 0) {
          const [n, peek] = reads[r++ % reads.length]!;
          const before = q.bufferedBytes;
          const got = q.take(n, peek);
          assert.ok(got.length >= 1 && got.length <= n);
          const offset = all.length - before;
          assert.deepEqual(got, all.subarray(offset, offset + got.length));
          if (peek) {
            // a peek leaves the bytes: the next take (not a peek) gets the same ones
            assert.equal(q.bufferedBytes, before);
            assert.deepEqual(q.take(n), got);
          }
          out.push(got);
          // the first newline-like byte found is where the data has it
          const at = q.find(0x0a, 0, 1 << 20);
          const want = all.subarray(all.length - q.bufferedBytes).indexOf(0x0a);
          assert.equal(at, want);
        }
        assert.deepEqual(Buffer.concat(out), all);
      },
    ),
    { numRuns: 300 },
  );
});
