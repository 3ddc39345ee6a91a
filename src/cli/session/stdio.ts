/**
 * A connection ↔ stdio, the default session of `sockit connect` and `sockit listen`: a
 * {@link splice} between stdio and the connection, with the netcat rules spelled out:
 *
 * - stdin EOF → `shutdown(SHUT_WR)` (the peer reads EOF and can still answer); reading goes on
 *   until the peer closes too. `--no-shutdown` keeps the write side open instead.
 * - the session ends when both directions are done; when stdin is a terminal, the peer's EOF
 *   ends it at once (nobody is going to type an answer to a closed connection).
 * - `-q SECS`: after stdin EOF, wait at most SECS for the peer, then close (exit 0).
 * - `-w SECS` (connect): after stdin EOF, SECS without data from the peer → close (exit 0).
 * - `-i SECS`: no data either way for SECS → TimeoutError (exit 4).
 * - stdout closed under us (EPIPE, e.g. `| head`) ends quietly.
 * - `-v` ends with a summary line (`N bytes sent, M received in S s (RATE)`); `--progress`
 *   shows a bar meanwhile (session/progress.ts).
 *
 * @module
 */
import { TimeoutError } from "../../errors/index.js";
import type { Conn } from "../../net/index.js";
import type { Context } from "../context.js";
import type { Dumper } from "../output/hexdump.js";
import { Meter, progressWanted, stdinSize } from "./progress.js";
import { crlf, writeAll } from "../pump.js";
import { type SpliceEnd, splice } from "./splice.js";
import type { StdinReader } from "./stdin.js";

/**
 * The error for `-i`: `idle: timed out … — no data either way for 5 s (-i 5)`.
 * @example `throw idleError(5000, "127.0.0.1:80")`
 */
export function idleError(ms: number, what: string): TimeoutError {
  return new TimeoutError("ETIMEDOUT", {
    op: "idle",
    address: what,
    hint: `no data either way for ${ms / 1000} s (-i ${ms / 1000}); closing`,
  });
}

/**
 * An idle timer for `-i SECS`: `bump()` on every chunk either way; after `ms` without one,
 * `onIdle` gets a TimeoutError (exit code 4) saying so.
 * @example `const idle = new IdleTimer(5000, (e) => fail(e)); idle.bump(); idle.stop();`
 */
export class IdleTimer {
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(ms: number | undefined, onIdle: (err: TimeoutError) => void, what = "the connection") {
    if (ms === undefined) return;
    this.#timer = setTimeout(() => onIdle(idleError(ms, what)), ms);
  }

  /** Data moved: start counting again. */
  bump(): void {
    this.#timer?.refresh();
  }

  /** Stops the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

/**
 * The end of something with several ways to get there: the first `finish()` wins (no argument:
 * a clean end; an error: it fails with it); later calls are ignored.
 * @example `const end = new Ending(); loop().catch(end.finish); await end.done;`
 */
export class Ending {
  /** Settles on the first {@link finish}. */
  readonly done: Promise<void>;
  /** Ends (cleanly, or with `err`); later calls do nothing. */
  readonly finish: (err?: unknown) => void;
  #settled = false;

