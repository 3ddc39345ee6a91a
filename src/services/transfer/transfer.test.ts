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

  async function session(files: string[], dst: string, hwm: number) {
    const [a, b] = pipe({ highWaterMark: hwm });
    const [sent, got] = await Promise.all([
      withHashes(await collect(files)).then((e) => send(a, e)),
      receive(b, { dir: dst, idleMs: 0 }),
    ]);
    await a.close();
    await b.close();
    return { sent, got };
  }

  test("property: any set of files arrives byte for byte, whatever the pipe's buffer size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5000 }),
        async (contents, hwm) => {
          const src = fresh();
          const dst = fresh();
          const files = contents.map((c, i) => {
            writeFileSync(join(src, `f${i}`), c);
            return join(src, `f${i}`);
          });
          const { sent, got } = await session(files, dst, hwm);
          assert.deepEqual(
            sent.entries.map((e) => e.status),
            contents.map(() => "delivered"),
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

  test("property: a .part of any length resumes — only the rest is sent when it is the file's start, everything when not", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.nat(),
        fc.boolean(),
        async (c, cut, same) => {
          const src = fresh();
          const dst = fresh();
          writeFileSync(join(src, "f"), c);
          const k = cut % (c.length + 1);
          const prefix = Buffer.from(c.subarray(0, k));
          if (!same && k > 0) prefix[k - 1] = prefix[k - 1]! ^ 0xff; // a .part that is not this file's start
          writeFileSync(join(dst, partName("f")), prefix);
          const { sent } = await session([join(src, "f")], dst, 512);
          const e = sent.entries[0]!;
          const trusted = same || k === 0 ? k : 0;
          assert.deepEqual([e.status, e.from, e.sent], ["delivered", trusted, c.length - trusted]);
          assert.deepEqual(readFileSync(join(dst, "f")), Buffer.from(c));
        },
      ),
      { seed: Number(process.env.FC_SEED ?? 42), numRuns: 100 },
    );
  });
});
