/**
 * A child process as a {@link SpliceEnd}: reads are its stdout, writes go to its stdin, and a
 * half-close ends its stdin. `listen --exec`/`--sh-exec` and relay's `exec:` address splice a
 * child with the other side through it.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { toSocketError } from "../../errors/index.js";
import { writeAll } from "../pump.js";
import type { SpliceEnd } from "./splice.js";
import { StdinReader } from "./stdin.js";

/**
 * How a {@link childEnd} behaves at the edges.
 * @example `const o: ChildEndOptions = { discardWhenDeaf: true, killGraceMs: 2000 }`
 */
export interface ChildEndOptions {
  /**
   * Once the child stops reading its stdin (EPIPE), what is still written is discarded (true:
   * the other side may go on sending until its EOF) or the write fails (false).
   */
  readonly discardWhenDeaf: boolean;
  /**
   * A graceful close ends the child's stdin and waits for it to exit: after this long it gets
   * SIGTERM (undefined: wait as long as it takes).
   */
  readonly exitWithinMs?: number | undefined;
  /** After SIGTERM, SIGKILL follows this long later if the child is still there. */
  readonly killGraceMs: number;
}

/**
 * What {@link childEnd} returns: a splice end that also knows the child's exit.
 * @example `await end.exited`
 */
export interface ChildEnd extends SpliceEnd {
  /** Resolves when the child has exited. */
  readonly exited: Promise<void>;
}

/**
 * Wraps a spawned child (stdin and stdout piped) as a splice end. `abort()` kills it (SIGTERM,
 * then SIGKILL after `killGraceMs`) and drops its pipes without waiting for a grandchild that
 * may hold them.
 *
 * @example
 * ```ts
 * const child = spawn("cat", [], { stdio: ["pipe", "pipe", "inherit"] });
 * const end = childEnd(child, "exec cat", { discardWhenDeaf: false, killGraceMs: 2000 });
 * await splice(connEnd(conn, conn.remoteAddress), end);
 * ```
 */
export function childEnd(child: ChildProcess, label: string, opts: ChildEndOptions): ChildEnd {
  const stdin = child.stdin as Writable;
  const r = new StdinReader(child.stdout as Readable);
  let writeError: unknown;
  let deaf = false;
  // EPIPE when the child stops reading: surfaced (or swallowed) by the next write
  stdin.on("error", (e) => (writeError ??= e));
  const timers: NodeJS.Timeout[] = [];
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      for (const t of timers) clearTimeout(t);
      resolve();
    };
    if (gone()) done();
    else child.once("exit", done);
  });
  let killing = false;
  const kill = () => {
    if (gone() || killing) return;
    killing = true;
    child.kill("SIGTERM");
    const hard = setTimeout(() => {
      if (!gone()) child.kill("SIGKILL");
    }, opts.killGraceMs);
    hard.unref();
    timers.push(hard);
  };
  return {
    label,
    abortResets: false,
    datagram: false,
    maxWrite: Number.POSITIVE_INFINITY,
    exited,
    read: () => r.read(),
    write: async (b) => {
      if (deaf) return;
      try {
        if (writeError !== undefined) throw writeError;
        await writeAll(stdin, b);
      } catch (e) {
        if (opts.discardWhenDeaf) {
          deaf = true;
          return;
        }
        throw toSocketError(writeError ?? e, { op: "write", address: label });
      }
    },
    closeWrite: async () => {
      if (!stdin.destroyed) stdin.end();
    },
    close: async () => {
      r.stop();
      if (!stdin.destroyed) stdin.end();
      // the child normally exits at its stdin's EOF; give it a moment, then end it
      if (opts.exitWithinMs !== undefined) {
        const term = setTimeout(kill, opts.exitWithinMs);
        term.unref();
        timers.push(term);
      }
      await exited;
    },
    abort: () => {
      r.stop();
      stdin.destroy();
      kill();
    },
  };
}
