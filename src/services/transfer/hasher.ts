/**
 * SHA-256 on a worker thread for the transfer's data path: the bytes sit in slots of one shared
 * memory block (no copy to or from the worker), the main thread fills a slot (from the file or the
 * socket), asks the worker to hash it, and meanwhile writes the same slot out (to the socket or the
 * file); the slot is filled again only when both are done. The worker hashes the slots in the
 * order they were asked for, so the digest covers exactly the bytes of the slots, in that order.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { makeOSError, type OSError } from "../../errors/index.js";
import type { HashAnswer, HashRequest } from "./hash-worker.js";

/**
 * Files with fewer bytes than this left to move are hashed on the main thread: starting a worker
 * (tens of ms) costs more than it saves.
 */
export const WORKER_MIN_BYTES = 16 << 20;

/**
 * A running SHA-256 on a worker thread over `count` slots of `size` bytes each.
 *
 * @example
 * ```ts
 * const h = new Sha256Worker(4, 1 << 20);
 * const n = await fh.read(h.slot(0), 0, 1 << 20, 0); // fill slot 0
 * const hashed = h.update(0, n.bytesRead); // hashed on the worker…
 * await conn.write(h.slot(0).subarray(0, n.bytesRead)); // …while the same bytes go out
 * await hashed;
 * const hex = await h.digest();
 * await h.close();
 * ```
 */
export class Sha256Worker {
  readonly #worker: Worker;
  readonly #slots: Buffer[] = [];
  readonly #waiting: Array<{ resolve: (a: HashAnswer) => void; reject: (e: OSError) => void }> = [];
  #failed: OSError | undefined;
  #closed = false;

  /** Starts the worker with `count` slots of `size` bytes. */
  constructor(count: number, size: number) {
    const sab = new SharedArrayBuffer(count * size);
    for (let i = 0; i < count; i++) this.#slots.push(Buffer.from(sab, i * size, size));
    this.#worker = new Worker(new URL("./hash-worker.js", import.meta.url), {
      workerData: { sab, slotSize: size },
    });
    this.#worker.on("message", (a: HashAnswer) => this.#waiting.shift()?.resolve(a));
    const fail = (why: string) => {
      this.#failed ??= makeOSError("EIO", { op: "hash", hint: `the hashing thread ${why}` });
      for (const w of this.#waiting.splice(0)) w.reject(this.#failed);
    };
    this.#worker.on("error", (err: Error) => fail(`failed: ${err.message}`));
    this.#worker.on("exit", (code) => fail(`exited (${code})`));
  }

  /** Slot `i`: the bytes to fill, then hand to {@link update}. */
  slot(i: number): Buffer {
    return this.#slots[i]!;
  }

  /** The number of slots. */
  get count(): number {
    return this.#slots.length;
  }

  #ask(m: HashRequest, address?: string): Promise<HashAnswer> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise<HashAnswer>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage(m);
    }).then((a) => {
      if (a.code !== undefined)
        throw makeOSError(a.code, {
          op: "read",
          ...(address === undefined ? {} : { address }),
          hint: a.message ?? "hashing failed",
        });
      return a;
    });
  }

  /** Starts a new hash; with `path`, its first `n` bytes are hashed first (a resumed file). */
  async reset(path?: string, n = 0): Promise<void> {
    await this.#ask(path === undefined || n === 0 ? { op: "reset" } : { op: "reset", path, n }, path);
  }

  /** Adds the first `len` bytes of slot `i`; resolves when they are hashed (the slot is free again). */
  async update(i: number, len: number): Promise<void> {
    await this.#ask({ op: "update", slot: i, len });
  }

  /** The hex digest of what was added since the last reset (the hash can go on). */
  async digest(): Promise<string> {
    return (await this.#ask({ op: "digest" })).hex!;
  }

  /** Stops the worker (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failed ??= makeOSError("EBADF", { op: "hash", hint: "the hashing thread was stopped" });
    await this.#worker.terminate();
  }
}