  constructor() {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    this.done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.finish = (err?: unknown) => {
      if (this.#settled) return;
      this.#settled = true;
      if (err === undefined) resolve();
      else reject(err);
    };
  }

  /** True once finished. */
  get settled(): boolean {
    return this.#settled;
  }
}

/**
 * This process's stdio as a splice end: reads come from the shared stdin reader, writes go to
 * stdout (a failed write, e.g. EPIPE, ends the session quietly). Closing it leaves stdin alone.
 * @example `await splice(stdioEnd(stdin, ctx), connEnd(conn, conn.remoteAddress))`
 */
export function stdioEnd(stdin: StdinReader, ctx: Context, quietWriteFailure = true): SpliceEnd {
  return {
    label: "stdio",
    abortResets: false,
    datagram: false,
    maxWrite: Number.POSITIVE_INFINITY,
    quietWriteFailure,
    read: () => stdin.read(),
    write: (b) => writeAll(ctx.io.stdout, b),
    closeWrite: async () => {},
    close: async () => {},
    abort: () => {},
  };
}

/**
 * A stream connection (TCP or Unix) as a splice end. `flush`: a graceful close first waits
 * (bounded) for what is still queued to leave.
 * @example `connEnd(conn, conn.remoteAddress)`
 */
export function connEnd(conn: Conn, label: string, flush = false): SpliceEnd {
  const ep = conn.remoteEndpoint;
  return {
    label,
    abortResets: ep === undefined || !("path" in ep),
    datagram: false,
    maxWrite: Number.POSITIVE_INFINITY,
    read: () => conn.read(),
    write: (b) => conn.write(b),
    closeWrite: () => conn.closeWrite(),
    close: (graceful) => (graceful && flush ? conn[Symbol.asyncDispose]() : conn.close()),
    abort: () => conn.abort(),
  };
}

/**
 * How {@link runSession} behaves.
 * @example `const o: SessionOptions = { shutdown: false, lingerMs: 1000, crlf: true }`
 */
export interface SessionOptions {
  /** Half-close (SHUT_WR) at stdin EOF (default true; `--no-shutdown` → false). */
  readonly shutdown?: boolean | undefined;
  /** `-q`: after stdin EOF, wait at most this many ms for the peer to close. */
  readonly lingerMs?: number | undefined;
  /** `-i`: give up (TimeoutError) after this many ms without data either way. */
  readonly idleMs?: number | undefined;
  /**
   * `-w` (connect): after stdin EOF, close (a clean end) once the peer has sent nothing for this
   * many ms — traditional netcat's "timeout for final net reads".
   */
  readonly finalReadMs?: number | undefined;
  /** `--crlf`: LF → CRLF toward the network. */
  readonly crlf?: boolean | undefined;
  /** End as soon as the peer closes its side (default: when stdin is a terminal). */
  readonly endOnPeerEof?: boolean | undefined;
  /** Ends the session quietly (SIGINT, SIGTERM, stdout gone). */
  readonly signal?: AbortSignal | undefined;
  /** The hex dumper for -x. */
  readonly dump?: Dumper | undefined;
  /** The peer as messages name it (default: the connection's remote address). */
  readonly peer?: string | undefined;
  /** `--progress` (true) / `--no-progress` (false); undefined: a bar when stderr is a terminal. */
  readonly progress?: boolean | undefined;
}

/**
 * Connects one connection to stdio until both directions are done (see the module notes);
 * closes the connection. Rejects on a connection error (reset → exit 5) or the idle timeout.
 *
 * @example
 * ```ts
 * const conn = await dial("tcp", "127.0.0.1:7");
 * await runSession(conn, new StdinReader(process.stdin), ctx, { lingerMs: 1000 });
 * ```
 */
export async function runSession(
  conn: Conn,
  stdin: StdinReader,
  ctx: Context,
  opts: SessionOptions = {},
): Promise<void> {
  const peer = opts.peer ?? (conn.remoteAddress || "the peer");
  const endOnPeerEof = opts.endOnPeerEof ?? (ctx.io.stdin as { isTTY?: boolean }).isTTY === true;
  const w = opts.finalReadMs;
  const meter = new Meter(ctx.io.stderr, {
    bar: progressWanted(opts.progress, ctx.io.stderr),
    total: stdinSize(ctx.io.stdin),
    forced: opts.progress === true,
  });
  const r = await splice(stdioEnd(stdin, ctx), connEnd(conn, peer, true), {
    directions: [
      {
        transform: opts.crlf ? crlf() : undefined,
        halfClose: opts.shutdown ?? true,
        endAfterMs: opts.lingerMs,
      },
      { silenceMs: w, endsAll: endOnPeerEof, halfClose: false },
    ],
    idleMs: opts.idleMs,
    idleError: () => idleError(opts.idleMs!, peer),
    signal: opts.signal,
    dump: opts.dump,
    failure: "close",
    events: {
      eof: (dir, fin) => {
        if (dir === 1) ctx.info(`${peer} closed its side (EOF)`);
        else if (fin === true)
          ctx.info(`stdin EOF: sent FIN to ${peer} (shutdown SHUT_WR); reading until it closes`);
        else if (fin === undefined) ctx.info("stdin EOF: keeping the write side open (--no-shutdown)");
      },
      silence: () =>
        ctx.info(`-w ${w! / 1000}: nothing from ${peer} for ${w! / 1000} s after stdin EOF; closing`),
      endAfter: () => ctx.info(`-q: ${opts.lingerMs! / 1000} s after stdin EOF; closing`),
      outputGone: () => ctx.info("stdout closed; stopping"),
      // counted as the splice writes (no wrapper per read and write)
      moved: (dir, n) => (dir === 0 ? meter.sent(n) : meter.received(n)),
    },
  }).finally(() => meter.stop());
  ctx.info(meter.summary());
  if (r.status === "failed") throw r.error;
}
