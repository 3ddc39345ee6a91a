/**
 * Driving `sockit listen` modes in tests: an in-memory Context, a loopback accept loop that
 * builds Client objects as listen.ts does, and readers for connections.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { Context } from "../../src/cli/context.js";
import type { Client, ListenMode } from "../../src/cli/listen/mode.js";
import { type Conn, dial, listen } from "../../src/net/index.js";
import { waitFor } from "./kit.js";
import { within } from "./leaks.js";

/** A Context whose stdout/stderr are collected in memory. */
export function testContext(verbose = true, env: NodeJS.ProcessEnv = process.env) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const ctx = new Context(
    { verbose, hexdump: false, trace: false, json: false, color: "never" },
    { stdin: new PassThrough(), stdout, stderr, env },
  );
  return { ctx, stdout: () => out, stderr: () => err };
}

/** Waits (bounded) until `cond()` holds: the kit's {@link waitFor}, under the name these tests use. */
export function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  return waitFor(cond, ms, what);
}

/** A loopback listener whose accept loop hands every client to `mode`, as listen.ts does. */
export async function serveMode(mode: ListenMode) {
  const ln = await listen("tcp", "127.0.0.1:0");
  let n = 0;
  const tasks = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let served = 0;
  const loop = (async () => {
    for await (const conn of ln) {
      const ep = conn.remoteEndpoint;
      const client: Client = {
        conn,
        id: ++n,
        peer: conn.remoteAddress,
        peerAddress: ep && "address" in ep ? ep.address : "",
        peerPort: ep && "port" in ep ? ep.port : 0,
      };
      const t: Promise<void> = mode.serve(client).then(
        () => {
          served++;
        },
        (err: unknown) => {
          failures.push(err);
        },
      );
      tasks.add(t);
      void t.finally(() => tasks.delete(t));
    }
  })();
  return {
    address: ln.address,
    served: () => served,
    failures,
    idle: () => within(Promise.all([...tasks]), 20_000, "serve() tasks"),
    async close() {
      await ln.close();
      await within(loop, 5000, "accept loop");
      await within(mode.close(), 10_000, "mode.close()");
      await within(Promise.all([...tasks]), 10_000, "serve() tasks after close");
      assert.deepEqual(failures, [], "serve() never rejects");
    },
  };
}

/** Reads everything until EOF. */
export async function readAll(c: Conn): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const b = await c.read();
    if (b === null) return Buffer.concat(parts);
    parts.push(b);
  }
}

/** Reads until EOF or an error (a reset); resolves the byte count. */
export async function readUntilGone(c: Conn): Promise<number> {
  let n = 0;
  try {
    for (;;) {
      const b = await c.read();
      if (b === null) return n;
      n += b.length;
    }
  } catch {
    return n;
  }
}

export const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The next line without its "\n" (bounded wait); null at EOF. */
export async function line(c: Conn, what = "line"): Promise<string | null> {
  const b = await within(c.readLine({ max: 64 * 1024 }), 10_000, what);
  return b === null ? null : b.toString().replace(/\n$/, "");
}

/**
 * Joins a `listen --chat` room: dials, reads the welcome line (`*** welcome to sockit chat, you
 * are guest1. …`) and the `*** in #lobby: …` line after it.
 */
export async function join(address: string): Promise<Conn> {
  const c = await dial("tcp", address);
  const w = await line(c, "welcome");
  assert.match(w ?? "", /^\*\*\* welcome to sockit chat, you are guest\d+\. /);
  assert.match((await line(c, "room")) ?? "", /^\*\*\* in #lobby: /);
  return c;
}

/**
 * A counter a reader advances and a writer waits on: lets a test keep a talker at most a window
 * ahead of its reader, so a reader is never "slow" however the machine schedules the test.
 */
export class Progress {
  #n = 0;
  #waiters: Array<{ at: number; wake: () => void }> = [];

  get value(): number {
    return this.#n;
  }

  /** Adds `k` and wakes the waiters that are now satisfied. */
  advance(k = 1): void {
    this.#n += k;
    const ready = this.#waiters.filter((w) => w.at <= this.#n);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.at > this.#n);
    for (const w of ready) w.wake();
  }

  /** Resolves once the counter is at least `at` (bounded by `ms`). */
  reach(at: number, ms = 20_000): Promise<void> {
    if (this.#n >= at) return Promise.resolve();
    return within(new Promise<void>((wake) => this.#waiters.push({ at, wake })), ms, `progress to ${at}`);
  }
}
