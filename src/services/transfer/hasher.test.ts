/**
 * Sha256Worker: SHA-256 on a worker thread over slots of shared memory, as the sender of a large
 * file uses it (checked against node:crypto on the main thread).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OSError } from "../../errors/index.js";
import { Sha256Worker } from "./hasher.js";

const LIMIT = { timeout: 20_000 };
const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

describe("Sha256Worker", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sockit-hasher-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(
    "the digest covers the slots' bytes in the order they were handed over, slots reused",
    LIMIT,
    async () => {
      const h = new Sha256Worker(3, 4096);
      try {
        const pieces = Array.from({ length: 7 }, (_, i) => randomBytes(i === 6 ? 1000 : 4096));
        const hashed: Array<Promise<void>> = [];
        for (const [i, p] of pieces.entries()) {
          const slot = i % h.count;
          await hashed[i - h.count]; // the slot is free again once its bytes are hashed
          p.copy(h.slot(slot));
          hashed.push(h.update(slot, p.length));
        }
        await Promise.all(hashed);
        // a digest on the way does not end the hash
        assert.equal(await h.digest(), sha(...pieces));
        h.slot(0).fill(7, 0, 10);
        await h.update(0, 10);
        assert.equal(await h.digest(), sha(...pieces, Buffer.alloc(10, 7)));
        // reset starts over
        await h.reset();
        assert.equal(await h.digest(), sha());
      } finally {
        await h.close();
      }
    },
  );

  test("reset with a file hashes its first n bytes first (a resumed file)", LIMIT, async () => {
    const file = join(dir, "prefix.bin");
    const body = randomBytes(3 * 1024 * 1024 + 17); // more than one read of the worker
    writeFileSync(file, body);
    const h = new Sha256Worker(1, 1024);
    try {
      const n = body.length - 5;
      await h.reset(file, n);
      assert.equal(await h.digest(), sha(body.subarray(0, n)));
      h.slot(0).set(body.subarray(n));
      await h.update(0, 5);
      assert.equal(await h.digest(), sha(body));
    } finally {
      await h.close();
    }
  });

  test(
    "a prefix file that cannot be read rejects an OSError with its errno; the thread goes on",
    LIMIT,
    async () => {
      const h = new Sha256Worker(1, 16);
      try {
        const missing = join(dir, "missing.bin");
        await assert.rejects(h.reset(missing, 10), (err: unknown) => {
          assert.ok(err instanceof OSError, String(err));
          assert.equal(err.code, "ENOENT");
          return true;
        });
        writeFileSync(join(dir, "short.bin"), Buffer.alloc(4));
        await assert.rejects(h.reset(join(dir, "short.bin"), 10), (err: unknown) => {
          assert.ok(err instanceof OSError && err.code === "EIO", String(err));
          return true;
        });
        await h.reset();
        h.slot(0).write("abc");
        await h.update(0, 3);
        assert.equal(await h.digest(), sha(Buffer.from("abc")));
      } finally {
        await h.close();
      }
    },
  );

  test("close stops the thread: calls after it reject an OSError (EBADF)", LIMIT, async () => {
    const h = new Sha256Worker(1, 16);
    await h.reset();
    await h.close();
    await h.close(); // idempotent
    await assert.rejects(h.digest(), (err: unknown) => err instanceof OSError && err.code === "EBADF");
  });
});
