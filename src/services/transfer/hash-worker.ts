/**
 * The worker thread behind {@link Sha256Worker}: one running SHA-256 fed from the slots of a
 * shared memory block the main thread fills, in the order the requests come. Each request is
 * answered once, in order: `{}` when done, `{ hex }` for a digest, `{ code, message }` on an
 * error (a prefix file that cannot be read).
 *
 * @example `new Worker(new URL("./hash-worker.js", import.meta.url), { workerData: { sab, slotSize } })`
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

/**
 * A request of the main thread: start over (after hashing the first `n` bytes of `path`, when
 * given), add `len` bytes of slot `slot`, or tell the digest so far (the hash goes on).
 * @example `{ op: "update", slot: 2, len: 1048576 }`
 */
export type HashRequest =
  | { readonly op: "reset"; readonly path?: string; readonly n?: number }
  | { readonly op: "update"; readonly slot: number; readonly len: number }
  | { readonly op: "digest" };

/**
 * The answer to one {@link HashRequest}.
 * @example `{ hex: "e3b0c442…" }`
 */
export type HashAnswer = { readonly hex?: string; readonly code?: string; readonly message?: string };

const { sab, slotSize } = workerData as { sab: SharedArrayBuffer; slotSize: number };
const memory = Buffer.from(sab);
let hash: Hash = createHash("sha256");

function hashPrefix(path: string, n: number): void {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(Math.min(n, 1 << 20));
    for (let at = 0; at < n;) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, n - at), at);
      if (got === 0) throw Object.assign(new Error(`${path} is shorter than ${n} bytes`), { code: "EIO" });
      hash.update(buf.subarray(0, got));
      at += got;
    }
  } finally {
    closeSync(fd);
  }
}

parentPort!.on("message", (m: HashRequest) => {
  let answer: HashAnswer = {};
  try {
    if (m.op === "update") hash.update(memory.subarray(m.slot * slotSize, m.slot * slotSize + m.len));
    else if (m.op === "digest") answer = { hex: hash.copy().digest("hex") };
    else {
      hash = createHash("sha256");
      if (m.path !== undefined && m.n !== undefined && m.n > 0) hashPrefix(m.path, m.n);
    }
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    answer = {
      code: typeof e.code === "string" ? e.code : "EIO",
      message: typeof e.message === "string" ? e.message : String(err),
    };
  }
  parentPort!.postMessage(answer);
});
