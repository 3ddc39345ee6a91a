/**
 * send() and receive() as library calls over an in-memory pipe (the protocol logic without
 * sockets; the sockets are exercised end to end in test/cli-transfer.test.ts): random file sets,
 * small pipe buffers, resume from every possible .part length.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { pipe } from "../../../test/support/pipe.js";
import { partName } from "./protocol.js";
import { receive } from "./receiver.js";
import { collect, send, withHashes } from "./sender.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("send() → receive() over a pipe", () => {
  let root: string;
  let n = 0;
  const fresh = () => {
    const d = join(root, String(n++));
    mkdirSync(d);
    return d;
  };
  before(() => {
    root = mkdtempSync(join(tmpdir(), "sockit-transfer-pipe-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /**
   * The three ways a file goes: version 1 (hashed first, `hashFirst`), version 2 with the hash in
   * the header (hashed first), version 2 with the hash after the data (the default).
   */
  const MODES = ["v1", "v2-header", "v2-trailer"] as const;
  type Mode = (typeof MODES)[number];

  async function session(files: string[], dst: string, hwm: number, mode: Mode) {
    const [a, b] = pipe({ highWaterMark: hwm });
    const found = await collect(files);
    const entries = mode === "v2-trailer" ? found : await withHashes(found);
    const [sent, got] = await Promise.all([
      send(a, entries, { hashFirst: mode === "v1" }),
      receive(b, { dir: dst, idleMs: 0 }),
    ]);
    await a.close();
    await b.close();
    return { sent, got };
  }

  test("property: any set of files arrives byte for byte, whatever the pipe's buffer size and the protocol mode (v1, v2 hash first, v2 hash after)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(...MODES),
        async (contents, hwm, mode) => {
          const src = fresh();
          const dst = fresh();
          const files = contents.map((c, i) => {
            writeFileSync(join(src, `f${i}`), c);
            return join(src, `f${i}`);
          });
          const { sent, got } = await session(files, dst, hwm, mode);
          assert.deepEqual(
            sent.entries.map((e) => [e.status, e.sha256]),
            contents.map((c) => ["delivered", sha(c)]),
          );
          assert.deepEqual(
            got.entries.map((e) => [e.status, e.sha256]),
            contents.map((c) => ["saved", sha(c)]),
          );
          contents.forEach((c, i) => assert.deepEqual(readFileSync(join(dst, `f${i}`)), Buffer.from(c)));
        },
      ),
      { seed: Number(process.env.FC_SEED ?? 42), numRuns: 60 },
    );
  });

  test("property: a .part of any length resumes — only the rest is sent when it is the file's start, everything when not; in every protocol mode the hash covers the whole file", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.nat(),
        fc.boolean(),
        fc.constantFrom(...MODES),
        async (c, cut, same, mode) => {
          const src = fresh();
          const dst = fresh();
          writeFileSync(join(src, "f"), c);
          const k = cut % (c.length + 1);
          const prefix = Buffer.from(c.subarray(0, k));
          if (!same && k > 0) prefix[k - 1] = prefix[k - 1]! ^ 0xff; // a .part that is not this file's start
          writeFileSync(join(dst, partName("f")), prefix);
          const { sent } = await session([join(src, "f")], dst, 512, mode);
          const e = sent.entries[0]!;
          const trusted = same || k === 0 ? k : 0;
          // the hash covers the whole file, whichever mode, from wherever it resumed
          assert.deepEqual(
            [e.status, e.from, e.sent, e.sha256],
            ["delivered", trusted, c.length - trusted, sha(c)],
          );
          assert.deepEqual(readFileSync(join(dst, "f")), Buffer.from(c));
        },
      ),
      { seed: Number(process.env.FC_SEED ?? 42), numRuns: 100 },
    );
  });
});
